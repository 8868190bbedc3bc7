"""The keys of a subgraph.

The signature is canonical text: the target, device capability and the versions that change
what a kernel means; each input's shape, stride, dtype and device type; each op with its
non-tensor arguments (values, dtypes, layouts) and its operands by position; the outputs. Node
names and object ids never enter it. Its SHA-256 is the concrete-shape key. In a dynamic graph
it is printed at one assignment of the sizes (`values`), so it equals the text a static graph of
those sizes prints; with `values=None` it is printed symbolically (`d0*d1`).

The structural signature (`structural_signature`) is the same text without sizes: each input's
dims become classes of equal sizes (A, B, ...; 0 and 1 stay, since broadcasting depends on
them), strides become their order and density, every size-typed op argument (SymInt in the op's
schema: view sizes, slice bounds) becomes `?`, and outputs keep dtype and rank. Its hash is the
structural key: a kernel found at one size is looked up by it at every other size, and proven
there before it runs (backend.py).
"""
from __future__ import annotations

import hashlib
import math
from typing import Any

import torch

from ..records import TensorSpec
from .partition import op_name
from .subgraph import Subgraph

STRUCTURE_VERSION = "structure 1"


def spec_text(spec: TensorSpec) -> str:
    shape = ",".join(map(str, spec.shape))
    stride = ",".join(map(str, spec.stride))
    return f"{spec.dtype}[{shape}] stride({stride}) {spec.device}"


def value_text(v: Any, names: dict[torch.fx.Node, str], sym=None) -> str:
    """Canonical text of one argument; `names` maps nodes to positional names (in0, v3), and
    `sym(v)` prints a size (a SymInt node's value) when the subgraph has symbolic sizes."""
    if isinstance(v, torch.fx.Node):
        if v in names:
            return names[v]
        if sym is not None and isinstance(v.meta.get("val"), torch.SymInt):
            return sym(v.meta["val"])
        raise KeyError(f"{v.name} is not an input of the subgraph")
    if isinstance(v, torch.SymInt):
        if sym is None:
            raise TypeError("a symbolic size outside a dynamic subgraph")
        return sym(v)
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else f"float('{v}')"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(value_text(x, names, sym) for x in v)
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


def header(target: str, capability: str, versions: dict[str, str]) -> str:
    vers = ",".join(f"{k}{v}" for k, v in sorted(versions.items()))
    return f"target {target} {capability} {vers}"


def signature(sub: Subgraph, target: str, capability: str, versions: dict[str, str],
              values: dict[str, int] | None = ..., resize=None) -> str:
    """The concrete text at `values` (the example sizes by default); symbolic with None.
    `resize(int) -> int`, for a static subgraph, maps its sizes (dims, strides and size-typed
    arguments) to others: a draft of the same computation at other sizes (see other_sizes)."""
    if values is ...:
        values = sub.sizes.hints
    names = local_names(sub)

    def sym(v):
        if resize is not None and not isinstance(v, torch.SymInt):
            return str(resize(int(v)))
        return sub.sizes.text(v, values)

    def tensor_text(t: torch.Tensor) -> str:
        shape = ",".join(sym(s) for s in t.shape)
        stride = ",".join(sym(s) for s in t.stride())
        return f"{str(t.dtype).removeprefix('torch.')}[{shape}] stride({stride}) {t.device.type}"

    lines = [header(target, capability, versions)]
    lines += [f"{names[n]}: {tensor_text(n.meta['val'])}" for n in sub.inputs]
    for n in sub.nodes:
        sized = _size_args(n)

        def arg(v, is_size: bool) -> str:
            if is_size and resize is not None:
                return _resized(v, names, resize)
            return value_text(v, names, sym)

        args = [arg(a, i in sized) for i, a in enumerate(n.args)]
        args += [f"{k}={arg(v, k in sized)}" for k, v in sorted(n.kwargs.items())]
        lines.append(f"{names[n]} = {op_name(n.target)}({', '.join(args)})")
    lines += [f"out{i}: {names[n]} {tensor_text(n.meta['val'])}" for i, n in enumerate(sub.outputs)]
    return "\n".join(lines)


def _size_args(n: torch.fx.Node) -> set:
    """Positions and keyword names of `n`'s size-typed (SymInt) arguments."""
    schema = getattr(n.target, "_schema", None)
    if schema is None:
        return set()
    out = set()
    for i, a in enumerate(schema.arguments):
        if _is_size_type(getattr(a, "real_type", a.type)):
            out.update((i, a.name))
    return out


def _resized(v, names, resize) -> str:
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_resized(x, names, resize) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner}{',' if len(v) == 1 else ''})"
    if isinstance(v, int) and not isinstance(v, bool):
        return repr(resize(v))
    return value_text(v, names)


def structural_signature(sub: Subgraph, target: str, capability: str, versions: dict[str, str]) -> str:
    names = local_names(sub)
    classes: dict[str, str] = {}

    def dim_class(s) -> str:
        text = sub.sizes.text(s, None)
        if text in ("0", "1"):
            return text
        if text not in classes:
            classes[text] = _letters(len(classes))
        return classes[text]

    lines = [f"{header(target, capability, versions)} {STRUCTURE_VERSION}"]
    for n, spec in zip(sub.inputs, sub.input_specs):
        t = n.meta["val"]
        dims = ",".join(dim_class(s) for s in t.shape)
        lines.append(f"{names[n]}: {spec.dtype}[{dims}] {stride_pattern(spec)} {spec.device}")
    for n in sub.nodes:
        sized = _size_args(n)

        def arg(v, is_size: bool) -> str:
            return _shapeless(v, names) if is_size else value_text(v, names, lambda _: "?")

        args = [arg(a, i in sized) for i, a in enumerate(n.args)]
        args += [f"{k}={arg(v, k in sized)}" for k, v in sorted(n.kwargs.items())]
        lines.append(f"{names[n]} = {op_name(n.target)}({', '.join(args)})")
    for i, (n, spec) in enumerate(zip(sub.outputs, sub.output_specs)):
        lines.append(f"out{i}: {names[n]} {spec.dtype} rank{len(spec.shape)} {stride_pattern(spec)}")
    return "\n".join(lines)


def _is_size_type(t) -> bool:
    """SymInt, SymInt[], SymInt?: an argument that holds sizes (`str(t)` prints them as int)."""
    if isinstance(t, torch.SymIntType):
        return True
    element = getattr(t, "getElementType", None)
    return element is not None and _is_size_type(element())


def _shapeless(v, names) -> str:
    """A size-typed argument without its values: `[?, ?]` for a view's sizes."""
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_shapeless(x, names) for x in v)
        return f"[{inner}]"
    if isinstance(v, torch.fx.Node) and v in names:
        return names[v]
    return "?"


def stride_pattern(spec: TensorSpec) -> str:
    """How a tensor is laid out, without its sizes: 'dense' for row-major, else the dims in order
    of decreasing stride ('order(1,0)' for a transpose), '+gaps' if not dense in that order and
    'b<i>' for a broadcast (stride-0) dim."""
    dims = [i for i, s in enumerate(spec.shape) if s != 1]
    bcast = [i for i in dims if spec.stride[i] == 0]
    live = sorted((i for i in dims if spec.stride[i] != 0), key=lambda i: (-spec.stride[i], i))
    dense, expect = True, 1
    for i in reversed(live):
        dense &= spec.stride[i] == expect
        expect *= spec.shape[i]
    text = "dense" if live == sorted(live) and dense else f"order({','.join(map(str, live))})" + ("" if dense else "+gaps")
    return text + "".join(f" b{i}" for i in bcast)


def _letters(k: int) -> str:
    out = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(65 + r) + out
    return out


def key_of(signature_text: str) -> str:
    return hashlib.sha256(signature_text.encode()).hexdigest()
