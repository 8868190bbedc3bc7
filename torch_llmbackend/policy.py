"""The backend's choices, apart from its wiring (backend.py): what runs a subgraph (our kernel,
the target's library, or the rest of the graph's baseline), which target's library to measure
against, which other targets' kernels count as hits, and eager or Inductor for what is left.

Each choice returns a `Choice(run, reason, timings)`: what runs, the part of the report's reason
it adds ("" when it adds none), and the timings it was made on. The whole-graph and CUDA-graph
choices, made after the graph is compiled, are in whole_graph.py.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .records import Evaluation, Problem
from .speedup import format_speedup, speedups
from .store.kernels import KernelEntry

log = logging.getLogger(__name__)

EAGER_MARGIN = 0.95  # eager replaces Inductor on the leftover graph only where this much faster


@dataclass
class Choice:
    run: Any  # what runs: a KernelEntry, a callable, a list of targets, or None (the fallback)
    reason: str = ""  # what the choice adds to the report's reason; "" when nothing
    timings: dict[str, Any] = field(default_factory=dict)


def kernel_or_baseline(entry: KernelEntry | None, timings: dict[str, Any], baseline: KernelEntry | None,
                       prefer: str, target_name: str) -> Choice:
    """Run the kernel only if it beats every baseline known (or the user prefers kernels).
    Baselines: a target's own library kernel when it has one, else eager and Inductor. Without
    our kernel, the target's library runs where there is one, else the fallback (run None)."""
    reasons = []
    if baseline is not None and "candidate" in baseline.timings:
        timings = {**timings, "library": baseline.timings["candidate"]}
    if entry is not None:
        names = ("library",) if baseline is not None else ("eager", "inductor")
        ups = speedups(timings, names)
        if prefer == "kernel" or (ups and min(ups) > 1.0):
            return Choice(entry, "", timings)
        if not ups:
            reasons.append("no baseline timing to compare")
        else:
            reasons.append(f"verified but not faster than the {'library' if baseline else 'better baseline'} "
                           f"({format_speedup(min(ups))})")
    if baseline is not None:
        reasons.append(f"the {target_name} library baseline runs")
        library = {k: v for k, v in timings.items() if k == "library"}
        return Choice(baseline, "; ".join(reasons), {**baseline.timings, **library})
    if entry is not None:
        reasons.append("the baseline runs")
    return Choice(None, "; ".join(reasons), timings)


def library_baseline(problem: Problem, target: Any, stored: Callable[[], KernelEntry | None], machine: dict[str, str],
                     verify: Callable[[str], Evaluation]) -> Choice:
    """The target's own kernel for this subgraph (no LLM), verified here (`verify(source)`).
    `stored()` is the one cached under the subgraph's key plus '.library', taken as it is when
    its source is the target's and it was verified on this machine; else a new entry is built
    (`run` is then not `stored()`: the caller stores it). Run None: the target has no library
    kernel for it, or that failed verification (the reason says so)."""
    source = target.baseline_source(problem)
    if source is None:
        return Choice(None)
    entry = stored()
    if entry is not None and entry.source == source and entry.verified_here(machine):
        return Choice(entry, "", entry.timings)
    ev = verify(source)
    if not ev.ok:
        log.warning("the %s library baseline for %s failed verification (%s): %s", target.name,
                    problem.key[:16], ev.stage, ev.reason)
        return Choice(None, f"library baseline failed ({ev.stage})")
    entry = KernelEntry(problem.key + ".library", target.name, problem.signature, source,
                        provenance={"author": "library"}, verification=ev.verification, timings=ev.timings,
                        device=machine["device"], versions={k: v for k, v in machine.items() if k != "device"},
                        verified_on=[machine], problem=problem.to_json())
    return Choice(entry, "", ev.timings)


def alternate_targets(target_option: str, device_type: str, available: Callable[[str, str], Any]) -> Choice:
    """Targets whose cached kernels for a subgraph count as hits besides the chosen one's:
    with target="auto", NVIDIA GPUs have two kernel languages; an LLM search writes CUDA, but a
    verified Triton kernel for the same subgraph is as good a hit. `available(name, device_type)`
    is the target if installed and able to run here, else None."""
    if target_option != "auto" or device_type != "cuda":
        return Choice([])
    alternates = [alt for alt in (available("triton", device_type),) if alt is not None]
    why = "target=auto on an NVIDIA GPU: verified Triton kernels are hits too" if alternates else ""
    return Choice(alternates, why)


def eager_or_inductor(eager: Callable[[], Callable], compiled: Callable, example_inputs) -> Choice:
    """Time eager (`eager()` builds it) and Inductor's `compiled` on the leftover graph the way
    the evaluator times kernels (cold GPU time, or the host time of a call where that is larger);
    keep the faster, ties going to Inductor. Both are called boxed (with a list)."""
    from .evaluate.timing import capturing, measure_alternating

    if capturing("cuda"):  # compiled inside the user's CUDA-graph capture: no timing there
        return Choice(compiled, "inductor (not timed: compiled during a CUDA-graph capture)")
    symbolic = lambda a: isinstance(a, torch.SymInt) or (  # noqa: E731
        isinstance(a, torch.Tensor) and any(isinstance(s, torch.SymInt) for s in a.shape))
    if any(symbolic(a) for a in example_inputs):  # one size's timing says little of a graph that serves all sizes
        return Choice(compiled, "inductor (not timed: dynamic shapes)")
    try:
        args = real_inputs(example_inputs)
        python = eager()  # timed as it would run
        timings = measure_alternating([lambda: python(list(args)), lambda: compiled(list(args))], "cuda")
    except Exception as e:  # out of memory for inputs or timing buffers, say: Inductor, untimed
        log.warning("could not time the leftover graph (%s: %s); Inductor runs it", type(e).__name__, e)
        return Choice(compiled, f"inductor (not timed: {type(e).__name__})")
    t_eager, t_ind = (t.median for t in timings)
    measured = {"eager": t_eager, "inductor": t_ind}
    if t_eager < EAGER_MARGIN * t_ind:
        return Choice(python, f"eager ({t_eager:.1f} us vs Inductor {t_ind:.1f} us)", measured)
    return Choice(compiled, f"inductor ({t_ind:.1f} us vs eager {t_eager:.1f} us)", measured)


def real_inputs(example_inputs) -> list:
    """Real tensors shaped like the (fake) example inputs, to time a graph on."""
    out = []
    for t in example_inputs:
        if not isinstance(t, torch.Tensor):
            out.append(t)
            continue
        real = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=t.device)
        # zeros for integer tensors: a valid index for any gather/embedding left in the graph
        out.append(real.normal_() if real.is_floating_point() else real.zero_())
    return out
