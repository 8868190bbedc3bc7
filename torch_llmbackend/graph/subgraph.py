"""One group of nodes lifted out of its graph into a standalone, canonically ordered subgraph.

Inputs are numbered in order of first use and outputs in graph order, so the same computation
found in two models, or under other node names, yields the same subgraph, the same key and the
same forward contract for its kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..records import TensorSpec
from ..targets.base import spec_of


@dataclass
class Subgraph:
    nodes: list[torch.fx.Node]  # in the outer graph, graph order
    inputs: list[torch.fx.Node]  # outer nodes feeding the group, in order of first use
    outputs: list[torch.fx.Node]  # group nodes used outside it (or returned), graph order
    input_specs: list[TensorSpec]
    output_specs: list[TensorSpec]

    def fake_outputs(self) -> list[torch.Tensor]:
        return [o.meta["val"] for o in self.outputs]


def lift(nodes: list[torch.fx.Node]) -> Subgraph | str:
    """The subgraph of `nodes`, or a reason why it cannot stand alone."""
    inside = set(nodes)
    inputs: list[torch.fx.Node] = []
    seen: set[torch.fx.Node] = set()
    for n in nodes:
        for a in n.all_input_nodes:
            if a not in inside and a not in seen:
                seen.add(a)
                inputs.append(a)
    outputs = [n for n in nodes if any(u not in inside for u in n.users)]
    if not outputs:
        return "the subgraph's results are unused"
    for n in inputs + outputs:
        if not isinstance(n.meta.get("val"), torch.Tensor):
            return f"boundary value {n.name} is not a tensor"
    return Subgraph(
        nodes=nodes,
        inputs=inputs,
        outputs=outputs,
        input_specs=[spec_of(n.meta["val"]) for n in inputs],
        output_specs=[spec_of(n.meta["val"]) for n in outputs],
    )
