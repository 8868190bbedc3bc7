"""The whole-graph check: an inference graph none of our kernels applies to goes to Inductor
whole, or runs eagerly where that is 5% faster, and the report says so. The check runs on GPUs
only; here it is let onto the CPU and the clock is faked, so the choice is the test's, not the
machine's."""
import pytest
import torch

import torch_llmbackend
from torch_llmbackend import whole_graph
from torch_llmbackend.evaluate import timing
from torch_llmbackend.records import Timing


class _Scale(torch.nn.Module):
    def forward(self, x, w):
        return torch.relu(x @ w) * 2


class _Dropout(torch.nn.Module):
    def forward(self, x, w):
        return torch.nn.functional.dropout(x @ w, 0.5, training=True)  # draws from the generator


class _MutatesInput(torch.nn.Module):
    def forward(self, x, w):
        x.mul_(2)
        return x @ w


@pytest.fixture
def fake_clock(monkeypatch):
    """Let the check run on the CPU; the timing answers `figures` (compiled, eager) and records
    what each candidate returned."""
    monkeypatch.setattr(whole_graph, "DEVICE_TYPES", ("cpu",))
    clock = {"figures": [], "timed": []}

    def fake_measure_alternating(fns, device_type, rounds=2):
        clock["timed"].extend(fn() for fn in fns)
        return [Timing(us, 0.0, 0.0, 1) for us in clock["figures"]]

    monkeypatch.setattr(timing, "measure_alternating", fake_measure_alternating)
    return clock


def _compile(model, cache_dir, **options):
    return torch.compile(model, backend="llm", options={"cache_dir": cache_dir, "mode": "offline", **options})


@pytest.mark.parametrize("inductor_us, eager_us, eager_runs", [(120.0, 80.0, True), (80.0, 120.0, False), (100.0, 96.0, False)])
def test_the_faster_of_inductor_and_eager_runs_the_whole_graph(cache_dir, fake_clock, inductor_us, eager_us, eager_runs):
    fake_clock["figures"] = [inductor_us, eager_us]
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad():
        out = _compile(_Scale(), cache_dir)(x, w)
    torch.testing.assert_close(out, _Scale()(x, w))
    assert len(fake_clock["timed"]) == 2  # both timed, on the inputs Dynamo compiled for
    for got in fake_clock["timed"]:
        torch.testing.assert_close(got if isinstance(got, torch.Tensor) else got[0], out)
    rows = torch_llmbackend.report()
    verdict = f"eager, whole graph ({eager_us:.1f} us vs Inductor {inductor_us:.1f} us)"
    if not eager_runs:  # eager must be 5% faster: a tie goes to Inductor
        verdict = f"inductor, whole graph ({inductor_us:.1f} us vs eager {eager_us:.1f} us)"
    assert rows and all(r["runs"] == verdict for r in rows), rows


@pytest.mark.parametrize("model_cls", [_Dropout, _MutatesInput])
def test_graphs_that_a_timing_run_would_change_are_not_timed(cache_dir, fake_clock, model_cls):
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    x_ours, x_eager = x.clone(), x.clone()
    with torch.no_grad():
        out = _compile(model_cls(), cache_dir)(x_ours, w)
        want = model_cls()(x_eager, w)
    assert fake_clock["timed"] == []
    assert out.shape == want.shape
    if model_cls is _MutatesInput:
        torch.testing.assert_close(out, want)
        torch.testing.assert_close(x_ours, x_eager)  # mutated once, not once per timing run


@pytest.mark.parametrize("options", [{"fallback": "inductor"}, {"fallback": "eager"}, {"prefer": "kernel"}])
def test_a_users_explicit_choice_is_not_second_guessed(cache_dir, fake_clock, options):
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad():
        out = _compile(_Scale(), cache_dir, **options)(x, w)
    torch.testing.assert_close(out, _Scale()(x, w))
    assert fake_clock["timed"] == []


def test_random_ops_are_recognised_in_an_aten_graph():
    from torch.fx.experimental.proxy_tensor import make_fx

    x = torch.rand(8)
    assert whole_graph.draws_random_numbers(make_fx(lambda t: torch.rand_like(t) + t)(x))
    assert whole_graph.draws_random_numbers(make_fx(lambda t: torch.bernoulli(t))(x))
    assert not whole_graph.draws_random_numbers(make_fx(lambda t: torch.softmax(t, 0) * 2)(x))


def test_a_failed_timing_leaves_the_compiled_graph_in_place(cache_dir, monkeypatch, caplog):
    monkeypatch.setattr(whole_graph, "DEVICE_TYPES", ("cpu",))

    def out_of_memory(fns, device_type, rounds=2):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(timing, "measure_alternating", out_of_memory)
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad(), caplog.at_level("WARNING", logger="torch_llmbackend"):
        out = _compile(_Scale(), cache_dir)(x, w)
    torch.testing.assert_close(out, _Scale()(x, w))
    assert "could not time the whole graph" in caplog.text
    assert not any(r["runs"].startswith("eager, whole graph") for r in torch_llmbackend.report())


def test_the_logged_table_shows_what_runs_in_the_end(cache_dir, fake_clock, caplog):
    fake_clock["figures"] = [120.0, 80.0]  # eager wins
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad(), caplog.at_level("INFO", logger="torch_llmbackend"):
        _compile(_Scale(), cache_dir)(x, w)
    tables = [r.getMessage() for r in caplog.records if r.getMessage().startswith("torch_llmbackend: inference graph")]
    assert len(tables) == 1, tables  # logged once, after the whole-graph check
    rows = tables[0].splitlines()[2:]
    assert rows and all(" eager, " in line for line in rows), tables[0]  # the runs column


def test_a_graph_compiled_inside_a_cuda_graph_capture_is_not_timed(cache_dir, fake_clock, monkeypatch):
    # A synchronize inside the user's capture would break it: the compiled graph runs untimed.
    monkeypatch.setattr(timing, "capturing", lambda device_type: True)
    fake_clock["figures"] = [120.0, 80.0]
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad():
        out = _compile(_Scale(), cache_dir)(x, w)
    torch.testing.assert_close(out, _Scale()(x, w))
    assert fake_clock["timed"] == []
