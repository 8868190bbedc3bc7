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


def draws_random_numbers(graph: torch.fx.GraphModule) -> bool:
    """True if any op of the ATen graph is seeded from the global generator (rand, dropout...)."""
    seeded = torch.Tag.nondeterministic_seeded
    return any(
        n.op == "call_function" and seeded in getattr(n.target, "tags", ())
        for n in graph.graph.nodes
    )


def faster_of_compiled_and_eager(compiled: Callable, eager: Callable, example_inputs: list,
                                 rows: list[dict[str, Any]], device_type: str) -> Callable:
    """`compiled` or `eager` (both called as f(*inputs)), whichever is faster by the evaluator's
    timing rule (the larger of cold GPU time and the host time of a call; each timed twice,
    taking turns, its best kept: see timing.measure_alternating); a tie goes to eager,
    which carries no risk. When eager wins, every report row of the compile says so in `runs`."""
    from .evaluate.timing import capturing, measure_alternating

    if capturing(device_type):  # compiled inside the user's CUDA-graph capture: no timing there
        log.info("the compiled graph runs untimed: compiled while a CUDA graph was being captured")
        return compiled
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
