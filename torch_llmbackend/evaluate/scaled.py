"""Verification that scales with the problem (runs in the worker, or in the caller for a
target's own library lowering: Evaluator.evaluate_here).

For a candidate that a target can re-make at other sizes of the same structure (Gemmini's
library lowering: `target.reduced_checks(problem, source)`), every trial of the usual plan (the
seeds and distributions of VERIFY_TRIALS, two calls for fresh outputs, the later seeds of
POST_TIMING_TRIALS) runs on the reduced problem, and one trial runs at full size. The full-size
run is also the measurement (simulated cycles do not depend on the data), and its evaluation is
kept for the WorkerState's life: the library's timing as a baseline and its own evaluation as a
candidate are then one simulated run, not one per seed and distribution.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import sys
from concurrent.futures import ThreadPoolExecutor

import torch

from ..records import Evaluation, Problem
from ..targets import get_target
from . import timing
from .allocation import is_allocation_failure, memory_failure, subgraph_name
from .inputs import POST_TIMING_TRIALS, VERIFY_TRIALS, Trial, clone_exact
from .verify import CandidateFailure, TrialStats, check_trial, exact_checkable

log = logging.getLogger(__name__)

FULL_SIZE_TRIAL = Trial("normal", 0)
REDUCED = " (reduced sizes)"


def evaluate_scaled(state, problem: Problem, source: str, reduced: list[tuple[Problem, str]],
                    baselines: dict | None, baseline_names: list[str]) -> dict:
    """evaluate_candidate's reply ({"evaluation": json, "healthy": bool}) for a scalable candidate."""
    from .pipeline import _passed, time_baselines

    done = scaled_result(state, problem, source, reduced)
    if not done["ok"]:
        return {"evaluation": done["evaluation"], "healthy": done["healthy"]}
    timings = dict(done["timings"])
    timings.update(baselines if baselines is not None else time_baselines(state, problem, baseline_names))
    stats = TrialStats(**done["stats"])
    return {"evaluation": _passed(problem, stats, timings).to_json(), "healthy": True}


def scaled_result(state, problem: Problem, source: str, reduced: list[tuple[Problem, str]]) -> dict:
    """The checks and the full-size measurement of `source`, once per worker (memoized)."""
    memo = state.scaled_results
    key = (problem.key, hashlib.sha256(source.encode()).hexdigest())
    if key not in memo:
        memo[key] = _run(state, problem, source, reduced)
    return memo[key]


def _run(state, problem: Problem, source: str, reduced: list[tuple[Problem, str]]) -> dict:
    from .pipeline import _build, _float64_reference, _release_memory, _trim, call_guarded, float_arbiter

    target = get_target(problem.target)
    stats = TrialStats()
    state.sandbox.take()
    try:
        with ThreadPoolExecutor(1) as builder:  # the full-size build (a C compiler) runs while the small checks do
            full_build = builder.submit(_build, state, target, source)
            _check_reduced(state, target, reduced, stats, (problem, source))
            module, instance = full_build.result()
        sys.modules.pop(module.__name__, None)
        ref = state.reference(problem)
        inputs = state.inputs(problem, ref, FULL_SIZE_TRIAL)
        ref_in, cand_in = [clone_exact(x) for x in inputs], [clone_exact(x) for x in inputs]
        want = ref.new_model()(*ref_in)
        try:
            got, measured = target.timed_call(lambda *a: call_guarded(state, instance, list(a)), cand_in, problem)
        except RuntimeError as e:  # no Gemmini work, or too little of it (call_guarded raises CandidateFailure)
            raise CandidateFailure("timing", f"{type(e).__name__} in the timing run: {e}") from None
        check_trial(got, want, cand_in, ref_in, inputs, FULL_SIZE_TRIAL, stats, exact_ops=exact_checkable(problem.ops),
                    exact_reference=functools.cache(functools.partial(_float64_reference, ref, inputs)),
                    arbiter=float_arbiter(problem))
        device, dtype = timing.device_name(state.device_type), timing.problem_dtype(problem)
        timings = {"candidate": timing.timing_json(measured, device, dtype), "device": device, "torch": torch.__version__, "dtype": dtype}
        return {"ok": True, "stats": stats.to_json(), "timings": timings}
    except (CandidateFailure, MemoryError, RuntimeError) as e:
        if isinstance(e, CandidateFailure):
            failure = e
        elif is_allocation_failure(e):  # inputs or the reference at full size did not fit
            failure = memory_failure(e, f"verifying {subgraph_name(problem)} at full size")
        else:
            raise
        _release_memory()  # after a failure only: a full collection costs a second in a large process
        evaluation = Evaluation(False, failure.stage, _trim(failure.reason), verification=stats.to_json())
        return {"ok": False, "evaluation": evaluation.to_json(), "healthy": failure.healthy}


def _check_reduced(state, target, reduced: list[tuple[Problem, str]], stats: TrialStats, full: tuple[Problem, str]) -> None:
    """Every trial of the usual plan on each reduced problem; a failure names the sizes. Where
    eager itself cannot run the reduced sizes (an op's size rule the meta replay did not
    enforce), the plan runs at full size instead: slower, never weaker."""
    from .pipeline import _build, _check_fresh_outputs, _run_trial, verify_trials

    for small, small_source in reduced:
        try:
            ref = state.reference(small)
            ref.new_model()(*state.inputs(small, ref, VERIFY_TRIALS[0]))
        except Exception as e:  # the trusted reference, not the candidate
            log.info("eager cannot run %s at reduced sizes (%s: %s); every trial at full size", small.key[:12], type(e).__name__, e)
            small, small_source = full
        before, module = len(stats.trials), None
        try:
            module, instance = _build(state, target, small_source)
            ref = state.reference(small)
            exact = exact_checkable(small.ops)
            for trial in (*verify_trials(small), *POST_TIMING_TRIALS):  # the NaN/inf trial where it applies
                _run_trial(state, small, ref, instance, trial, stats, exact)
            _check_fresh_outputs(state, small, ref, instance)
        except CandidateFailure as f:
            if small is not full[0]:
                f.reason = f"at reduced sizes ({_sizes(small)}): {f.reason}"
            raise
        finally:
            if module is not None:
                sys.modules.pop(module.__name__, None)
            module = instance = None  # noqa: F841
        if small is not full[0]:
            stats.trials[before:] = [t + REDUCED for t in stats.trials[before:]]


def library_timing(state, problem: Problem, source: str, reduced: list[tuple[Problem, str]]) -> dict:
    """The target's library as a baseline: its full-size measurement, verified as above. Raises
    when it did not verify (time_baselines reports that baseline as unavailable)."""
    done = scaled_result(state, problem, source, reduced)
    if not done["ok"]:
        raise RuntimeError(f"the library kernel did not verify: {Evaluation.from_json(done['evaluation']).reason}")
    return done["timings"]["candidate"]


def _sizes(problem: Problem) -> str:
    return ", ".join(f"{s.dtype}{list(s.shape)}" for s in problem.inputs)
