"""The structural key of a subgraph.

The signature is canonical text: the target, device capability and the versions that change
what a kernel means; each input's shape, stride, dtype and device type; each op with its
non-tensor arguments (values, dtypes, layouts) and its operands by position; the outputs. Node
names and object ids never enter it. The key is the SHA-256 of that text.
"""
from __future__ import annotations

import hashlib
import math
from typing import Any

import torch

from ..records import TensorSpec
from .partition import op_name
from .subgraph import Subgraph


def spec_text(spec: TensorSpec) -> str:
    shape = ",".join(map(str, spec.shape))
    stride = ",".join(map(str, spec.stride))
    return f"{spec.dtype}[{shape}] stride({stride}) {spec.device}"


def value_text(v: Any, names: dict[torch.fx.Node, str]) -> str:
    """Canonical text of one argument; `names` maps nodes to positional names (in0, v3)."""
    if isinstance(v, torch.fx.Node):
        return names[v]
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else f"float('{v}')"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(value_text(x, names) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner}{',' if len(v) == 1 else ''})"
    if isinstance(v, torch.dtype):
        return str(v)
    if isinstance(v, torch.device):
        return f"torch.device('{v.type}')"
    if isinstance(v, (torch.layout, torch.memory_format)):
        return str(v)
    if isinstance(v, str):
        return repr(v)
    raise TypeError(f"argument of type {type(v).__name__} has no canonical form")


def local_names(sub: Subgraph) -> dict[torch.fx.Node, str]:
    names = {n: f"in{i}" for i, n in enumerate(sub.inputs)}
    names.update({n: f"v{i}" for i, n in enumerate(sub.nodes)})
    return names


def signature(sub: Subgraph, target: str, capability: str, versions: dict[str, str]) -> str:
    names = local_names(sub)
    vers = ",".join(f"{k}{v}" for k, v in sorted(versions.items()))
    lines = [f"target {target} {capability} {vers}"]
    lines += [f"{names[n]}: {spec_text(s)}" for n, s in zip(sub.inputs, sub.input_specs)]
    for n in sub.nodes:
        args = [value_text(a, names) for a in n.args]
        args += [f"{k}={value_text(v, names)}" for k, v in sorted(n.kwargs.items())]
        lines.append(f"{names[n]} = {op_name(n.target)}({', '.join(args)})")
    lines += [f"out{i}: {names[n]} {spec_text(s)}" for i, (n, s) in enumerate(zip(sub.outputs, sub.output_specs))]
    return "\n".join(lines)


def key_of(signature_text: str) -> str:
    return hashlib.sha256(signature_text.encode()).hexdigest()
