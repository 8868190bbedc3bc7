"""Render a subgraph as a self-contained KernelBench-style reference module, and build the
Problem record that the agent and the evaluator work from.

The rendered module is what the LLM reads and what verification runs as eager ground truth,
so it calls exactly the aten overloads of the graph, in order, with the same arguments.
"""
from __future__ import annotations

import torch

from ..records import Problem, TensorSpec
from .partition import op_name
from .record import parse_header, rebuild
from .signature import key_of, local_names, signature, structural_signature, value_text
from .subgraph import Subgraph

aten = torch.ops.aten

HEADER = '''"""Reference for one subgraph ({n_ops} ops). Inputs: {inputs}."""
import operator

import torch

aten = torch.ops.aten

'''


def render_reference(sub: Subgraph) -> str:
    names = local_names(sub)
    params = ", ".join(names[n] for n in sub.inputs)
    body = []
    for n in sub.nodes:
        call = op_call(n.target)
        args = [value_text(a, names) for a in n.args]
        args += [f"{k}={value_text(v, names)}" for k, v in sorted(n.kwargs.items())]
        body.append(f"        {names[n]} = {call}({', '.join(args)})")
    outs = [names[n] for n in sub.outputs]
    ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ",)"
    inputs_doc = "; ".join(f"{names[n]} {s.dtype}{list(s.shape)}" for n, s in zip(sub.inputs, sub.input_specs))
    lines = [
        HEADER.format(n_ops=len(sub.nodes), inputs=inputs_doc),
        "class Model(torch.nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        "",
        f"    def forward(self, {params}):",
        *body,
        f"        return {ret}",
        "",
        "",
        "def get_inputs():",
        "    return [" + ", ".join(input_expr(s) for s in sub.input_specs) + "]",
        "",
        "",
        "def get_init_inputs():",
        "    return []",
        "",
    ]
    return "\n".join(lines)


def op_call(target) -> str:
    name = op_name(target)
    if name == "getitem":
        return "operator.getitem"
    ns, rest = name.split(".", 1)
    return f"torch.ops.{ns}.{rest}" if ns != "aten" else f"aten.{rest}"


def input_expr(spec: TensorSpec) -> str:
    dtype = f"torch.{spec.dtype}"
    if _is_contiguous(spec):
        shape = ", ".join(map(str, spec.shape))
        if spec.dtype in ("float32", "float16", "bfloat16", "float64"):
            return f"torch.randn(({shape}{',' if len(spec.shape) == 1 else ''}), dtype={dtype}, device='{spec.device}')"
        return f"torch.randint(-8, 8, ({shape}{',' if len(spec.shape) == 1 else ''}), dtype={dtype}, device='{spec.device}')"
    fill = "normal_()" if spec.dtype.startswith(("float", "bfloat")) else "random_(-8, 8)"
    return f"torch.empty_strided({list(spec.shape)}, {list(spec.stride)}, dtype={dtype}, device='{spec.device}').{fill}"


def _is_contiguous(spec: TensorSpec) -> bool:
    expected, acc = [], 1
    for s in reversed(spec.shape):
        expected.append(acc)
        acc *= max(s, 1)
    return all(sz == 1 or st == e for sz, st, e in zip(spec.shape, spec.stride, reversed(expected)))


_ELEM_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1, "uint8": 1,
               "int32": 4, "int64": 8, "bool": 1, "int16": 2}


def nbytes(spec: TensorSpec) -> int:
    return spec.numel * _ELEM_BYTES.get(spec.dtype, 4)


def estimate_flops(sub: Subgraph) -> int:
    """Useful arithmetic: 2*M*N*K for products, one op per output element elsewhere."""
    total = 0
    for n in sub.nodes:
        val = n.meta.get("val")
        out = val[0] if isinstance(val, (tuple, list)) else val
        if not isinstance(out, torch.Tensor):
            continue
        numel = out.numel()
        if n.target in (aten.mm.default, aten.addmm.default, aten.bmm.default, aten.baddbmm.default):
            a = n.args[1] if n.target in (aten.addmm.default, aten.baddbmm.default) else n.args[0]
            k = a.meta["val"].shape[-1]
            total += 2 * numel * int(k)
        elif n.target is aten.convolution.default:
            w = n.args[1].meta["val"]
            total += 2 * numel * int(w.shape[1]) * int(torch.Size(w.shape[2:]).numel())
        else:
            ins = [a.meta["val"].numel() for a in n.all_input_nodes if isinstance(a.meta.get("val"), torch.Tensor)]
            total += max([numel] + ins)
    return total


def make_problem(sub: Subgraph, target: str, capability: str, versions: dict[str, str],
                 allow_tf32: bool = False, values: dict[str, int] | None = None) -> Problem:
    """The concrete problem of `sub`; for a dynamic subgraph, at `values` of its size symbols
    (Dynamo's example sizes by default), rendered from its signature at those sizes."""
    values = dict(sub.sizes.hints if values is None else values)
    sig = signature(sub, target, capability, versions, values)
    structure = structural_signature(sub, target, capability, versions)
    if allow_tf32:  # TF32 changes what a correct fp32 matmul result is: a different key
        sig += "\nallow_tf32"
        structure += "\nallow_tf32"
    symbolic = ""
    if sub.dynamic:
        symbolic = signature(sub, target, capability, versions, None)
        sub = rebuild(sig)
    return problem_of(sub, sig, target, allow_tf32, structural_key=key_of(structure), symbolic=symbolic,
                      sizes=tuple(sorted(values.items(), key=lambda kv: int(kv[0][1:]))))


def problem_from_signature(sig: str) -> Problem:
    """The problem a concrete signature describes, its reference rendered here (a record from a
    bundle or store never brings its own code). Raises RecordError for anything not canonical."""
    sub = rebuild(sig)
    target, capability, versions = parse_header(sig)
    allow_tf32 = "allow_tf32" in sig.splitlines()[1:]
    structure = structural_signature(sub, target, capability, versions) + ("\nallow_tf32" if allow_tf32 else "")
    return problem_of(sub, sig, target, allow_tf32, structural_key=key_of(structure))


def problem_of(sub: Subgraph, sig: str, target: str, allow_tf32: bool, **extra) -> Problem:
    return Problem(
        key=key_of(sig),
        signature=sig,
        target=target,
        ops=tuple(op_name(n.target) for n in sub.nodes),
        inputs=tuple(sub.input_specs),
        outputs=tuple(sub.output_specs),
        reference_source=render_reference(sub),
        flops=estimate_flops(sub),
        bytes_moved=sum(nbytes(s) for s in sub.input_specs) + sum(nbytes(s) for s in sub.output_specs),
        allow_tf32=allow_tf32,
        **extra,
    )
