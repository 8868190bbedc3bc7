"""Comparing candidates and turning a verified one into a store entry; shared by the search
loop and batch import so that both judge and record kernels the same way."""
from __future__ import annotations

import logging
import time
from typing import Any

import torch

from ..records import Evaluation, Problem
from ..speedup import speedup

log = logging.getLogger(__name__)

BASELINES = ("eager", "inductor", "library")
# How far a failed candidate got: one that ran and mismatched is a better base for the next
# round than one that did not build.
STAGE_ORDER = {s: i for i, s in enumerate(("extract", "static", "build", "crash", "guard", "verify", "timing", "ok"))}


def candidate_median(evaluation: Evaluation) -> float | None:
    cand = evaluation.timings.get("candidate")
    return cand.get("median") if isinstance(cand, dict) and cand.get("median") else None


def best_baseline(evaluation: Evaluation, baselines: dict | None = None) -> tuple[str, float] | None:
    """(name, median) of the fastest baseline known for this evaluation."""
    timings = {**(baselines or {}), **evaluation.timings}
    known = [(name, timings[name]["median"]) for name in BASELINES
             if isinstance(timings.get(name), dict) and timings[name].get("median")]
    return min(known, key=lambda nm: nm[1]) if known else None


def speedup_over_best(evaluation: Evaluation, baselines: dict | None = None) -> float | None:
    cand, base = candidate_median(evaluation), best_baseline(evaluation, baselines)
    if not evaluation.ok or cand is None or base is None:
        return None
    return speedup(base[1], cand)


def rank(evaluation: Evaluation | None) -> tuple:
    """Sort key, higher is better: verified before unverified, then faster, then further along."""
    if evaluation is None:
        return (0, -1, 0.0)
    median = candidate_median(evaluation)
    return (1 if evaluation.ok else 0, STAGE_ORDER.get(evaluation.stage, 0), -(median or float("inf")))


def versions() -> dict[str, str]:
    out = {"torch": torch.__version__}
    try:
        import triton

        out["triton"] = triton.__version__
    except ImportError:
        pass
    return out


def kernel_entry(problem: Problem, source: str, evaluation: Evaluation, provenance: dict[str, Any],
                 machine: dict[str, str] | None = None):
    """The store entry for a verified candidate, marked verified on `machine` (the backend's
    identity of this machine) when given; without it the backend verifies it on first use."""
    from ..store.kernels import KernelEntry

    return KernelEntry(
        key=problem.key,
        target=problem.target,
        signature=problem.signature,
        source=source,
        provenance={"created": time.time(), **provenance},
        verification=dict(evaluation.verification),
        timings=dict(evaluation.timings),
        device=str(evaluation.timings.get("device") or (problem.inputs[0].device if problem.inputs else "")),
        versions=versions(),
        verified_on=[dict(machine)] if machine else [],
        problem=problem.to_json(),
    )


def evaluate_safely(evaluator: Any, problem: Problem, source: str) -> Evaluation:
    """The evaluator's verdict; its own failure (a bug, not the candidate's) costs this
    candidate only, never the compile."""
    try:
        return evaluator.evaluate(problem, source)
    except Exception as e:
        log.warning("evaluator failed on a candidate for %s: %s: %s", problem.key[:16], type(e).__name__, e)
        return Evaluation(ok=False, stage="crash", reason=f"the evaluator failed: {type(e).__name__}: {e}")
