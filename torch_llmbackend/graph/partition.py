"""Cut an aten FX graph into subgraphs one target can run, and say why every other node stays
in PyTorch.

The capability test reads `node.meta["val"]` (fake tensors from AOTAutograd) for shapes and
dtypes. CapabilityBasedPartitioner proposes convex groups of supported nodes; we drop groups
with fewer compute ops than the user's minimum, and record a reason for every node left out.
"""
from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass, field

import torch
from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner
from torch.fx.passes.operator_support import OperatorSupportBase

from ..op_names import op_name, short_op_name  # noqa: F401 (short_op_name: graph's API, see __init__)
from ..targets.base import VIEW_OPS, Target


def is_compute(node: torch.fx.Node) -> bool:
    """A node that computes tensor data (not a view, a getitem, or size arithmetic on SymInts)."""
    return (node.op == "call_function" and node.target not in VIEW_OPS and node.target is not operator.getitem
            and not is_size_math(node))


def is_size_math(node: torch.fx.Node) -> bool:
    """`s0 * s1`, `sym_size(x, 0)`: a dynamic graph's arithmetic on sizes, run by Python."""
    return isinstance(node.meta.get("val"), (torch.SymInt, torch.SymFloat, torch.SymBool))


@dataclass
class LeftOut:
    """A compute node that stays in PyTorch, and why."""

    node: str
    op: str
    reason: str


@dataclass
class Partitioning:
    groups: list[list[torch.fx.Node]] = field(default_factory=list)  # each in graph order
    left_out: list[LeftOut] = field(default_factory=list)

    def left_out_summary(self) -> list[dict]:
        """Left-out nodes grouped by (op, reason), for the report."""
        counts = Counter((lo.op, lo.reason) for lo in self.left_out)
        return [{"op": op, "reason": reason, "count": n} for (op, reason), n in counts.items()]


class _TargetSupport(OperatorSupportBase):
    def __init__(self, target: Target):
        self.target = target
        self.reasons: dict[torch.fx.Node, str] = {}

    def is_node_supported(self, submodules, node: torch.fx.Node) -> bool:
        if node.target is operator.getitem:
            src = node.args[0]
            return isinstance(src, torch.fx.Node) and self.is_node_supported(submodules, src)
        reason = self.target.unsupported_reason(node)
        if reason is None and _has_non_tensor_output(node):
            reason = "produces a non-tensor value"
        if reason is not None:
            self.reasons[node] = reason
        return reason is None


def _has_non_tensor_output(node: torch.fx.Node) -> bool:
    val = node.meta.get("val")
    vals = val if isinstance(val, (tuple, list)) else [val]
    return any(v is not None and not isinstance(v, torch.Tensor) for v in vals)


def partition(gm: torch.fx.GraphModule, target: Target, min_ops: int) -> Partitioning:
    support = _TargetSupport(target)
    proposer = CapabilityBasedPartitioner(gm, support, allows_single_node_partition=True)
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    result = Partitioning()
    covered: set[torch.fx.Node] = set()
    for part in proposer.propose_partitions():
        nodes = sorted(part.nodes, key=order.__getitem__)
        n_compute = sum(is_compute(n) for n in nodes)
        if n_compute == 0:
            continue  # views only: nothing to compute, leave them where they are
        split = _split_tuple_output(nodes)
        if split is not None:
            reason = f"multi-output op {op_name(split.target)} has outputs outside the subgraph"
        elif n_compute < min_ops:
            reason = f"subgraph of {n_compute} compute op(s) is below min_subgraph_ops={min_ops}"
        else:
            result.groups.append(nodes)
            covered.update(nodes)
            continue
        for n in nodes:
            if is_compute(n):
                support.reasons[n] = reason
    for node in gm.graph.nodes:
        if is_compute(node) and node not in covered:
            reason = support.reasons.get(node) or "not supported by the target"
            result.left_out.append(LeftOut(node.name, op_name(node.target), reason))
    return result


def _split_tuple_output(nodes: list[torch.fx.Node]) -> torch.fx.Node | None:
    """A node whose value is a tuple must hand its parts out through getitems inside the group."""
    inside = set(nodes)
    for n in nodes:
        if isinstance(n.meta.get("val"), (tuple, list)) and any(u not in inside for u in n.users):
            return n
    return None
