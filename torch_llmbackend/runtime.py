"""What runs at inference time: verified kernels as torch.library ops, stitched into the graph.

A winner becomes the op `llmbackend::k_<key prefix>` with a fake (meta) implementation built
from the subgraph's output specs, so the stitched graph stays traceable: Inductor treats it as
an extern kernel, and CUDA graphs capture it like any other op. The op's implementation calls
the kernel module's `ModelNew` directly; there is no interpreter in the loop.
"""
from __future__ import annotations

import operator
from typing import Callable, Sequence

import torch

from .graph.subgraph import Subgraph
from .records import TensorSpec

_NAMESPACE = "llmbackend"
_LIB = torch.library.Library(_NAMESPACE, "FRAGMENT")  # the one process-wide registry of our ops


class _KernelSlot:
    """The callable behind one op name; swapped in place if the winner for a key changes."""

    __slots__ = ("fn", "single", "__name__")

    def __init__(self, fn: Callable, single: bool, name: str):
        self.fn, self.single, self.__name__ = fn, single, name  # the name FX code refers to it by

    def __call__(self, *args):
        out = self.fn(*args)
        if self.single:
            return out[0] if isinstance(out, (tuple, list)) else out
        return tuple(out)


_SLOTS: dict[str, _KernelSlot] = {}


def op_name_for(key: str) -> str:
    return f"k_{key[:24]}"


def kernel_op(key: str, fn: Callable, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]):
    """Register (or re-point) the op for `key` and return its OpOverload."""
    name = op_name_for(key)
    single = len(outputs) == 1
    if name in _SLOTS:
        _SLOTS[name].fn = fn
        return getattr(getattr(torch.ops, _NAMESPACE), name).default
    params = ", ".join(f"Tensor in{i}" for i in range(len(inputs)))
    ret = "Tensor" if single else "(" + ", ".join("Tensor" for _ in outputs) + ")"
    _LIB.define(f"{name}({params}) -> {ret}")
    slot = _KernelSlot(fn, single, name)
    _LIB.impl(name, slot, "CompositeExplicitAutograd")
    specs = list(outputs)

    def fake(*args):
        device = next((a.device for a in args if isinstance(a, torch.Tensor)), torch.device("cpu"))
        outs = tuple(torch.empty_strided(s.shape, s.stride, dtype=getattr(torch, s.dtype), device=device) for s in specs)
        return outs[0] if single else outs

    torch.library.register_fake(f"{_NAMESPACE}::{name}", fake, lib=_LIB)
    _SLOTS[name] = slot
    return getattr(getattr(torch.ops, _NAMESPACE), name).default


def stitch(gm: torch.fx.GraphModule, sub: Subgraph, op) -> None:
    """Replace the subgraph's nodes in `gm` by one call of `op` (graph is re-sorted later)."""
    graph = gm.graph
    with graph.inserting_after(sub.nodes[-1]):
        call = graph.call_function(op, tuple(sub.inputs))
    fakes = sub.fake_outputs()
    if len(sub.outputs) == 1:
        call.meta["val"] = fakes[0]
        sub.outputs[0].replace_all_uses_with(call, propagate_meta=False)
    else:
        call.meta["val"] = tuple(fakes)
        anchor = call
        for i, (out, fake) in enumerate(zip(sub.outputs, fakes)):
            with graph.inserting_after(anchor):
                item = graph.call_function(operator.getitem, (call, i))
            item.meta["val"] = fake
            out.replace_all_uses_with(item, propagate_meta=False)
            anchor = item
    for n in reversed(sub.nodes):
        graph.erase_node(n)


def slot_of(op) -> _KernelSlot:
    """The slot behind one of our ops (an OpOverload from kernel_op)."""
    return _SLOTS[op.name().split("::", 1)[1]]


def call_directly(gm: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """For a stitched graph that runs as Python (nothing left for Inductor): call each kernel's
    slot itself rather than its op through the dispatcher, which costs a few microseconds per
    kernel on every call. Graphs that Inductor compiles keep the ops (it needs their schema)."""
    changed = False
    for node in gm.graph.nodes:
        target = node.target
        if node.op == "call_function" and isinstance(target, torch._ops.OpOverload) and target.namespace == _NAMESPACE:
            node.target = slot_of(target)
            changed = True
    if changed:
        gm.recompile()
    return gm


def finish(gm: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """Restore topological order after stitching (a call sits after its group's last node, but
    an outside user of an earlier group node may have come before it) and regenerate code."""
    from torch.fx.passes.tools_common import legalize_graph

    legalize_graph(gm)
    gm.graph.lint()
    gm.recompile()
    return gm

