"""A Gemmini subgraph at reduced sizes of the same structure, for thorough verification.

The simulator is exact at any size, and the library lowering (lower.py) is one function
of the shapes: the same calls, strides, transposes, epilogues and layout moves come out at a
batch of 32 as at a batch of 4096. So the evaluator checks a library schedule on every seed and
input distribution at reduced sizes, where a simulated run takes milliseconds, and runs one check
at full size (which also gives the cycles): each distinct layer shape is simulated once.

`reduced_problem(problem)` rewrites the subgraph's signature: every size above SMALL shrinks to
32 + (size mod 16), so partial tiles of the DIM-4 and DIM-16 arrays stay partial; equal sizes stay
equal; a size that other values depend on (the 400 = 16*5*5 of a flatten before a linear) keeps
its value because reducing it does not replay. A reduction is kept only when the graph still
replays on meta tensors and lowers to the same library calls (numbers aside).
"""
from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import replace

from ...records import Problem, TensorSpec
from .graph import UnsupportedGraph, parse_problem

SMALL = 48  # sizes up to this stay as they are: a few tiles, already cheap to simulate
SHAPE_ARG_OPS = ("view", "_unsafe_view", "reshape", "expand")  # ops whose list argument is a shape

_INPUT = re.compile(r"^(in\d+): (\w+)\[([\d,]*)\] stride\(([\d,]*)\) (\w+)$")
_NODE = re.compile(r"^(v\d+) = ([\w.]+)\((.*)\)$")
_OUTPUT = re.compile(r"^(out\d+): (v\d+) (\w+)\[([\d,]*)\] stride\(([\d,]*)\) (\w+)$")


def shrink(size: int) -> int:
    return size if size <= SMALL else 32 + size % 16


def reduced_problem(problem: Problem) -> Problem | None:
    """The problem with its large sizes reduced (see the module doc), or None when no size can
    be reduced without changing the structure."""
    from .lower import Unsupported, lower

    try:
        full_steps = _shapeless(lower(problem).steps)
    except Unsupported:
        return None
    sizes = sorted({d for spec in problem.inputs for d in spec.shape if d != shrink(d)}, reverse=True)
    mapping: dict[int, int] = {}
    best = None
    for size in sizes:  # one size at a time: a reduction that breaks the structure is left out
        trial = {**mapping, size: shrink(size)}
        candidate = _rewritten(problem, trial)
        if candidate is None:
            continue
        try:
            if _shapeless(lower(candidate).steps) != full_steps:
                continue
        except Unsupported:
            continue
        mapping, best = trial, candidate
    return best


def _shapeless(steps: list[str]) -> list[str]:
    return [re.sub(r"\d+", "#", s) for s in steps]


def _rewritten(problem: Problem, mapping: dict[int, int]) -> Problem | None:
    lines = problem.signature.splitlines()
    head, body, outputs = [lines[0]], [], []
    inputs: list[TensorSpec] = []
    for line in lines[1:]:
        if m := _INPUT.match(line):
            spec = _spec(m.group(2), m.group(3), m.group(4), m.group(5))
            new = _resized(spec, tuple(mapping.get(d, d) for d in spec.shape))
            inputs.append(new)
            body.append(f"{m.group(1)}: {_spec_text(new)}")
        elif (m := _NODE.match(line)) and (m.group(2) == "getitem" or m.group(2).startswith("aten.")):
            body.append(_node_line(m, mapping))
        elif m := _OUTPUT.match(line):
            outputs.append(m)
        else:
            return None
    partial = "\n".join(head + body)
    try:
        graph = parse_problem(replace(problem, signature=partial))
    except (UnsupportedGraph, SyntaxError, ValueError):
        return None
    out_specs, out_lines = [], []
    for m, old in zip(outputs, problem.outputs):
        spec = _resized(old, graph.shape(m.group(2)))
        out_specs.append(spec)
        out_lines.append(f"{m.group(1)}: {m.group(2)} {_spec_text(spec)}")
    signature = "\n".join([partial, *out_lines])
    return Problem(
        key=hashlib.sha256(signature.encode()).hexdigest(), signature=signature, target=problem.target,
        ops=problem.ops, inputs=tuple(inputs), outputs=tuple(out_specs),
        reference_source=_reference_source(signature, inputs), allow_tf32=problem.allow_tf32)


def _node_line(m: re.Match, mapping: dict[int, int]) -> str:
    name, op, args = m.group(1), m.group(2), m.group(3)
    if op.split(".")[1:2] and op.split(".")[1] in SHAPE_ARG_OPS:
        call = ast.parse(f"f({args})", mode="eval").body
        if len(call.args) > 1 and isinstance(call.args[1], (ast.List, ast.Tuple)):
            for elt in call.args[1].elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, int):
                    elt.value = mapping.get(elt.value, elt.value)
            args = ast.unparse(call)[2:-1]
    return f"{name} = {op}({args})"


def _spec(dtype: str, shape: str, stride: str, device: str) -> TensorSpec:
    ints = lambda text: tuple(int(x) for x in text.split(",") if x)  # noqa: E731
    return TensorSpec(ints(shape), ints(stride), dtype, device)


def _resized(spec: TensorSpec, shape: tuple[int, ...]) -> TensorSpec:
    """`spec` with a new shape, dense, its dims in the same memory order as before."""
    order = sorted(range(len(spec.shape)), key=lambda d: -spec.stride[d])  # outermost first (stable)
    stride, acc = [0] * len(shape), 1
    for d in reversed(order):
        stride[d] = acc
        acc *= max(shape[d], 1)
    return TensorSpec(tuple(shape), tuple(stride), spec.dtype, spec.device)


def _spec_text(spec: TensorSpec) -> str:
    return f"{spec.dtype}[{','.join(map(str, spec.shape))}] stride({','.join(map(str, spec.stride))}) {spec.device}"


def _reference_source(signature: str, inputs: list[TensorSpec]) -> str:
    """The eager reference, rendered from the signature as graph/render.py renders it from the
    FX graph (the signature's node text is the same Python)."""
    from ...graph.render import HEADER, input_expr

    body, ret = [], ""
    for line in signature.splitlines()[1:]:
        if m := _NODE.match(line):
            op = "operator.getitem" if m.group(2) == "getitem" else m.group(2)
            body.append(f"        {m.group(1)} = {op}({m.group(3)})")
    outs = [m.group(2) for line in signature.splitlines() if (m := _OUTPUT.match(line))]
    ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ",)"
    params = ", ".join(f"in{i}" for i in range(len(inputs)))
    docs = "; ".join(f"in{i} {s.dtype}{list(s.shape)}" for i, s in enumerate(inputs))
    return "\n".join([
        HEADER.format(n_ops=len(body), inputs=docs),
        "class Model(torch.nn.Module):",
        f"    def forward(self, {params}):",
        *body,
        f"        return {ret}",
        "",
        "",
        "def get_inputs():",
        "    return [" + ", ".join(input_expr(s) for s in inputs) + "]",
        "",
        "",
        "def get_init_inputs():",
        "    return []",
        "",
    ])
