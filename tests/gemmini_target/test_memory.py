"""An allocation that fails while a Gemmini subgraph is evaluated: one line naming the layer and
the bytes asked for, no traceback, and the subgraph falls back."""
import dataclasses
import logging

import pytest
import torch

from tests.gemmini_target.problems import mlp
from torch_llmbackend.backend import report
from torch_llmbackend.evaluate.pipeline import WorkerState, evaluate_candidate
from torch_llmbackend.records import Evaluation
from torch_llmbackend.targets.gemmini import GemminiTarget
from torch_llmbackend.targets.gemmini.lower import lower

ALLOCATOR_MESSAGE = ("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                     "you tried to allocate {} bytes. Error code 12 (Cannot allocate memory)")


def refuse_allocations_over(limit: int):
    """torch.empty as the CPU allocator answers when memory is short, above `limit` bytes."""
    empty = torch.empty

    def refusing(*size, dtype=None, **kw):
        shape = size[0] if len(size) == 1 and not isinstance(size[0], int) else size
        nbytes = torch.Size(shape).numel() * (dtype or torch.get_default_dtype()).itemsize
        if nbytes > limit and str(kw.get("device", "cpu")) == "cpu":
            raise RuntimeError(ALLOCATOR_MESSAGE.format(nbytes))
        return empty(*size, dtype=dtype, **kw)

    return refusing


def evaluate(tmp_path, problem) -> Evaluation:
    reply = evaluate_candidate(WorkerState(str(tmp_path), "cpu"), problem, lower(problem).source, {}, [])
    assert reply["healthy"]
    return Evaluation.from_json(reply["evaluation"])


def test_a_layer_whose_buffer_cannot_be_allocated_is_named_with_its_bytes(tmp_path, monkeypatch):
    problem = mlp(64, 16, 2048, out=4)  # the hidden [64, 2048] float32: 524,288 bytes
    monkeypatch.setattr(torch, "empty", refuse_allocations_over(256 * 1024))
    evaluation = evaluate(tmp_path, problem)
    assert (evaluation.ok, evaluation.stage) == (False, "crash")
    assert evaluation.reason == ("out of memory: the output of layer tiled_matmul_auto 64x2048x16 transpose_B +bias +relu "
                                 "asked for 524,288 bytes, which could not be allocated")


def test_inputs_that_cannot_be_allocated_end_the_evaluation_with_a_line_not_a_traceback(tmp_path, monkeypatch):
    problem = mlp(64, 16, 2048, out=4)  # the first weight, [2048, 16] float32 plus guard zones
    monkeypatch.setattr(torch, "empty", refuse_allocations_over(64 * 1024))
    evaluation = evaluate(tmp_path, problem)
    assert not evaluation.ok and "Traceback" not in evaluation.reason and "\n" not in evaluation.reason
    assert evaluation.reason.startswith(f"out of memory: verifying the subgraph {problem.key[:12]} (permute, addmm, relu)")
    assert "asked for 133,120 bytes" in evaluation.reason  # (2048*16 + 2*256 guard elements) * 4


@pytest.mark.slow
def test_the_compile_warns_once_and_the_layer_falls_back(monkeypatch, caplog, capfd, gemmini_options):
    """End to end: the allocator refuses the hidden layer's buffer while the library schedule is
    verified; the compile logs one warning and runs the subgraph in PyTorch."""
    model = torch.nn.Sequential(torch.nn.Linear(16, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 4))
    x = torch.randn(64, 16)
    with torch.no_grad():
        want = model(x)
        monkeypatch.setattr(torch, "empty", refuse_allocations_over(256 * 1024))
        with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
            compiled = torch.compile(model, backend="llm", options=gemmini_options)
            got = compiled(x)
    torch.testing.assert_close(got, want)
    (row,) = report()
    assert row["runs"] == "eager" and "library baseline failed (crash)" in row["reason"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "asked for 524,288 bytes" in warnings[0] and "tiled_matmul_auto 64x2048x16" in warnings[0]
    assert "Traceback" not in warnings[0] + capfd.readouterr().err


def test_a_wide_hidden_layer_streams_through_in_blocks_of_rows_and_fits(tmp_path, monkeypatch):
    """With the hidden layer [100, 512] over the streaming threshold, the chain runs 32 rows at a
    time: only a [32, 512] block is allocated, which the allocator grants where [100, 512] is
    refused, and the result is eager's."""
    monkeypatch.setattr("torch_llmbackend.targets.gemmini.lower.STREAM_BYTES", 64 * 1024)
    problem = mlp(100, 24, 512, out=8)
    lowered = lower(problem)
    assert lowered.block == 32 and "for (int r0 = 0; r0 < 100; r0 += 32)" in lowered.c_source
    assert "workspace(16384, torch.float32" in lowered.source  # 32 rows x 512
    ((small, small_source),) = GemminiTarget().reduced_checks(problem, lowered.source)
    assert small.inputs[0].shape == (36, 24) and "r0 += 16" in small_source  # checked streamed as well
    monkeypatch.setattr(torch, "empty", refuse_allocations_over(128 * 1024))  # 100 x 512 floats: 204,800 bytes
    evaluation = evaluate(tmp_path, problem)
    assert evaluation.ok, evaluation.reason


def test_a_problem_too_large_to_verify_beside_the_user_goes_to_a_worker(monkeypatch):
    from torch_llmbackend.evaluate import Evaluator

    problem = dataclasses.replace(mlp(64, 16, 32), bytes_moved=1 << 30)
    evaluator = Evaluator()
    monkeypatch.setattr(evaluator, "evaluate", lambda p, s: ("in a worker", p.key))
    assert evaluator.evaluate_here(problem, lower(problem).source) == ("in a worker", problem.key)
