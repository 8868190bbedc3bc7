"""torch.compile(model, backend="llm") end to end on the CPU: correct forward and backward,
a report row with a reason for everything that was not a verified kernel."""
import copy
import logging

import pytest
import torch

import torch_llmbackend

from .models import MLP, AttentionBlock, ConvNet, inputs_for


def compile_and_compare(model, options):
    torch.manual_seed(0)
    eager_model, llm_model = model, copy.deepcopy(model)
    (x,) = inputs_for(model)
    x_eager, x_llm = x.clone().requires_grad_(), x.clone().requires_grad_()
    compiled = torch.compile(llm_model, backend="llm", options=options)
    out = compiled(x_llm)
    ref = eager_model(x_eager)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    out.square().sum().backward()
    ref.square().sum().backward()
    torch.testing.assert_close(x_llm.grad, x_eager.grad, rtol=1e-4, atol=1e-5)
    for p_llm, p_eager in zip(llm_model.parameters(), eager_model.parameters()):
        torch.testing.assert_close(p_llm.grad, p_eager.grad, rtol=1e-4, atol=1e-5)
    return torch_llmbackend.report()


@pytest.mark.parametrize("model_cls", [MLP, ConvNet, AttentionBlock])
def test_models_match_eager_forward_and_backward_with_the_triton_target(cache_dir, model_cls):
    rows = compile_and_compare(model_cls(), {"target": "triton", "fallback": "eager"})
    graphs = {r["graph"] for r in rows}
    assert {"forward", "backward"} <= graphs
    subgraphs = [r for r in rows if r["subgraph"] is not None]
    assert subgraphs, "the triton target should find subgraphs"
    for r in rows:
        assert r["source"] == "fallback" and r["reason"], r
        assert r["verified"] is False
    assert all(len(r["key"]) == 64 and "offline" in r["reason"] for r in subgraphs)


def test_without_a_target_the_whole_graph_falls_back_with_the_reason(cache_dir):
    rows = compile_and_compare(MLP(), {"fallback": "eager"})
    assert rows and all(r["target"] == "none" for r in rows)
    assert "no kernel target for cpu inputs" in rows[0]["reason"]


def test_inductor_runs_the_rest_on_cpu_by_default(cache_dir):
    torch._dynamo.reset()
    model = MLP()
    (x,) = inputs_for(model)
    with torch.no_grad():
        out = torch.compile(model, backend="llm", options={"target": "triton"})(x)
        torch.testing.assert_close(out, model(x), rtol=1e-4, atol=1e-5)
    rows = torch_llmbackend.report()
    # no kernel of ours applies (offline, empty cache): Dynamo's whole graph goes to Inductor
    assert rows and all(r["runs"] == "inductor, whole graph (no kernel of ours applies)" for r in rows)


def test_a_plan_sends_the_next_compile_straight_to_inductor_until_a_kernel_appears(cache_dir):
    from tests.agent.kernels import GOOD
    from torch_llmbackend.store.kernels import KernelEntry, KernelStore

    model = MLP()
    (x,) = inputs_for(model)
    opts = {"target": "triton"}
    with torch.no_grad():
        torch.compile(model, backend="llm", options=opts)(x)
        first = torch_llmbackend.report()
        torch._dynamo.reset()
        torch.testing.assert_close(torch.compile(model, backend="llm", options=opts)(x), model(x), rtol=1e-4, atol=1e-5)
    (row,) = torch_llmbackend.report()
    assert row["graph"] == "whole" and row["reason"].startswith("plan ") and row["runs"] == "inductor"

    key = next(r["key"] for r in first if r["key"])  # a kernel for one subgraph is stored since
    with KernelStore(cache_dir) as store:
        store.put(KernelEntry(key=key, target="triton", signature="", source=GOOD))
    torch._dynamo.reset()
    with torch.no_grad():
        torch.compile(model, backend="llm", options=opts)(x)
    assert not any(r["reason"].startswith("plan ") for r in torch_llmbackend.report())


def test_misses_are_queued_for_batch_export(cache_dir):
    from torch_llmbackend.store.kernels import KernelStore

    compile_and_compare(MLP(), {"target": "triton", "fallback": "eager"})
    keys = {r["key"] for r in torch_llmbackend.report() if r["key"]}
    with KernelStore(cache_dir) as store:
        assert keys <= {p.key for p in store.pending()}


def test_the_table_is_logged_once_per_compiled_graph(cache_dir, caplog):
    with caplog.at_level(logging.INFO, logger="torch_llmbackend"):
        compile_and_compare(MLP(), {"target": "triton", "fallback": "eager"})
    tables = [r for r in caplog.records if "graph compiled in" in r.getMessage()]
    assert len(tables) == 2  # forward and backward
    assert "offline" in tables[0].getMessage()


def test_dynamic_graphs_are_partitioned_and_keyed_like_static_ones(cache_dir):
    model = MLP()
    compiled = torch.compile(model, backend="llm", dynamic=True, options={"target": "triton", "fallback": "eager"})
    with torch.no_grad():
        for n in (3, 5):
            x = torch.randn(n, 16)
            torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)
    rows = [r for r in torch_llmbackend.report() if r["subgraph"] is not None]
    assert rows and all(r["key"] and "queued" in r["reason"] for r in rows)
    assert not any("dynamic shape" in r["reason"] for r in torch_llmbackend.report())


def test_the_gemmini_name_is_valid_even_where_its_target_cannot_run(cache_dir):
    rows = compile_and_compare(MLP(), {"target": "cuda", "fallback": "eager"})
    assert all(r["source"] == "fallback" for r in rows)
    assert "cuda target" in rows[0]["reason"]


@pytest.mark.parametrize("eager_us, inductor_us, runs", [(50.0, 100.0, "eager"), (97.0, 100.0, "inductor"), (150.0, 100.0, "inductor")])
def test_the_leftover_graph_runs_in_the_faster_of_eager_and_inductor(monkeypatch, eager_us, inductor_us, runs):
    # On a GPU the rest of the graph is timed both ways, as the evaluator times kernels; the
    # clock is faked here: eager must win by 5% (ties go to Inductor, whose fusions usually
    # matter more in a bigger model than a few microseconds here).
    from torch_llmbackend import backend
    from torch_llmbackend.evaluate import timing
    from torch_llmbackend.records import Timing

    gm = torch.fx.symbolic_trace(lambda x: x * 0 + 1)  # the same output whatever the inputs hold
    compiled = lambda args: [gm(*args)]  # noqa: E731 (stands for Inductor's boxed callable)
    seen = []

    def fake_measure_alternating(fns, device_type, rounds=2):
        seen.extend(fn() for fn in fns)
        return [Timing(us, 0.0, 0.0, 1) for us in (eager_us, inductor_us)]

    monkeypatch.setattr(timing, "measure_alternating", fake_measure_alternating)
    chosen, why = backend._faster_on_gpu(gm, compiled, [torch.zeros(3)])
    assert why.startswith(runs) and f"{eager_us:.1f} us" in why and f"{inductor_us:.1f} us" in why
    assert (chosen is compiled) == (runs == "inductor")
    assert torch.equal(seen[0], torch.ones(3)) and torch.equal(seen[1][0], torch.ones(3))  # both timed on real inputs


def test_a_leftover_graph_that_cannot_be_timed_runs_in_inductor(monkeypatch, caplog):
    from torch_llmbackend import backend
    from torch_llmbackend.evaluate import timing

    def out_of_memory(fns, device_type, rounds=2):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(timing, "measure_alternating", out_of_memory)
    gm = torch.fx.symbolic_trace(lambda x: x * 0 + 1)
    compiled = lambda args: [gm(*args)]  # noqa: E731 (stands for Inductor's boxed callable)
    with caplog.at_level("WARNING", logger="torch_llmbackend"):
        chosen, why = backend._faster_on_gpu(gm, compiled, [torch.zeros(3)])
    assert chosen is compiled and why == "inductor (not timed: RuntimeError)"
    assert "could not time the leftover graph" in caplog.text


def test_a_leftover_graph_compiled_during_a_cuda_graph_capture_is_not_timed(monkeypatch):
    from torch_llmbackend import backend
    from torch_llmbackend.evaluate import timing

    monkeypatch.setattr(timing, "capturing", lambda device_type: True)
    monkeypatch.setattr(timing, "measure_alternating", lambda *a, **k: pytest.fail("timed inside a capture"))
    gm = torch.fx.symbolic_trace(lambda x: x * 0 + 1)
    compiled = lambda args: [gm(*args)]  # noqa: E731 (stands for Inductor's boxed callable)
    chosen, why = backend._faster_on_gpu(gm, compiled, [torch.zeros(3)])
    assert chosen is compiled and why == "inductor (not timed: compiled during a CUDA-graph capture)"


class _Scale(torch.nn.Module):
    def forward(self, x, w):
        return (torch.relu(x @ w) * 2,)


class _MutatesInput(torch.nn.Module):
    def forward(self, x, w):
        x.mul_(2)  # an input mutation: only AOTAutograd's wrapper writes it back
        return (x @ w,)


class _ReturnsAlias(torch.nn.Module):
    def forward(self, x, w):
        return (x @ w, x.view(-1))  # an output that aliases an input


def _compile_recording(model, options):
    """torch.compile with backend "llm", keeping what the backend returned to Dynamo."""
    from torch_llmbackend.backend import llm_backend

    returned = []

    def backend(gm, example_inputs):
        returned.append(llm_backend(gm, example_inputs, options=options))
        return returned[-1]

    return torch.compile(model, backend=backend), returned


@pytest.mark.parametrize("model_cls, direct", [(_Scale, True), (_MutatesInput, False), (_ReturnsAlias, False)])
def test_inference_graphs_skip_aotautograds_wrapper_only_where_nothing_needs_it(cache_dir, model_cls, direct):
    compiled, returned = _compile_recording(model_cls(), {"cache_dir": cache_dir, "mode": "offline", "fallback": "eager"})
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    x_ours, x_eager = x.clone(), x.clone()
    with torch.no_grad():
        got, want = compiled(x_ours, w), model_cls()(x_eager, w)
        again = compiled(x.clone(), w)
    assert [getattr(fn, "_llm_inference_direct", False) for fn in returned] == [direct]
    for a, b, c in zip(got, want, again):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(c, b)
    torch.testing.assert_close(x_ours, x_eager)  # the mutation happened, once


def test_a_graph_that_needs_autograd_keeps_aotautograds_path(cache_dir):
    compiled, returned = _compile_recording(_Scale(), {"cache_dir": cache_dir, "mode": "offline", "fallback": "eager"})
    x, w = torch.randn(4, 8, requires_grad=True), torch.randn(8, 3)
    (out,) = compiled(x, w)
    out.sum().backward()
    assert not getattr(returned[0], "_llm_inference_direct", False)
    assert x.grad is not None and torch.equal(x.grad, ((x.detach() @ w > 0) * 2.0) @ w.T)
    with torch.no_grad():  # the same model without autograd: Dynamo compiles again, now direct
        (out,) = compiled(x, w)
    assert [getattr(fn, "_llm_inference_direct", False) for fn in returned] == [False, True]
    torch.testing.assert_close(out, torch.relu(x.detach() @ w) * 2)


MAXPOOL_PROCESS = '''
import sys, torch
m = torch.nn.MaxPool1d(4, stride=2, padding=2, dilation=3)
x = torch.randn(2, 4, 256)
with torch.no_grad():
    out = torch.compile(m, backend=sys.argv[1], options={"target": "triton"} if sys.argv[1] == "llm" else None)(x)
torch.testing.assert_close(out, m(x))
if sys.argv[1] == "llm":
    import torch_llmbackend
    print("RUNS", [r["runs"] for r in torch_llmbackend.report()])
'''


def test_a_graph_inductor_compiled_in_another_process_is_not_left_eager(cache_dir, tmp_path):
    """Issue 19: with Inductor's cache warm from another process, the decompositions ran without
    Inductor's lowering module imported, and the graph fell back to eager."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor"), "PYTHONPATH": os.getcwd(),
           "LLMBACKEND_CACHE_DIR": cache_dir}
    for backend in ("inductor", "llm"):
        proc = subprocess.run([sys.executable, "-c", MAXPOOL_PROCESS, backend], capture_output=True, text=True,
                              timeout=600, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Inductor failed" not in proc.stderr
    runs = proc.stdout.split("RUNS", 1)[1]
    assert "inductor" in runs and "eager" not in runs


def test_when_one_way_into_inductor_fails_the_next_is_tried_and_named(cache_dir, monkeypatch, caplog, tmp_path):
    """A training step's graphs go through our path (forward and backward are compiled apart),
    so the rest of each graph goes to Inductor: the first way failing costs nothing, both failing
    leave eager with each cause named."""
    from torch_llmbackend.backend import GraphCompiler

    def boom(self, gm, example_inputs):
        raise RuntimeError("lowering exploded")

    monkeypatch.setattr(GraphCompiler, "_inductor_lowered", boom)
    rows = compile_and_compare(MLP(), {"target": "triton"})
    assert {r["runs"] for r in rows if r["source"] == "fallback"} == {"inductor"}
    assert "lowering exploded" in caplog.text

    torch._dynamo.reset()
    monkeypatch.setattr(GraphCompiler, "_inductor_whole", boom)
    # another cache folder: the first compile left a plan (no kernel applies) that would apply
    rows = compile_and_compare(MLP(), {"target": "triton", "cache_dir": str(tmp_path / "fresh")})
    assert {r["runs"] for r in rows} == {"eager (Inductor failed: lowered: RuntimeError: lowering exploded; "
                                         "compile_fx: RuntimeError: lowering exploded)"}


class _CountingEvaluator:
    """Stands for the evaluator: counts how often its workers are stopped."""

    def __init__(self):
        self.closed = 0

    def close(self):
        self.closed += 1


def test_one_warm_worker_serves_a_forward_graph_and_its_backward(cache_dir, monkeypatch):
    """The workers started for a forward graph stay up for its backward graph (AOTAutograd
    compiles it on the first backward call), and stop once it is compiled, or after a while."""
    from torch_llmbackend import backend
    from torch_llmbackend.options import Options

    session = backend.CompileSession(Options.resolve({"target": "triton"}))
    session._evaluator = evaluator = _CountingEvaluator()
    session.release(workers=False)  # after the forward graph
    assert evaluator.closed == 0 and session._idle_timer is not None
    session.hold_workers()  # the backward graph starts compiling
    session.release()  # ... and is done
    assert evaluator.closed == 1 and session._idle_timer is None

    monkeypatch.setattr(backend, "WORKER_IDLE_S", 0.05)
    session.release(workers=False)  # a forward graph whose backward never comes
    session._idle_timer.join(timeout=5)
    assert evaluator.closed == 2


def test_a_training_step_compiles_its_graphs_with_one_worker_start(cache_dir, monkeypatch):
    from torch_llmbackend import backend

    closed = []
    monkeypatch.setattr(backend.CompileSession, "release",
                        lambda self, workers=True: closed.append(workers))
    compile_and_compare(MLP(), {"target": "triton", "fallback": "eager"})
    assert closed == [False, True]  # kept after the forward graph, stopped after the backward
