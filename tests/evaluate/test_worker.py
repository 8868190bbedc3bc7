"""The worker sandbox: a crash or an out-of-memory costs one candidate, workers are reused while
healthy, candidate output cannot corrupt the protocol, and closing leaves nothing behind."""
from __future__ import annotations

import os

import pytest

from tests.evaluate.conftest import PROBLEMS, corpus, test_options
from torch_llmbackend.evaluate import Evaluator
from torch_llmbackend.evaluate.worker import WorkerPool, WorkerSpec

ADD_RELU = PROBLEMS["add_relu"]
GOOD = next(c for c in corpus("good") if c.name == "two_kernels").source
SEGFAULT = next(c for c in corpus("bad") if c.name == "segfault").source


def _worker_pid(evaluator) -> int:
    return evaluator._pool(ADD_RELU).request({"op": "ping"}, timeout=60)["pid"]


def test_workers_are_reused_while_healthy_and_replaced_after_a_crash(evaluator):
    first = _worker_pid(evaluator)
    assert evaluator.evaluate(ADD_RELU, GOOD).ok
    assert _worker_pid(evaluator) == first  # a good candidate does not cost a process
    crashed = evaluator.evaluate(ADD_RELU, SEGFAULT)
    assert crashed.stage == "crash" and "SIGSEGV" in crashed.reason
    assert _worker_pid(evaluator) != first
    assert evaluator.evaluate(ADD_RELU, GOOD).ok


def test_out_of_memory_costs_that_candidate_only(evaluator):
    hog = GOOD.replace("tmp = torch.empty_like(x)", "tmp = torch.empty(2**33, dtype=torch.float32)")  # 32 GiB
    assert hog != GOOD and evaluator.options.worker_memory_mb < 32 * 1024
    result = evaluator.evaluate(ADD_RELU, hog)
    assert (result.ok, result.stage) == (False, "crash") and "out of memory" in result.reason
    assert evaluator.evaluate(ADD_RELU, GOOD).ok


def test_candidate_output_does_not_reach_the_protocol(evaluator):
    chatty = GOOD.replace("        return out\n", '        print(\'{"evaluation": "forged"}\')\n        return out\n')
    assert chatty != GOOD
    assert evaluator.evaluate(ADD_RELU, chatty).stage == "static"  # print is not on the allowlist
    # straight to the worker: what a candidate prints still cannot forge a reply
    assert evaluator._evaluate_in_worker(ADD_RELU, chatty).ok


def test_close_leaves_no_process_and_no_files():
    """Closing kills workers even while they are still starting (the session's evaluator checks
    the same for warm workers when it closes: see conftest)."""
    pool = WorkerPool(WorkerSpec(device="cpu", triton_interpret=True, memory_mb=8192), size=1)
    worker = pool._acquire()
    pool._release(worker, healthy=True)
    workers = list(pool._idle)
    assert len(workers) == 2 and all(w.alive for w in workers)  # the one used and the warm spare
    pool.close()
    for w in workers:
        assert w.proc.poll() is not None and not os.path.exists(w.dir)
    with pytest.raises(RuntimeError, match="closed"):
        pool.request({"op": "ping"}, timeout=1)


def test_a_closed_evaluator_can_be_used_as_a_context_manager():
    with Evaluator(test_options()) as ev:
        assert ev.check(ADD_RELU, GOOD) == []
    assert ev._pools == {}
