"""A Problem's subgraph read back from its signature text, with every value's shape and dtype.

The signature (graph/signature.py) is canonical text: `inK: dtype[shape] stride(...) device`
per input, `vN = aten.op.overload(args, kw=value)` per node and `outI: vN ...` per output. It
is parsed with `ast` (never executed) and the ops are replayed on meta tensors to learn each
value's shape, so the library lowering works from structure alone, in any process.
"""
from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import torch

from ...records import Problem


@dataclass(frozen=True)
class Ref:
    """A reference to a graph value by its local name (in0, v3)."""

    name: str


@dataclass
class Node:
    name: str
    op: str  # "aten.mm.default", "getitem"
    args: list
    kwargs: dict
    shape: tuple[int, ...] = ()
    dtype: str = ""
    users: list[str] = field(default_factory=list)

    @property
    def short(self) -> str:
        """'mm', 'addmm', 'add' (the op packet without namespace and overload)."""
        return self.op.split(".")[1] if self.op.startswith("aten.") else self.op

    def refs(self) -> list[str]:
        return [a.name for a in _flat(self.args) + _flat(list(self.kwargs.values())) if isinstance(a, Ref)]


@dataclass
class Graph:
    inputs: dict[str, tuple[tuple[int, ...], str]]  # name -> (shape, dtype), in order
    nodes: dict[str, Node]  # in graph order
    outputs: list[str]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.inputs[name][0] if name in self.inputs else self.nodes[name].shape

    def dtype(self, name: str) -> str:
        return self.inputs[name][1] if name in self.inputs else self.nodes[name].dtype

    def single_user(self, name: str) -> Node | None:
        """The only consumer of `name` when it has exactly one and is not a subgraph output."""
        users = self.nodes[name].users if name in self.nodes else []
        if len(users) != 1 or name in self.outputs:
            return None
        return self.nodes[users[0]]


class UnsupportedGraph(ValueError):
    """The signature holds something this reader does not understand."""


_INPUT = re.compile(r"^(in\d+): (\w+)\[([\d,]*)\] stride\(([\d,]*)\) (\w+)$")
_NODE = re.compile(r"^(v\d+) = ([\w.]+)\((.*)\)$")
_OUTPUT = re.compile(r"^out\d+: (\w+) ")


def parse_problem(problem: Problem) -> Graph:
    inputs: dict[str, tuple[tuple[int, ...], str]] = {}
    nodes: dict[str, Node] = {}
    outputs: list[str] = []
    for line in problem.signature.splitlines()[1:]:
        if m := _INPUT.match(line):
            inputs[m.group(1)] = (_ints(m.group(3)), m.group(2))
        elif m := _NODE.match(line):
            call = ast.parse(f"f({m.group(3)})", mode="eval").body
            nodes[m.group(1)] = Node(m.group(1), m.group(2), [_value(a) for a in call.args],
                                     {k.arg: _value(k.value) for k in call.keywords})
        elif m := _OUTPUT.match(line):
            outputs.append(m.group(1))
        else:
            raise UnsupportedGraph(f"unrecognised signature line: {line!r}")
    graph = Graph(inputs, nodes, outputs)
    _infer_shapes(graph)
    for node in nodes.values():
        for r in node.refs():
            if r in nodes:
                nodes[r].users.append(node.name)
    return graph


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def _value(node: ast.AST) -> Any:
    """The Python value of one argument's text (names become Refs; dtypes become torch dtypes)."""
    if isinstance(node, ast.Name):
        return Ref(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand)
    if isinstance(node, ast.List):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e) for e in node.elts)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
        v = getattr(torch, node.attr, None)
        if isinstance(v, (torch.dtype, torch.layout, torch.memory_format)):
            return v
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "device":
        return torch.device(node.args[0].value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
        return float(node.args[0].value)
    raise UnsupportedGraph(f"argument {ast.dump(node)} is not understood")


def _flat(values: list) -> list:
    out = []
    for v in values:
        out.extend(_flat(list(v)) if isinstance(v, (list, tuple)) else [v])
    return out


def resolve_op(name: str):
    if name == "getitem":
        return operator.getitem
    ns, packet, overload = name.split(".")
    return getattr(getattr(getattr(torch.ops, ns), packet), overload)


def _infer_shapes(graph: Graph) -> None:
    env: dict[str, Any] = {
        name: torch.empty(shape, dtype=getattr(torch, dtype), device="meta") for name, (shape, dtype) in graph.inputs.items()
    }

    def sub(v):
        if isinstance(v, Ref):
            return env[v.name]
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, tuple):
            return tuple(sub(x) for x in v)
        return v

    for node in graph.nodes.values():
        kwargs = {k: (torch.device("meta") if k == "device" else sub(v)) for k, v in node.kwargs.items()}
        try:
            val = resolve_op(node.op)(*sub(node.args), **kwargs)
        except Exception as e:  # an op meta tensors cannot run: the lowering cannot reason about it
            raise UnsupportedGraph(f"{node.op} cannot be replayed on meta tensors: {e}") from None
        env[node.name] = val
        first = val[0] if isinstance(val, (tuple, list)) else val
        if isinstance(first, torch.Tensor):
            node.shape, node.dtype = tuple(first.shape), str(first.dtype).removeprefix("torch.")
