"""The last check of an inference compile on a GPU: the compiled graph against Dynamo's own graph
run eagerly, both timed on the inputs Dynamo compiled for; the faster one is returned to Dynamo.

Why it is needed: each subgraph's choice, and the leftover graph's choice between eager and
Inductor, time AOTAutograd's decomposed core-ATen graph. Decomposed, some models run much slower
than the user's eager ever does (on the H100 an eval-mode CNN's leftover graph, and a bf16 BERT
layer's, timed "eager" well above the model run eagerly itself: bench/results/README.md, the
2026-11-25 H100 runs), so a
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
from typing import Callable

import torch
from torch._subclasses.fake_tensor import unset_fake_temporarily

from .reports import ReportRow, set_runs

log = logging.getLogger(__name__)

# Where timing the whole graph tells what the model will see. Not the CPU: there the Gemmini
# target's kernels run on a simulator (judged in simulated cycles), and the rest is Inductor.
DEVICE_TYPES = ("cuda",)


def draws_random_numbers(graph: torch.fx.GraphModule) -> bool:
    """True if any op of the ATen graph is seeded from the global generator (rand, dropout...)."""
    seeded = torch.Tag.nondeterministic_seeded
    return any(
        n.op == "call_function" and seeded in getattr(n.target, "tags", ())
        for n in graph.graph.nodes
    )


def fastest(compiled: Callable, eager: Callable, example_inputs: list, rows: list[ReportRow],
            device_type: str, cuda_graphs: bool, inductor: Callable[[], Callable] | None = None) -> Callable:
    """What runs the graph: the fastest of `compiled`, `eager` and Inductor on Dynamo's whole
    graph (`inductor()` builds it; it is the default torch.compile, so always a candidate), then,
    if `cuda_graphs`, the compiled or eager graph replayed as CUDA graphs where that is faster
    still."""
    from .evaluate.timing import capturing

    if capturing(device_type):  # compiled inside the user's CUDA-graph capture: no timing there
        log.info("the compiled graph runs untimed: compiled while a CUDA graph was being captured")
        return compiled
    compiled_runs = [row.runs for row in rows]
    chosen = faster_of_compiled_and_eager(compiled, eager, example_inputs, rows, device_type)
    if inductor is not None:
        chosen = _unless_inductor_is_faster(chosen, inductor, example_inputs, rows, device_type)
    if not cuda_graphs:
        return chosen
    return replayed_if_faster(chosen, {"compiled": compiled, "eager": eager}, example_inputs, rows, compiled_runs,
                              device_type)


def faster_of_compiled_and_eager(compiled: Callable, eager: Callable, example_inputs: list,
                                 rows: list[ReportRow], device_type: str) -> Callable:
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
        set_runs(rows, verdict)
        log.info("the graph runs eagerly: eager %.1f us, compiled %.1f us per call", t_eager, t_compiled)
        return eager
    log.info("the compiled graph runs: %.1f us per call, eager %.1f us", t_compiled, t_eager)
    return compiled


def _unless_inductor_is_faster(chosen: Callable, inductor: Callable[[], Callable], example_inputs: list,
                               rows: list[ReportRow], device_type: str) -> Callable:
    """Inductor on the whole graph where it beats the choice so far by 2% (a tie keeps ours,
    which was verified and timed subgraph by subgraph); a failing Inductor keeps it too."""
    try:
        whole = inductor()
    except Exception as e:
        log.warning("Inductor failed on the whole graph (%s: %s); it is not a candidate", type(e).__name__, e)
        return chosen
    times = timed_pair(whole, chosen, example_inputs, device_type)
    if times is None or times[0] >= 0.98 * times[1]:
        return chosen
    verdict = f"inductor, whole graph ({times[0]:.1f} us vs ours {times[1]:.1f} us)"
    set_runs(rows, verdict)
    log.info("Inductor on the whole graph runs: %.1f us per call, ours %.1f us", *times)
    return whole


def timed_pair(a: Callable, b: Callable, example_inputs: list, device_type: str) -> tuple[float, float] | None:
    """The per-call times of `a` and `b` (called as f(*inputs)) by the evaluator's timing rule,
    or None where timing failed (out of memory for its buffers, say: the check only speeds up)."""
    from .evaluate.timing import measure_alternating

    args = list(example_inputs)
    try:
        with unset_fake_temporarily():
            ta, tb = (t.median for t in measure_alternating([lambda: a(*args), lambda: b(*args)], device_type))
    except Exception as e:
        log.warning("could not time the whole graph (%s: %s)", type(e).__name__, e)
        return None
    return ta, tb


def replayed_if_faster(chosen: Callable, candidates: dict[str, Callable], example_inputs: list,
                       rows: list[ReportRow], compiled_runs: list[str], device_type: str) -> Callable:
    """The fastest of `candidates` ("compiled", "eager") replayed as CUDA graphs
    (cuda_graph.CudaGraphCall) among those whose replay pays against `chosen` called plainly
    (cuda_graph.replay_pays); else `chosen`. Timed back to back
    (timing.back_to_back_alternating): a replay runs the same kernels as a plain call and saves
    host time, which a cold-L2 GPU figure would hide. Either candidate may win replayed
    whichever won plainly: Inductor's graph often needs less GPU time than eager but more host
    time. The rows then end in ", CUDA graph (replay vs plain figures)"."""
    from .cuda_graph import CudaGraphCall, GraphUnavailable, describe, replay_pays
    from .evaluate.timing import back_to_back_alternating

    args = list(example_inputs)
    graphed: dict[str, CudaGraphCall] = {}
    with unset_fake_temporarily():
        for name, fn in candidates.items():
            try:
                graphed[name] = CudaGraphCall(fn, args)
            except GraphUnavailable as e:
                log.info("no CUDA graph of the %s graph: %s", name, e)
            except Exception as e:  # a capture that failed (an op that syncs, out of memory): plain calls
                log.warning("could not replay the %s graph as a CUDA graph (%s: %s)", name, type(e).__name__, e)
        if not graphed:
            return chosen
        names = list(graphed)
        try:
            times = back_to_back_alternating([lambda: chosen(*args)] + [lambda g=graphed[n]: g(*args) for n in names],
                                             device_type)
        except Exception as e:  # out of memory, say: the replay is only a speed-up
            log.warning("could not time the CUDA-graph replay (%s: %s); the graph runs without", type(e).__name__, e)
            return chosen
    plain = times[0]
    paying = [(t, n) for t, n in zip(times[1:], names) if replay_pays(t, plain)]
    if not paying:
        best = min(times[1:], key=lambda t: t.per_call_us)
        log.info("the graph runs without CUDA graphs: replay %s", describe(best, plain))
        return chosen
    replay, name = min(paying, key=lambda pair: pair[0].per_call_us)
    if name == "compiled":
        base = compiled_runs
    else:
        base = [row.runs if chosen is candidates["eager"] else "eager, whole graph" for row in rows]
    for row, runs in zip(rows, base):
        row.runs = f"{runs}, CUDA graph ({describe(replay, plain)})"
    log.info("the %s graph is replayed as a CUDA graph: %s", name, describe(replay, plain))
    return graphed[name]
