"""The last check of an inference compile on a GPU: the compiled graph against Dynamo's own graph
run eagerly, both timed on the inputs Dynamo compiled for; the faster one is returned to Dynamo.

Why it is needed: each subgraph's choice, and the leftover graph's choice between eager and
Inductor, time AOTAutograd's decomposed core-ATen graph. Decomposed, some models run much slower
than the user's eager ever does (on the H100 an eval-mode CNN's leftover graph read 541 us
"eager" against 355 us for the model itself; a bf16 BERT layer's 1431 us against 394 us), so a
compile could pick Inductor over a figure that was never eager's and end slower than the model
it came from. Dynamo's graph run as Python is what eager does, less the module-call overhead,
so it is the honest reference for "never slower than eager".

Only for graphs where running them a few more times changes nothing: AOTAutograd's wrapper is a
no-op for them (no input mutation, no aliased output, grad and autocast off; see
backend._DirectInference) and they draw no random numbers (a timing run would move the
generator a user may have seeded).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import torch
from torch._subclasses.fake_tensor import unset_fake_temporarily

log = logging.getLogger("torch_llmbackend")

# Where timing the whole graph tells what the model will see. Not the CPU: there the Gemmini
# target's kernels run on a simulator (judged in simulated cycles), and the rest is Inductor.
DEVICE_TYPES = ("cuda",)
GRAPH_MARGIN = 0.95  # a replay must be this much faster than a plain call to be kept


def draws_random_numbers(graph: torch.fx.GraphModule) -> bool:
    """True if any op of the ATen graph is seeded from the global generator (rand, dropout...)."""
    seeded = torch.Tag.nondeterministic_seeded
    return any(
        n.op == "call_function" and seeded in getattr(n.target, "tags", ())
        for n in graph.graph.nodes
    )


def fastest(compiled: Callable, eager: Callable, example_inputs: list, rows: list[dict[str, Any]],
            device_type: str, cuda_graphs: bool) -> Callable:
    """What runs the graph: the faster of `compiled` and `eager`, then, if `cuda_graphs`, that
    one replayed as a CUDA graph where the replay is faster."""
    from .evaluate.timing import capturing

    if capturing(device_type):  # compiled inside the user's CUDA-graph capture: no timing there
        log.info("the compiled graph runs untimed: compiled while a CUDA graph was being captured")
        return compiled
    chosen = faster_of_compiled_and_eager(compiled, eager, example_inputs, rows, device_type)
    return replayed_if_faster(chosen, example_inputs, rows, device_type) if cuda_graphs else chosen


def faster_of_compiled_and_eager(compiled: Callable, eager: Callable, example_inputs: list,
                                 rows: list[dict[str, Any]], device_type: str) -> Callable:
    """`compiled` or `eager` (both called as f(*inputs)), whichever is faster by the evaluator's
    timing rule (the larger of cold GPU time and the host time of a call; each timed twice,
    taking turns, its best kept: see timing.measure_alternating); a tie goes to eager,
    which carries no risk. When eager wins, every report row of the compile says so in `runs`."""
    from .evaluate.timing import measure_alternating

    args = list(example_inputs)
    try:
        with unset_fake_temporarily():
            timings = measure_alternating([lambda: compiled(*args), lambda: eager(*args)], device_type)
    except Exception as e:  # out of memory for the timing buffers, say: the check is only a speed-up
        log.warning("could not time the graph against eager (%s: %s); the compiled graph runs", type(e).__name__, e)
        return compiled
    t_compiled, t_eager = (t.median for t in timings)
    if t_eager <= t_compiled:
        verdict = f"eager, whole graph ({t_eager:.1f} us vs compiled {t_compiled:.1f} us)"
        for row in rows:
            row["runs"] = verdict
        log.info("the graph runs eagerly: eager %.1f us, compiled %.1f us per call", t_eager, t_compiled)
        return eager
    log.info("the compiled graph runs: %.1f us per call, eager %.1f us", t_compiled, t_eager)
    return compiled


def replayed_if_faster(chosen: Callable, example_inputs: list, rows: list[dict[str, Any]], device_type: str) -> Callable:
    """`chosen` replayed as CUDA graphs (cuda_graph.CudaGraphCall) if that is timed faster by
    GRAPH_MARGIN, else `chosen`. The margin pays for what a replay holds: two captures' memory
    pools. Every report row then ends in ", CUDA graph (replay us vs plain us)"."""
    from .cuda_graph import CudaGraphCall, GraphUnavailable
    from .evaluate.timing import measure_alternating

    args = list(example_inputs)
    with unset_fake_temporarily():
        try:
            graphed = CudaGraphCall(chosen, args)
            t_plain, t_graph = (t.median for t in measure_alternating([lambda: chosen(*args), lambda: graphed(*args)], device_type))
        except GraphUnavailable as e:
            log.info("no CUDA graph: %s", e)
            return chosen
        except Exception as e:  # a capture that failed (an op that syncs, out of memory): plain calls
            log.warning("could not replay the graph as a CUDA graph (%s: %s); it runs without", type(e).__name__, e)
            return chosen
    if t_graph >= GRAPH_MARGIN * t_plain:
        log.info("the graph runs without CUDA graphs: replay %.1f us, plain %.1f us per call", t_graph, t_plain)
        return chosen
    for row in rows:
        row["runs"] = f"{row['runs']}, CUDA graph ({t_graph:.1f} us vs {t_plain:.1f} us)"
    log.info("the graph is replayed as a CUDA graph: %.1f us per call, plain %.1f us", t_graph, t_plain)
    return graphed
