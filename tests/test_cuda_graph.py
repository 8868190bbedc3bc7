"""CUDA-graph replay bookkeeping, on the CPU with a simulated capture: a "graph" that, like a
real one, reads its inputs where they lay at capture and writes its outputs into the same
tensors on every replay. What is checked is what a caller could see: every result right,
outputs kept by the caller never overwritten, inputs never written."""
import pytest
import torch

import torch_llmbackend
from torch_llmbackend import cuda_graph, whole_graph
from torch_llmbackend.cuda_graph import CudaGraphCall, GraphUnavailable
from torch_llmbackend.evaluate import timing
from torch_llmbackend.evaluate.timing import BackToBack
from torch_llmbackend.records import Timing


class _SimulatedGraph:
    def __init__(self, fn, args, outputs):
        self.fn, self.args, self.outputs = fn, args, outputs
        self.replays = 0

    def replay(self):
        self.replays += 1
        for static, new in zip(self.outputs, self.fn(*self.args)):
            static.copy_(new)


def simulated_capture(fn, args, stream):
    out = fn(*args)
    if isinstance(out, (list, tuple)):  # in memory of its own, like a private pool
        out = type(out)(o.clone() if isinstance(o, torch.Tensor) else o for o in out)
    return _SimulatedGraph(fn, list(args), out), out


@pytest.fixture
def on_cpu(monkeypatch):
    """Captures simulated on the CPU; back-to-back timings answer from the list returned (each
    callable is called once, so what it returns is checked too), by default a replay at half
    a plain call's time. An entry is a BackToBack, or one figure for both its times."""
    monkeypatch.setattr(cuda_graph, "DEVICE_TYPES", ("cpu",))
    monkeypatch.setattr(cuda_graph, "capture_cuda", simulated_capture)
    figures = []

    def fake_back_to_back(fns, device_type, calls=20, rounds=3):
        for fn in fns:
            fn()
        answer = [figures.pop(0) for _ in fns] if figures else [100.0] + [50.0] * (len(fns) - 1)
        return [f if isinstance(f, BackToBack) else BackToBack(f, f) for f in answer]

    monkeypatch.setattr(timing, "back_to_back_alternating", fake_back_to_back)
    return figures


def _block(x, w):
    return (torch.relu(x @ w), x.sum(0))


def test_replays_give_what_calls_give_and_kept_outputs_stay(on_cpu):
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    graphed = CudaGraphCall(_block, [x, w])
    first = graphed(x, w)
    x.add_(1)  # changed in place: read where it lies
    second = graphed(x, w)
    torch.testing.assert_close(second, _block(x, w))
    torch.testing.assert_close(first, _block(x - 1, w))  # kept, so not overwritten
    assert graphed.plain_calls == 0
    third = graphed(x, w)  # both buffers' outputs are held: a plain call
    assert graphed.plain_calls == 1
    torch.testing.assert_close(third, _block(x, w))
    torch.testing.assert_close(first, _block(x - 1, w))


def test_a_buffer_is_replayed_again_once_its_outputs_are_dropped(on_cpu):
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    graphed = CudaGraphCall(_block, [x, w])
    for _ in range(6):
        out = graphed(x, w)  # the previous call's outputs are alive during the call
        view = out[0][1:]  # a view keeps the storage alive as well
        del view
    assert graphed.plain_calls == 0
    assert sum(r.graph.replays for r in graphed.replays) == 6 + cuda_graph.BUFFERS  # one check per capture
    torch.testing.assert_close(out, _block(x, w))


def test_an_input_that_moves_is_copied_in_after_one_new_capture(on_cpu):
    w = torch.randn(8, 3)
    x0 = torch.randn(4, 8)
    graphed = CudaGraphCall(_block, [x0, w])
    for _ in range(4):
        x = torch.randn(4, 8)  # a new tensor each call, as from a data loader
        torch.testing.assert_close(graphed(x, w), _block(x, w))
    assert graphed.captures == 2 and graphed.copied_idx == [0]
    assert graphed.plain_calls == 0


def test_an_input_that_moves_runs_plainly_where_copying_it_in_costs_the_gain(on_cpu):
    on_cpu.extend([100.0, 98.0])  # plain, replay with the copy
    w = torch.randn(8, 3)
    graphed = CudaGraphCall(_block, [torch.randn(4, 8), w])
    xs = [torch.randn(4, 8) for _ in range(3)]
    for x in xs:
        torch.testing.assert_close(graphed(x, w), _block(x, w))
    assert graphed.plain_calls == 3 and graphed.replays == []


def test_a_capture_that_fails_later_leaves_plain_calls(on_cpu, caplog):
    made = []

    def fails_after_the_first_set(fn, args, stream):
        made.append(1)
        if len(made) > cuda_graph.BUFFERS:
            raise RuntimeError("CUDA out of memory (simulated)")
        return simulated_capture(fn, args, stream)

    w = torch.randn(8, 3)
    graphed = CudaGraphCall(_block, [torch.randn(4, 8), w], capture=fails_after_the_first_set)
    with caplog.at_level("WARNING", logger="torch_llmbackend"):
        for _ in range(3):
            x = torch.randn(4, 8)  # moves: a new capture is needed, and fails
            torch.testing.assert_close(graphed(x, w), _block(x, w))
    assert "could not capture the graph again" in caplog.text
    assert graphed.plain_calls == 3


def test_inputs_that_keep_moving_end_in_plain_calls(on_cpu):
    graphed = CudaGraphCall(_block, [torch.randn(4, 8), torch.randn(8, 3)])
    x = torch.randn(4, 8)
    for _ in range(cuda_graph.MAX_CAPTURES + 2):
        w = torch.randn(8, 3)  # the weight moves too, but only one input per capture set here
        x = torch.randn(4, 8) if graphed.captures < cuda_graph.MAX_CAPTURES else x
        torch.testing.assert_close(graphed(x, w), _block(x, w))
    assert graphed.captures <= cuda_graph.MAX_CAPTURES


def test_work_that_escaped_the_capture_is_caught_before_any_replay_is_used(on_cpu, monkeypatch):
    class _Escaped(_SimulatedGraph):
        def replay(self):  # the capture recorded nothing: a replay leaves the outputs as they were
            self.replays += 1

    def escaped_capture(fn, args, stream):
        outputs = [o.clone() for o in fn(*args)]  # right for these inputs, by the capture's own run
        return _Escaped(fn, args, outputs), outputs

    monkeypatch.setattr(cuda_graph, "capture_cuda", escaped_capture)
    with pytest.raises(RuntimeError, match="differs from a plain call"):
        CudaGraphCall(_block, [torch.randn(4, 8), torch.randn(8, 3)])


def test_what_cannot_be_captured_says_why(on_cpu):
    with pytest.raises(GraphUnavailable, match="not a list or tuple"):
        CudaGraphCall(lambda x: x * 2, [torch.randn(3)])
    with pytest.raises(GraphUnavailable, match="not a tensor"):
        CudaGraphCall(lambda x: (x * 2, 3), [torch.randn(3)])
    with pytest.raises(GraphUnavailable, match="one device"):
        CudaGraphCall(lambda x, n: (x * n,), [torch.randn(3), 2])


def test_no_capture_on_a_device_without_cuda_graphs():
    with pytest.raises(GraphUnavailable, match="not a CUDA device"):
        CudaGraphCall(_block, [torch.randn(4, 8), torch.randn(8, 3)])


# -- in the backend: the last step of the whole-graph check ------------------------------------

class _Scale(torch.nn.Module):
    def forward(self, x, w):
        return torch.relu(x @ w) * 2


@pytest.fixture
def timed_on_cpu(on_cpu, monkeypatch):
    """The whole-graph check let onto the CPU: measure_alternating answers (compiled, eager)
    from `figures["plain"]`, the back-to-back timing (plain winner, compiled replayed, eager
    replayed) from `on_cpu`."""
    monkeypatch.setattr(whole_graph, "DEVICE_TYPES", ("cpu",))
    figures = {"plain": [80.0, 120.0], "replay": on_cpu}

    def fake_measure_alternating(fns, device_type, rounds=2):
        for fn in fns:
            fn()
        return [Timing(us, 0.0, 0.0, 1) for us in figures["plain"]]

    monkeypatch.setattr(timing, "measure_alternating", fake_measure_alternating)
    return figures


def _compile(cache_dir, **options):
    return torch.compile(_Scale(), backend="llm", options={"cache_dir": cache_dir, "mode": "offline", **options})


_FASTER = "CUDA graph (40.0 us vs plain 100.0 us, host 40.0 us vs 100.0 us)"


@pytest.mark.parametrize("plain, replays, runs", [
    ([80.0, 120.0], [100.0, 40.0, 60.0], "inductor, whole graph, " + _FASTER),
    ([80.0, 120.0], [100.0, 70.0, 40.0], "eager, whole graph, " + _FASTER),
    ([120.0, 80.0], [100.0, 40.0, 60.0], "inductor, whole graph, " + _FASTER),
    ([120.0, 80.0], [100.0, 70.0, 40.0], "eager, whole graph (80.0 us vs Inductor 120.0 us), " + _FASTER),
    ([80.0, 120.0], [100.0, 96.0, 97.0], "{compiled}"),  # within the margin: no replay
    # GPU-bound here, and issued in half the host time: host-bound in the model, where Dynamo
    # adds its own host time to each call, and there the replay is faster
    ([80.0, 120.0], [BackToBack(30.0, 20.0), BackToBack(30.3, 9.0), BackToBack(31.0, 12.0)],
     "inductor, whole graph, CUDA graph (30.3 us vs plain 30.0 us, host 9.0 us vs 20.0 us)"),
    # the quickest replay saves no host time; the other, as quick within the noise, does
    ([80.0, 120.0], [BackToBack(30.0, 20.0), BackToBack(29.8, 19.5), BackToBack(30.2, 9.0)],
     "eager, whole graph, CUDA graph (30.2 us vs plain 30.0 us, host 9.0 us vs 20.0 us)"),
    # no slower, but no host time saved either: not worth two memory pools
    ([80.0, 120.0], [BackToBack(30.0, 20.0), BackToBack(29.9, 19.5), BackToBack(31.0, 19.0)], "{compiled}"),
    # less host time, but GPU-bound even with Dynamo's host time added: the 5% rule only
    ([80.0, 120.0], [BackToBack(2000.0, 30.0), BackToBack(2001.0, 9.0), BackToBack(2003.0, 9.0)], "{compiled}"),
    # less host time, but slower beyond the noise: the replay's GPU work is the longer
    ([80.0, 120.0], [BackToBack(30.0, 20.0), BackToBack(31.0, 9.0), BackToBack(32.0, 9.0)], "{compiled}"),
])
def test_the_fastest_replay_runs_where_it_beats_the_plain_winner(cache_dir, timed_on_cpu, plain, replays, runs):
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad():
        _compile(cache_dir, cuda_graphs=False)(x, w)  # compiled wins: the rows as compiled
        compiled_runs = [r["runs"] for r in torch_llmbackend.report()]
        torch._dynamo.reset()
        timed_on_cpu["plain"], timed_on_cpu["replay"][:] = plain, replays
        fn = _compile(cache_dir)
        outs = [fn(x, w) for _ in range(3)]
    for out in outs:
        torch.testing.assert_close(out, _Scale()(x, w))
    got = [r["runs"] for r in torch_llmbackend.report()]
    assert got == [runs.format(compiled=c) for c in compiled_runs]


def test_cuda_graphs_can_be_switched_off(cache_dir, timed_on_cpu):
    timed_on_cpu["replay"][:] = [100.0, 40.0, 40.0]
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad():
        _compile(cache_dir, cuda_graphs=False)(x, w)
    assert timed_on_cpu["replay"] == [100.0, 40.0, 40.0]  # no replay was timed
    assert not any("CUDA graph" in r["runs"] for r in torch_llmbackend.report())
