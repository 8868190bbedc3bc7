"""The library schedule is checked on every trial at reduced sizes of the same structure and
simulated once at full size, that run being its measurement too."""
import dataclasses

import pytest

from tests.gemmini_target.problems import lenet, mlp
from torch_llmbackend.evaluate.inputs import POST_TIMING_TRIALS, VERIFY_TRIALS
from torch_llmbackend.evaluate.pipeline import WorkerState, evaluate_candidate, time_baselines
from torch_llmbackend.records import Evaluation
from torch_llmbackend.targets import gemmini_kernel
from torch_llmbackend.targets.base import load_module_from_source
from torch_llmbackend.targets.gemmini import GemminiTarget
from torch_llmbackend.targets.gemmini.lower import lower
from torch_llmbackend.targets.gemmini.reduce import reduced_problem


def shapeless(steps):
    return [s.translate(str.maketrans("", "", "0123456789")) for s in steps]


def test_lenet_at_batch_4096_is_checked_at_batch_32_with_the_same_library_calls(tmp_path):
    full = lenet(4096)
    small = reduced_problem(full)
    assert small.inputs[0].shape == (32, 1, 32, 32)
    assert small.inputs[5].shape == (40, 400)  # 120 -> 32 + 120 % 16; the flatten's 400 = 16*5*5 stays
    assert small.outputs[0].shape == (32, 10) and small.key != full.key
    assert shapeless(lower(small).steps) == shapeless(lower(full).steps)
    reference = load_module_from_source(small.reference_source, str(tmp_path), prefix="llmk_test_reduced")
    out = reference.Model()(*reference.get_inputs())
    assert out.shape == (32, 10)


def test_a_subgraph_with_nothing_large_has_no_reduced_form():
    assert reduced_problem(mlp(8, 32, 16)) is None


def test_a_long_reduction_keeps_partial_tiles_when_shortened():
    small = reduced_problem(mlp(256, 16387, 64))
    assert small.inputs[0].shape == (32, 32 + 16387 % 16) and small.inputs[1].shape == (32, 35)


@pytest.fixture
def full_size_runs(monkeypatch):
    """Count the simulated runs whose first operand has the full problem's size."""
    runs = []
    call = gemmini_kernel.GemminiKernel.__call__

    def counted(self, *args):
        runs.append(args[0].numel())
        return call(self, *args)

    monkeypatch.setattr(gemmini_kernel.GemminiKernel, "__call__", counted)
    return runs


def test_the_library_is_simulated_once_at_full_size_for_its_baseline_and_its_evaluation(tmp_path, full_size_runs):
    problem = mlp(512, 96, 64)
    state = WorkerState(str(tmp_path), "cpu")
    library = time_baselines(state, problem, [])["library"]
    reply = evaluate_candidate(state, problem, lower(problem).source, {"library": library}, [])
    evaluation = Evaluation.from_json(reply["evaluation"])
    assert evaluation.ok, evaluation.reason
    assert full_size_runs.count(512 * 96) == 1
    assert len(full_size_runs) > 5  # every trial ran, at reduced sizes
    trials = evaluation.verification["trials"]
    every = len(VERIFY_TRIALS) + len(POST_TIMING_TRIALS)  # the NaN/inf trial applies to a matmul chain
    assert sum("reduced sizes" in t for t in trials) == every and "normal inputs, seed 0" in trials
    assert evaluation.timings["candidate"]["median"] == library["median"] > 0


def test_a_mismatch_at_reduced_size_is_reported_with_those_sizes(tmp_path, monkeypatch):
    problem = mlp(512, 96, 64)
    # a lowering that drops the first bias, at every size alike
    def wrong(p, stream_block=None):
        right = lower(p, stream_block)
        return dataclasses.replace(right, source=right.source.replace("in2.contiguous()", "torch.zeros_like(in2)"))

    monkeypatch.setattr("torch_llmbackend.targets.gemmini.lower.lower", wrong)
    state = WorkerState(str(tmp_path), "cpu")
    reply = evaluate_candidate(state, problem, wrong(problem).source, {}, [])
    evaluation = Evaluation.from_json(reply["evaluation"])
    assert not evaluation.ok and evaluation.reason.startswith("at reduced sizes (float32[32, 32]"), evaluation.reason


def test_where_eager_cannot_run_the_reduced_sizes_every_trial_runs_at_full_size(tmp_path, monkeypatch):
    problem = mlp(512, 96, 64)
    small = reduced_problem(problem)
    broken = dataclasses.replace(small, reference_source=small.reference_source.replace(
        "        return v4", "        raise RuntimeError('mat1 and mat2 shapes cannot be multiplied')"))
    monkeypatch.setattr(GemminiTarget, "reduced_checks", lambda self, p, s: [(broken, lower(broken).source)])
    reply = evaluate_candidate(WorkerState(str(tmp_path), "cpu"), problem, lower(problem).source, {}, [])
    evaluation = Evaluation.from_json(reply["evaluation"])
    assert evaluation.ok, evaluation.reason
    assert not any("reduced" in t for t in evaluation.verification["trials"])
    assert len(evaluation.verification["trials"]) == len(VERIFY_TRIALS) + len(POST_TIMING_TRIALS) + 1  # + the full-size run
