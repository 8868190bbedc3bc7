"""Inductor on an ATen graph the way torch.compile runs it, for the two places that call it
directly: the backend's leftover graph and the worker's Inductor baseline.

Calling `compile_fx_inner` alone skips what torch.compile's Inductor does for an inference graph
before it: the joint-graph passes (pattern rewrites such as a hand-written attention, matmul ->
softmax -> matmul, into one fused attention kernel; constant folding; no-op removal) and the
inference flag for the post-grad passes. Without them the level-3 bf16 BERT layer ran about twice
as slow as under torch.compile(backend="inductor") (bench/results/README.md, the H100 run
2026-11-25-h100-inductorpasses-level3.json and the one before it).
"""
from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)


def compile_with_inductor(graph: torch.fx.GraphModule, example_inputs: list, inference: bool):
    """Inductor's compiled callable for `graph` (Inductor's decompositions already applied, traced
    with fake tensors of one fake mode); called with a list of inputs. `inference`: no autograd
    will follow (passes for training graphs run on the joint graph, which this path never sees)."""
    from torch._inductor.compile_fx import compile_fx_inner

    if not inference:
        return compile_fx_inner(_outputs_keep_eager_strides(graph), example_inputs)
    return compile_fx_inner(_outputs_keep_eager_strides(inference_passes(graph)), example_inputs, is_inference=True)


def _outputs_keep_eager_strides(graph: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """Mark every output as seen by the user. Inductor holds only outputs so marked to the
    strides they have in the traced graph, eager's (graph.get_user_visible_output_strides), and
    torch.compile's own callers of compile_fx_inner set the mark; without it an output's layout
    is Inductor's choice, and a user's .view() on an output could fail where eager's works.
    Every output, as torch marks them for backward and frozen graphs: holding a saved
    activation to its layout costs at most a copy, never a wrong result."""
    out = graph.graph.output_node()
    leaves = torch.utils._pytree.arg_tree_leaves(*out.args)
    out.meta["user_visible_output_idxs"] = [i for i, n in enumerate(leaves) if isinstance(n, torch.fx.Node)]
    return graph


def inference_passes(graph: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """Inductor's joint-graph passes on an inference graph; the graph unchanged if they fail."""
    try:
        from torch._inductor.fx_passes.joint_graph import joint_graph_passes

        return joint_graph_passes(graph) or graph
    except Exception as e:  # a pass failing costs speed, never the compile
        log.warning("Inductor's joint-graph passes failed (%s: %s); compiling without them", type(e).__name__, e)
        return graph
