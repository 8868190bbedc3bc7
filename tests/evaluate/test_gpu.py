"""The trust boundary on a CUDA GPU: real Triton kernels, CUDA-event timing against eager and
Inductor, the roofline flag, and an illegal memory access that poisons one worker only.
Run on the device machine; skipped where there is no CUDA."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from tests.evaluate.conftest import PROBLEMS, corpus
from torch_llmbackend.evaluate import Evaluator
from torch_llmbackend.evaluate.timing import CUDA_RUNS
from torch_llmbackend.options import Options

pytestmark = pytest.mark.gpu

BAD = {c.name: c for c in corpus("bad")}
GOOD = {c.name: c for c in corpus("good")}


def on_cuda(problem, **changes):
    def move(specs):
        return tuple(dataclasses.replace(s, device="cuda") for s in specs)

    changes.setdefault("key", problem.key + "-cuda")
    return dataclasses.replace(problem, inputs=move(problem.inputs), outputs=move(problem.outputs), **changes)


@pytest.fixture(scope="module")
def gpu_evaluator():
    with Evaluator(Options(worker_timeout_s=300.0)) as ev:
        yield ev


def test_a_triton_kernel_is_verified_and_timed_on_the_gpu(gpu_evaluator):
    result = gpu_evaluator.evaluate(on_cuda(PROBLEMS["add_relu"]), GOOD["two_kernels"].source)
    assert result.ok, result.reason
    t = result.timings
    assert t["device"] == torch.cuda.get_device_name() and t["candidate"]["device"] == t["device"]
    assert t["candidate"]["runs"] == CUDA_RUNS and t["candidate"]["p20"] <= t["candidate"]["median"] <= t["candidate"]["p80"]
    assert t["eager"]["median"] > 0 and t["inductor"]["median"] > 0, t
    assert "cpu-timing" not in result.flags and "beyond-roofline" not in result.flags


@pytest.mark.parametrize("name", ["torch_compute", "returns_zeros", "first_block_only", "slightly_off", "wrong_stride", "good:empty_strided_output", "good:two_outputs"])
def test_cheats_fail_and_correct_kernels_pass_on_the_gpu(gpu_evaluator, name):
    kind, _, stem = name.rpartition(":")
    candidate = (GOOD if kind == "good" else BAD)[stem]
    result = gpu_evaluator.evaluate(on_cuda(PROBLEMS[candidate.problem]), candidate.source)
    if kind == "good":
        assert result.ok, result.reason
    else:
        assert not result.ok and result.stage in candidate.expect, result.reason


def test_illegal_memory_access_costs_that_candidate_only(gpu_evaluator):
    problem = on_cuda(PROBLEMS["add_relu"])
    crashed = gpu_evaluator.evaluate(problem, BAD["segfault"].source)  # a store 4 TB past the output
    assert (crashed.ok, crashed.stage) == (False, "crash"), crashed.reason
    assert gpu_evaluator.evaluate(problem, GOOD["two_kernels"].source).ok


def test_a_kernel_faster_than_the_roofline_is_flagged(gpu_evaluator):
    # claims a petaflop of work: no GPU does that in microseconds
    problem = on_cuda(PROBLEMS["add_relu"], key="add_relu-impossible-flops", flops=10**15)
    result = gpu_evaluator.evaluate(problem, GOOD["two_kernels"].source)
    assert result.ok and "beyond-roofline" in result.flags and "FLAGGED" in result.reason
