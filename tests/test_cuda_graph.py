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
    monkeypatch.setattr(cuda_graph, "DEVICE_TYPES", ("cpu",))
    monkeypatch.setattr(cuda_graph, "capture_cuda", simulated_capture)


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
    """The whole-graph check let onto the CPU; the clock answers from `figures` in order."""
    monkeypatch.setattr(whole_graph, "DEVICE_TYPES", ("cpu",))
    figures = []

    def fake_measure_alternating(fns, device_type, rounds=2):
        for fn in fns:
            fn()
        return [Timing(figures.pop(0), 0.0, 0.0, 1) for _ in fns]

    monkeypatch.setattr(timing, "measure_alternating", fake_measure_alternating)
    return figures


def _compile(cache_dir, **options):
    return torch.compile(_Scale(), backend="llm", options={"cache_dir": cache_dir, "mode": "offline", **options})


@pytest.mark.parametrize("plain_us, replay_us, replayed", [(100.0, 40.0, True), (100.0, 96.0, False)])
def test_a_replay_runs_only_where_it_is_timed_faster(cache_dir, timed_on_cpu, plain_us, replay_us, replayed):
    timed_on_cpu.extend([80.0, 120.0, plain_us, replay_us])  # compiled beats eager, then the replay check
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad():
        fn = _compile(cache_dir)
        outs = [fn(x, w) for _ in range(3)]
    for out in outs:
        torch.testing.assert_close(out, _Scale()(x, w))
    rows = torch_llmbackend.report()
    assert rows and all(("CUDA graph (40.0 us vs 100.0 us)" in r["runs"]) == replayed for r in rows), rows


def test_cuda_graphs_can_be_switched_off(cache_dir, timed_on_cpu):
    timed_on_cpu.extend([80.0, 120.0, 100.0, 40.0])
    x, w = torch.randn(4, 8), torch.randn(8, 3)
    with torch.no_grad():
        _compile(cache_dir, cuda_graphs=False)(x, w)
    assert timed_on_cpu == [100.0, 40.0]  # the replay was never timed
    assert not any("CUDA graph" in r["runs"] for r in torch_llmbackend.report())
