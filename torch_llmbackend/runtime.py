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
        call = graph.call_function(op, (*sub.inputs, *sub.sym_inputs))
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



# --- dynamic shapes ---------------------------------------------------------------------------

def bucket(n: int) -> int:
    """A size's bucket: log2 of the power of two at or above it (1 -> 0, 5..8 -> 3)."""
    return max(int(n) - 1, 0).bit_length()


def bucket_text(key: tuple[int, ...]) -> str:
    """A bucket as people read it: sizes up to each power of two, '(<=8, <=128)'."""
    return "(" + ", ".join(f"<={1 << b}" for b in key) + ")"


class SizeTable:
    """Per size bucket, whether the kernel runs (proven and faster there) or the baseline does.
    A bucket never measured takes the nearest measured one's answer (by distance in powers of
    two); equally near answers that disagree, or none at all, give the baseline."""

    __slots__ = ("measured", "chosen")

    def __init__(self, measured: dict[tuple[int, ...], bool]):
        self.measured = dict(measured)
        self.chosen = dict(measured)

    def use_kernel(self, key: tuple[int, ...]) -> bool:
        hit = self.chosen.get(key)
        if hit is None:
            hit = self.chosen[key] = self._nearest(key)
        return hit

    def _nearest(self, key: tuple[int, ...]) -> bool:
        if not self.measured:
            return False

        def distance(k):
            return sum(abs(a - b) for a, b in zip(k, key))

        best = min(distance(k) for k in self.measured)
        answers = {v for k, v in self.measured.items() if distance(k) == best}
        return answers == {True}


def subgraph_module(sub: Subgraph) -> torch.fx.GraphModule:
    """The subgraph as a standalone module taking (*tensor inputs, *size inputs): the fake
    implementation and the eager fallback of a dynamic kernel op."""
    graph = torch.fx.Graph()
    env: dict[torch.fx.Node, torch.fx.Node] = {}
    for i, n in enumerate([*sub.inputs, *sub.sym_inputs]):
        env[n] = graph.placeholder(f"in{i}")
        env[n].meta["val"] = n.meta.get("val")
    for n in sub.nodes:
        env[n] = graph.node_copy(n, lambda a: env[a])
    graph.output(tuple(env[o] for o in sub.outputs))
    return torch.fx.GraphModule(torch.nn.Module(), graph)


def _fresh(t: torch.Tensor, inputs) -> torch.Tensor:
    """`t`, or a copy of it where it shares memory with an input: an op's outputs are new."""
    if any(isinstance(a, torch.Tensor) and a.untyped_storage().data_ptr() == t.untyped_storage().data_ptr() for a in inputs):
        return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=t.device).copy_(t)
    return t


class _DynamicSlot:
    """A dynamic subgraph's op body: the kernel in the size buckets where it was proven and won,
    the subgraph run eagerly elsewhere. The bucket is read from the inputs' shapes on every call
    and its answer cached, so a call costs a few attribute reads and one dict lookup."""

    __slots__ = ("kernel", "fallback", "where", "n_tensors", "table", "single", "__name__")

    def __init__(self, kernel, fallback, where, n_tensors, table, single, name):
        self.kernel, self.fallback, self.where, self.n_tensors = kernel, fallback, where, n_tensors
        self.table, self.single, self.__name__ = table, single, name

    def __call__(self, *args):
        # the bucket as bit lengths, inline: this runs on every call of the model
        key = tuple([(args[i].shape[j] - 1).bit_length() for i, j in self.where])
        use = self.table.chosen.get(key)
        if use is None:
            use = self.table.use_kernel(key)
        if use:
            out = self.kernel(*args[: self.n_tensors]) if len(args) != self.n_tensors else self.kernel(*args)
            if self.single:
                return out[0] if isinstance(out, (tuple, list)) else out
            return tuple(out)
        out = tuple(_fresh(t, args) for t in self.fallback(*args))
        return out[0] if self.single else out


def dynamic_kernel_op(key: str, kernel: Callable, sub: Subgraph, table: SizeTable):
    """Register the op for a dynamic subgraph: tensors and sizes in, its outputs out; the fake
    implementation replays the subgraph, so output sizes stay symbolic for Dynamo and Inductor."""
    name = f"kd_{key[:24]}"
    fallback = subgraph_module(sub)
    where = [sub.sizes.where[s] for s in sub.sizes.hints if s in sub.sizes.where]
    single = len(sub.outputs) == 1
    if name in _SLOTS:  # the same subgraph compiled again: re-point the one slot in place
        slot = _SLOTS[name]
        slot.kernel, slot.fallback, slot.where, slot.table = kernel, fallback, where, table
        return getattr(getattr(torch.ops, _NAMESPACE), name).default
    slot = _DynamicSlot(kernel, fallback, where, len(sub.inputs), table, single, name)
    params = ", ".join([f"Tensor in{i}" for i in range(len(sub.inputs))] + [f"SymInt s{i}" for i in range(len(sub.sym_inputs))])
    ret = "Tensor" if single else "(" + ", ".join("Tensor" for _ in sub.outputs) + ")"
    _LIB.define(f"{name}({params}) -> {ret}")
    _LIB.impl(name, slot, "CompositeExplicitAutograd")

    def fake(*args):
        outs = tuple(torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=t.device) for t in slot.fallback(*args))
        return outs[0] if single else outs

    torch.library.register_fake(f"{_NAMESPACE}::{name}", fake, lib=_LIB)
    _SLOTS[name] = slot
    return getattr(getattr(torch.ops, _NAMESPACE), name).default
