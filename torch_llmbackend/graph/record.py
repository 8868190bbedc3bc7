"""A subgraph rebuilt from its signature text: the declarative record a key is the hash of.

Bundles and store entries carry a kernel's signature, never trusted reference code. To verify
such a kernel, the reference is rendered here from the signature alone: the text is parsed
with `ast` (never executed), each op must be an aten overload, each argument a literal, a dtype,
a layout or a reference to an earlier value; the ops are replayed on fake tensors to recover
every shape; and the rebuilt subgraph must print back to exactly the same signature, so a record
cannot say one thing in its text and mean another. Anything else is a RecordError.
"""
from __future__ import annotations

import ast
import operator
import re

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from ..targets.base import spec_of
from .signature import signature
from .subgraph import Subgraph

_INPUT = re.compile(r"^(in\d+): (\w+)\[([\d,]*)\] stride\(([\d,]*)\) (\w+)$")
_NODE = re.compile(r"^(v\d+) = ([\w.]+)\((.*)\)$")
_OUTPUT = re.compile(r"^out(\d+): (v\d+) ")
_DEVICES = ("cpu", "cuda", "meta")


class RecordError(ValueError):
    """A signature that does not describe a subgraph this package would have produced."""


def rebuild(signature_text: str, canonical: bool = True) -> Subgraph:
    """The static subgraph a concrete signature describes (its nodes live in a new fx.Graph).
    `canonical=False` is for drafts this package wrote itself (graph/variants.py): the output
    lines' specs are then recomputed rather than required to match."""
    lines = signature_text.splitlines()
    if not lines or not lines[0].startswith("target "):
        raise RecordError("a signature starts with its target line")
    body = [ln for ln in lines[1:] if ln != "allow_tf32"]
    graph = torch.fx.Graph()
    env: dict[str, torch.fx.Node] = {}
    inputs, nodes, outputs = [], [], []
    fake_mode = FakeTensorMode()
    for line in body:
        if m := _INPUT.match(line):
            name, dtype, shape, stride, device = m.groups()
            if name != f"in{len(inputs)}" or nodes:
                raise RecordError(f"input {name} out of order")
            node = graph.placeholder(name)
            with fake_mode:
                node.meta["val"] = torch.empty_strided(_ints(shape), _ints(stride), dtype=_dtype(dtype),
                                                       device=_device(device))
            env[name] = node
            inputs.append(node)
        elif m := _NODE.match(line):
            name, op, args_text = m.groups()
            if name != f"v{len(nodes)}":
                raise RecordError(f"node {name} out of order")
            target = resolve_op(op)
            try:
                call = ast.parse(f"f({args_text})", mode="eval").body
            except SyntaxError as e:
                raise RecordError(f"{name}: unreadable arguments ({e.msg})") from None
            args = tuple(_value(a, env) for a in call.args)
            kwargs = {k.arg: _value(k.value, env) for k in call.keywords}
            node = graph.call_function(target, args, kwargs)
            try:
                with fake_mode:
                    node.meta["val"] = target(*_fakes(args), **_fakes(kwargs))
            except Exception as e:
                raise RecordError(f"{name} = {op}(...) does not run on its inputs: {type(e).__name__}: {e}") from None
            env[name] = node
            nodes.append(node)
        elif m := _OUTPUT.match(line):
            if int(m.group(1)) != len(outputs) or m.group(2) not in env:
                raise RecordError(f"output line out of order or unknown value: {line!r}")
            outputs.append(env[m.group(2)])
        else:
            raise RecordError(f"unrecognised line: {line!r}")
    if not nodes or not outputs:
        raise RecordError("a record needs at least one op and one output")
    graph.output(tuple(outputs))
    sub = Subgraph(nodes=nodes, inputs=inputs, outputs=outputs,
                   input_specs=[spec_of(n.meta["val"]) for n in inputs],
                   output_specs=[spec_of(n.meta["val"]) for n in outputs])
    again = signature(sub, *parse_header(signature_text))
    if "allow_tf32" in lines[1:]:
        again += "\nallow_tf32"
    if canonical and again != signature_text:
        raise RecordError("the record does not print back to itself (it is not canonical)")
    return sub


def resolve_op(name: str):
    if name == "getitem":
        return operator.getitem
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "aten":
        raise RecordError(f"{name!r} is not an aten op overload")
    packet = getattr(torch.ops.aten, parts[1], None)
    op = getattr(packet, parts[2], None) if packet is not None else None
    if not isinstance(op, torch._ops.OpOverload):
        raise RecordError(f"{name!r} is not an aten op overload")
    return op


def parse_header(signature_text: str) -> tuple[str, str, dict[str, str]]:
    """(target, capability, versions) from a signature's first line."""
    head = signature_text.splitlines()[0].split(" ")
    if len(head) != 4 or head[0] != "target":
        raise RecordError(f"unreadable target line {signature_text.splitlines()[0]!r}")
    return head[1], head[2], _versions(head[3])


def _versions(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, text.split(",")):
        m = re.match(r"^([a-z_]+)(.*)$", part)
        if m is None:
            raise RecordError(f"unreadable version {part!r}")
        out[m.group(1)] = m.group(2)
    return out


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def _dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise RecordError(f"unknown dtype {name!r}")
    return dtype


def _device(name: str) -> str:
    if name not in _DEVICES:
        raise RecordError(f"unknown device type {name!r}")
    return name


def _value(node: ast.AST, env: dict[str, torch.fx.Node]):
    """One argument's value: literals, dtypes, layouts, devices and earlier values only."""
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise RecordError(f"{node.id} is used before it is defined")
        return env[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool, str, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    if isinstance(node, ast.List):
        return [_value(e, env) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e, env) for e in node.elts)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
        v = getattr(torch, node.attr, None)
        if isinstance(v, (torch.dtype, torch.layout, torch.memory_format)):
            return v
    if isinstance(node, ast.Call) and not node.keywords and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
        arg = node.args[0].value
        if ast.unparse(node.func) == "torch.device" and arg in _DEVICES:
            return torch.device(arg)
        if ast.unparse(node.func) == "float" and arg in ("inf", "-inf", "nan"):
            return float(arg)
    raise RecordError(f"argument `{ast.unparse(node)}` is not a literal, a dtype or a value")


def _fakes(v):
    if isinstance(v, torch.fx.Node):
        return v.meta["val"]
    if isinstance(v, list):
        return [_fakes(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_fakes(x) for x in v)
    if isinstance(v, dict):
        return {k: _fakes(x) for k, x in v.items()}
    return v
