"""One group of nodes lifted out of its graph into a standalone, canonically ordered subgraph.

Inputs are numbered in order of first use and outputs in graph order, so the same computation
found in two models, or under other node names, yields the same subgraph, the same key and the
same forward contract for its kernel.

In a dynamic graph a group may also read sizes computed outside it (`view(x, [s0 * s1, 64])`
takes a SymInt node): those are its `sym_inputs`. A kernel never receives them (it reads sizes
from its tensors); the stitched op does, so that its fake implementation and its eager fallback
compute exactly what the group did.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..records import TensorSpec
from ..targets.base import dtype_name
from .sizes import SizeNames


@dataclass
class Subgraph:
    nodes: list[torch.fx.Node]  # in the outer graph, graph order
    inputs: list[torch.fx.Node]  # outer tensor nodes feeding the group, in order of first use
    outputs: list[torch.fx.Node]  # group nodes used outside it (or returned), graph order
    input_specs: list[TensorSpec]  # at the example sizes (Dynamo's hints in a dynamic graph)
    output_specs: list[TensorSpec]
    sym_inputs: list[torch.fx.Node] = field(default_factory=list)  # outer SymInt nodes it reads
    sizes: SizeNames = field(default_factory=SizeNames)

    @property
    def dynamic(self) -> bool:
        return self.sizes.dynamic

    def fake_outputs(self) -> list[torch.Tensor]:
        return [o.meta["val"] for o in self.outputs]

    def specs_at(self, values: dict[str, int] | None) -> tuple[list[TensorSpec], list[TensorSpec]]:
        """Input and output specs with the symbolic sizes evaluated at `values` (hints if None)."""
        values = self.sizes.hints if values is None else values
        ins = [spec_at(n.meta["val"], self.sizes, values) for n in self.inputs]
        outs = [spec_at(n.meta["val"], self.sizes, values) for n in self.outputs]
        return ins, outs


def spec_at(t: torch.Tensor, sizes: SizeNames, values: dict[str, int]) -> TensorSpec:
    """The TensorSpec of a (possibly symbolic) fake tensor at one assignment of the sizes. Never
    calls int() on a SymInt: that would make Dynamo specialize the graph on the example size."""
    return TensorSpec(tuple(int(sizes.text(s, values)) for s in t.shape),
                      tuple(int(sizes.text(s, values)) for s in t.stride()), dtype_name(t.dtype), t.device.type)


def lift(nodes: list[torch.fx.Node]) -> Subgraph | str:
    """The subgraph of `nodes`, or a reason why it cannot stand alone."""
    inside = set(nodes)
    inputs: list[torch.fx.Node] = []
    sym_inputs: list[torch.fx.Node] = []
    seen: set[torch.fx.Node] = set()
    for n in nodes:
        for a in n.all_input_nodes:
            if a not in inside and a not in seen:
                seen.add(a)
                (sym_inputs if isinstance(a.meta.get("val"), torch.SymInt) else inputs).append(a)
    outputs = [n for n in nodes if any(u not in inside for u in n.users)]
    if not outputs:
        return "the subgraph's results are unused"
    for n in inputs + outputs:
        if not isinstance(n.meta.get("val"), torch.Tensor):
            return f"boundary value {n.name} is not a tensor"
    sizes = SizeNames.of([n.meta["val"] for n in inputs], [n.meta["val"] for n in sym_inputs])
    sub = Subgraph(nodes=nodes, inputs=inputs, outputs=outputs, input_specs=[], output_specs=[],
                   sym_inputs=sym_inputs, sizes=sizes)
    try:
        sub.input_specs, sub.output_specs = sub.specs_at(None)
        for n in nodes:  # every size inside must be a function of the inputs' sizes
            for v in _size_values(n):
                sizes.expr_of(v)
    except ValueError as e:
        return f"data-dependent size: {e}"
    return sub


def _size_values(node: torch.fx.Node):
    val = node.meta.get("val")
    for t in val if isinstance(val, (tuple, list)) else [val]:
        if isinstance(t, torch.Tensor):
            yield from t.shape
        elif isinstance(t, torch.SymInt):
            yield t
