"""The adversarial corpus: every cheat or bug is rejected at the right stage for the right reason,
leaves nothing behind on the machine, and every correct-but-unusual kernel passes.

Each file in corpus/bad and corpus/good says in its header what it is and what must happen.
"""
from __future__ import annotations

import os
import re

import pytest
import torch

from tests.evaluate.conftest import PROBLEMS, corpus, process_exists, test_options

BAD = corpus("bad")
GOOD = corpus("good")
UNCHECKED = [c for c in BAD if c.unchecked_expect]


def test_the_corpus_is_large_enough():
    assert len(BAD) >= 25 and len(GOOD) >= 8
    assert {c.expect[0] for c in BAD} >= {"static", "guard", "verify", "crash"}


def _no_side_effect(candidate) -> None:
    if candidate.marker.startswith("/"):
        assert not os.path.exists(candidate.marker), f"{candidate.name} created {candidate.marker}"
    elif candidate.marker:
        assert not process_exists(candidate.marker), f"{candidate.name} left a process running: {candidate.marker}"


def _caller_still_right(problem) -> None:
    """The caller's own PyTorch is untouched: the reference still computes what eager does."""
    x, y = torch.randn(4, 100), torch.randn(4, 100)
    namespace: dict = {}
    exec(compile(problem.reference_source, "<reference>", "exec"), namespace)
    args = (x, y)[: len(problem.inputs)]
    expected = {"add_relu": lambda: (x + y).clamp(min=0), "scale_t": lambda: (x * 2).t(),
                "center": lambda: x - x.mean(), "sum_prod": lambda: (x + y, x * y), "gemmini_add": lambda: x + y,
                "cuda_add_relu": lambda: (x + y).clamp(min=0)}[problem.signature]()
    torch.testing.assert_close(namespace["Model"]()(*args), expected, rtol=0, atol=0)
    assert not torch.backends.cuda.matmul.allow_tf32 and torch.get_default_dtype() == torch.float32


@pytest.mark.parametrize("candidate", [c for c in BAD if not c.source.count("# timeout:")], ids=lambda c: c.name)
def test_bad_candidate_is_rejected_for_the_right_reason(evaluator, candidate):
    problem = PROBLEMS[candidate.problem]
    ev = evaluator.evaluate(problem, candidate.source)
    assert not ev.ok
    assert ev.stage in candidate.expect, f"{candidate.name}: stage {ev.stage}, expected {candidate.expect}: {ev.reason}"
    assert re.search(candidate.reason, ev.reason, re.S), f"{candidate.name}: reason does not match {candidate.reason!r}:\n{ev.reason}"
    _no_side_effect(candidate)
    _caller_still_right(problem)


@pytest.mark.parametrize("candidate", UNCHECKED, ids=lambda c: c.name)
def test_runtime_defences_hold_without_the_static_checks(evaluator, candidate):
    """Sent straight to the worker, skipping the static checks: the sandbox, the guard and
    verification must still reject it, and it still may not leave anything behind."""
    problem = PROBLEMS[candidate.problem]
    ev = evaluator._evaluate_in_worker(problem, candidate.source)
    assert not ev.ok
    assert ev.stage in candidate.unchecked_expect, f"{candidate.name}: stage {ev.stage}: {ev.reason}"
    assert re.search(candidate.unchecked_reason, ev.reason, re.S), ev.reason
    _no_side_effect(candidate)


def test_hanging_candidate_times_out_and_the_next_one_runs(evaluator):
    hang = next(c for c in BAD if c.name == "infinite_loop")
    good = next(c for c in GOOD if c.name == "two_kernels")
    problem = PROBLEMS["add_relu"]
    evaluator.evaluate(problem, good.source)  # the worker is warm: the limit is the candidate's alone
    timeout = float(re.search(r"# timeout: (\S+)", hang.source).group(1))
    options = evaluator.options
    evaluator.options = test_options(worker_timeout_s=timeout)
    try:
        result = evaluator.evaluate(problem, hang.source)
    finally:
        evaluator.options = options
    assert (result.ok, result.stage) == (False, "crash") and f"timed out after {timeout:.0f} s" in result.reason
    assert evaluator.evaluate(problem, good.source).ok


@pytest.mark.parametrize("candidate", GOOD, ids=lambda c: c.name)
def test_correct_unusual_candidate_passes(evaluator, candidate):
    ev = evaluator.evaluate(PROBLEMS[candidate.problem], candidate.source)
    assert ev.ok, f"{candidate.name} was rejected at {ev.stage}: {ev.reason}"
    assert ev.stage == "ok" and len(ev.verification["trials"]) == 8
    assert ev.timings["candidate"]["device"] == "cpu" and ev.timings["eager"]["median"] > 0
    assert "cpu-timing" in ev.flags


def test_empty_reply_is_an_extract_failure(evaluator):
    ev = evaluator.evaluate(PROBLEMS["add_relu"], "  \n")
    assert (ev.ok, ev.stage) == (False, "extract")


def test_no_nonfinite_trial_where_eager_refuses_nan_and_inf(evaluator):
    """A reference that raises on NaN/inf inputs gives nothing to hold a kernel to: the trial is
    left out, and the kernel is judged on the other seven."""
    import dataclasses

    base = PROBLEMS["add_relu"]
    picky = base.reference_source.replace(
        "        return (x + y).clamp(min=0)",
        "        if not bool(torch.isfinite(x).all()):\n            raise ValueError('finite inputs only')\n"
        "        return (x + y).clamp(min=0)")
    assert picky != base.reference_source
    problem = dataclasses.replace(base, key="test-add_relu-finite-only", reference_source=picky)
    nan_dropping = next(c for c in BAD if c.name == "nan_dropping_relu")
    ev = evaluator.evaluate(problem, nan_dropping.source)
    assert ev.ok, ev.reason
    assert len(ev.verification["trials"]) == 7 and not any("NaN" in t for t in ev.verification["trials"])
