"""Timing: summaries, the roofline flag, labelled figures, and baselines timed in the worker."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from tests.evaluate.conftest import PROBLEMS, corpus
from torch_llmbackend.evaluate.timing import CPU_RUNS, beyond_roofline, measure, roofline_us, summarize, timing_json, with_steady
from torch_llmbackend.records import Problem, Timing


def test_summary_is_median_and_spread():
    t = summarize([float(v) for v in range(1, 22)])  # 1..21
    assert (t.median, t.p20, t.p80, t.runs, t.unit) == (11.0, 5.0, 17.0, 21, "us")


def test_figures_carry_device_torch_and_dtype():
    d = timing_json(measure(lambda: torch.ones(8).sum(), "cpu"), "cpu", "float32")
    assert d["device"] == "cpu" and d["torch"] == torch.__version__ and d["dtype"] == "float32"
    assert d["runs"] == CPU_RUNS and d["median"] > 0


def _matmul_problem() -> Problem:
    n = 4096  # 2 n^3 flops, 3 n^2 fp16 tensors
    return Problem("mm", "mm", "triton", ("aten.mm.default",), (), (), "", flops=2 * n**3, bytes_moved=3 * n * n * 2)


def test_roofline_on_known_gpus_only():
    p = _matmul_problem()
    bound = roofline_us(p, "NVIDIA H100 80GB HBM3", "float16")
    assert bound == pytest.approx(2 * 4096**3 / 989e12 * 1e6)  # compute-bound: ~139 us
    assert roofline_us(p, "NVIDIA H100 80GB HBM3", "float32") > 10 * bound  # no tensor cores in fp32
    assert roofline_us(p, "cpu", "float16") is None and roofline_us(p, "Some Future GPU", "float16") is None
    assert beyond_roofline(Timing(20.0, 19.0, 21.0, 30), p, "NVIDIA H100 80GB HBM3", "float16")
    assert not beyond_roofline(Timing(200.0, 190.0, 210.0, 30), p, "NVIDIA H100 80GB HBM3", "float16")
    assert not beyond_roofline(Timing(20.0, 19.0, 21.0, 30, unit="cycles"), p, "NVIDIA H100 80GB HBM3", "float16")


def test_eager_and_inductor_are_timed_in_the_worker_on_the_same_inputs(evaluator):
    problem = dataclasses.replace(PROBLEMS["sum_prod"], key="test-sum_prod-with-inductor")
    names = evaluator.baseline_names
    evaluator.baseline_names = ("eager", "inductor")
    try:
        base = evaluator.baselines(problem)
        good = next(c for c in corpus("good") if c.name == "two_outputs")
        result = evaluator.evaluate(problem, good.source)
    finally:
        evaluator.baseline_names = names
    assert set(base) == {"eager", "inductor"}
    for name in ("eager", "inductor"):
        assert base[name].get("error") is None, base[name]
        assert base[name]["median"] > 0 and base[name]["device"] == "cpu" and base[name]["dtype"] == "float32"
    assert evaluator.baselines(problem) is base  # timed once per problem
    assert result.ok and result.timings["inductor"] == base["inductor"]
    assert "inductor" in result.reason and "eager" in result.reason


def test_launch_bound_calls_are_compared_by_their_back_to_back_time():
    cold = Timing(10.0, 9.0, 12.0, 30)  # the kernels' own time, launch hidden behind the L2 flush
    launch_bound = with_steady(cold, 45.0)  # a CPU-bound caller sees 45 us per call
    assert (launch_bound.median, launch_bound.p20, launch_bound.p80) == (45.0, 44.0, 47.0)
    assert (launch_bound.gpu_median, launch_bound.steady) == (10.0, 45.0)
    gpu_bound = with_steady(cold, 8.0)  # back to back overlaps launches: the GPU time stands
    assert (gpu_bound.median, gpu_bound.p20, gpu_bound.p80) == (10.0, 9.0, 12.0) and gpu_bound.steady == 8.0


def test_timing_json_round_trips_with_its_labels():
    t = with_steady(Timing(10.0, 9.0, 12.0, 30), 45.0)
    assert Timing.from_json(timing_json(t, "NVIDIA H100 80GB HBM3", "float32")) == t


class _FakeEvent:
    """A CUDA event stand-in on a fake clock: each call under test advances it by 7 us."""

    clock_ms = 0.0

    def __init__(self, enable_timing: bool = False):
        self.at = None

    def record(self):
        self.at = _FakeEvent.clock_ms

    def elapsed_time(self, end: "_FakeEvent") -> float:
        return end.at - self.at


def test_the_cuda_path_reports_gpu_time_and_host_time(monkeypatch):
    # The CUDA branch runs on every GPU evaluation, so exercise it here with a fake clock: events
    # that see 7 us per call, and a host that spends its time elsewhere (the steady figure).
    import torch_llmbackend.evaluate.timing as timing

    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a, **k: None)
    monkeypatch.setattr(timing, "_l2_flush_buffer", lambda: torch.empty(4, dtype=torch.int32))
    monkeypatch.setattr(timing, "_gpu_cycles_per_us", lambda: 1000.0)
    sleeps, calls = [], []
    monkeypatch.setattr(torch.cuda, "_sleep", lambda cycles: sleeps.append((cycles, len(calls))))

    def fn():
        calls.append(1)
        _FakeEvent.clock_ms += 0.007

    t = measure(fn, "cuda", runs=12)
    assert len(calls) == timing.CUDA_WARMUP + 12 + timing.STEADY_BATCHES * timing.STEADY_CALLS
    assert t.runs == 12 and t.gpu_median == pytest.approx(7.0) and t.steady is not None and t.steady > 0
    assert t.median == pytest.approx(max(7.0, t.steady))
    # each timed call is issued while the GPU sleeps for longer than the host needs to issue it
    assert len(sleeps) == 12 and all(cycles >= 1000.0 * 3 * t.steady for cycles, _ in sleeps)
    assert [n for _, n in sleeps] == sorted(n for _, n in sleeps)  # one sleep before each call
    baseline = measure(fn, "cuda", runs=12, steady=False)  # Inductor's figure: kernel time only
    assert baseline.median == pytest.approx(7.0) and baseline.steady is None


def test_the_inductor_baseline_runs_inductors_code_without_torch_compiles_wrappers():
    # The reference of a subgraph, with an in-place op and two outputs: Inductor compiles its
    # functional ATen graph, called directly (as the backend calls Inductor for a graph's rest).
    from torch_llmbackend.evaluate.pipeline import lean_inductor

    class Model(torch.nn.Module):
        def forward(self, x, w):
            y = torch.ops.aten.mm.default(x, w)
            z = y.clone()
            torch.ops.aten.relu_.default(z)
            return z, torch.ops.aten.sum.dim_IntList(y, [1])

    x, w = torch.randn(8, 16), torch.randn(16, 4)
    run = lean_inductor(Model(), [x, w])
    z, s = run()
    torch.testing.assert_close(z, torch.relu(x @ w))
    torch.testing.assert_close(s, (x @ w).sum(1))


def test_candidates_measured_in_turns_keep_their_best_figure(monkeypatch):
    # A GPU whose clocks ramp up while it works: every figure is better than the one before.
    # Timed once each in order, the first candidate would pay for the slow start.
    from torch_llmbackend.evaluate import timing

    order, clock = [], iter([300.0, 150.0, 120.0, 130.0])

    def drifting_measure(fn, device_type, runs=None, steady=True):
        order.append(fn())
        return Timing(next(clock), 0.0, 0.0, 1)

    monkeypatch.setattr(timing, "measure", drifting_measure)
    first, second = timing.measure_alternating([lambda: "a", lambda: "b"], "cpu")
    assert order == ["a", "b", "a", "b"]
    assert (first.median, second.median) == (120.0, 130.0)  # in one pass it would be 300 vs 150


def test_long_calls_are_compared_on_a_few_synchronized_runs(monkeypatch):
    # A model whose call takes longer than LONG_CALL_US is not put through measure()'s ~85 calls
    # per figure: choosing between two such graphs must not add seconds to a compile.
    import time

    from torch_llmbackend.evaluate import timing

    monkeypatch.setattr(timing, "LONG_CALL_US", 1_000.0)
    monkeypatch.setattr(timing, "measure", lambda *a, **k: pytest.fail("measure() on a long call"))
    calls = {"slow": 0, "fast": 0}

    def call(name, seconds):
        def run():
            calls[name] += 1
            time.sleep(seconds)
        return run

    slow, fast = timing.measure_alternating([call("slow", 0.004), call("fast", 0.002)], "cpu")
    assert calls == {"slow": 1 + 2 * timing.LONG_CALL_RUNS, "fast": 1 + 2 * timing.LONG_CALL_RUNS}
    assert fast.median < slow.median and fast.median >= 2_000.0


def test_inductor_sees_a_hand_written_attention_as_torch_compile_does():
    # q @ k^T -> softmax -> @ v becomes one fused attention op, as under torch.compile's
    # Inductor (without the passes a bf16 BERT layer ran at half Inductor's speed).
    import math

    from torch._inductor.decomposition import select_decomp_table
    from torch.fx.experimental.proxy_tensor import make_fx

    from torch_llmbackend.evaluate.inductor import compile_with_inductor, inference_passes

    def attention(q, k, v):
        return (torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v,)

    q, k, v = (torch.randn(2, 4, 64, 32) for _ in range(3))
    graph = make_fx(attention, decomposition_table=select_decomp_table(), tracing_mode="fake")(q, k, v)
    ops = {str(n.target) for n in inference_passes(graph).graph.nodes if n.op == "call_function"}
    assert any("scaled_dot_product" in op for op in ops) and "aten.bmm.default" not in ops, ops
    (out,) = compile_with_inductor(graph, [q, k, v], inference=True)([q, k, v])
    torch.testing.assert_close(out, attention(q, k, v)[0])


def test_the_inductor_baseline_compiles_a_reference_with_weights():
    from torch_llmbackend.evaluate.pipeline import lean_inductor

    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.GELU())
    x = torch.randn(4, 16)
    (out,) = lean_inductor(model, [x])()
    with torch.no_grad():
        torch.testing.assert_close(out, model(x))


def test_inductor_is_told_to_keep_every_outputs_eager_strides():
    # torch.compile's own callers mark the outputs whose strides Inductor must keep; ours too
    from torch._inductor.decomposition import select_decomp_table
    from torch.fx.experimental.proxy_tensor import make_fx

    from torch_llmbackend.evaluate.inductor import compile_with_inductor

    x = torch.randn(8, 16)
    for inference in (True, False):
        graph = make_fx(lambda t: (t.t() * 2, t.sum(0)), decomposition_table=select_decomp_table(), tracing_mode="fake")(x)
        a, b = compile_with_inductor(graph, [x], inference=inference)([x])
        assert graph.graph.output_node().meta["user_visible_output_idxs"] == [0, 1]
        assert a.stride() == (1, 16) and torch.equal(a, x.t() * 2) and torch.allclose(b, x.sum(0))
