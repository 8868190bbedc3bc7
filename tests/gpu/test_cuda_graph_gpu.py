"""CUDA-graph replay of a compiled inference graph on the GPU: a replay gives what a call gives,
whatever the caller does between calls (new inputs, inputs changed in place, outputs kept,
another stream)."""
import pytest
import torch

import torch_llmbackend
from torch_llmbackend.cuda_graph import CudaGraphCall

pytestmark = pytest.mark.gpu


def _block(x, w, b):
    return (torch.nn.functional.gelu(x @ w + b).softmax(-1), x.sum(0))


def _inputs(seed):
    g = torch.Generator(device="cuda").manual_seed(seed)
    return [torch.randn(64, 128, device="cuda", generator=g), torch.randn(128, 96, device="cuda", generator=g),
            torch.randn(96, device="cuda", generator=g)]


def _close(got, want):
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_replays_match_calls_with_new_inputs_moved_inputs_and_outputs_kept():
    x, w, b = _inputs(0)
    graphed = CudaGraphCall(_block, [x, w, b])
    kept = []
    for seed in range(6):
        fresh = _inputs(seed)
        args = [fresh[0], w, b] if seed % 2 else [x, w, b]  # x moves on odd calls
        if seed % 2 == 0:
            x.copy_(fresh[0])  # changed in place: the replay must read the new values
        out = graphed(*args)
        kept.append((out, _block(*args)))
    torch.cuda.synchronize()
    for out, want in kept:  # every output kept stays what its call returned
        _close(out, want)
    assert graphed.captures == 2  # x moved once: captured again with x copied in
    assert graphed.plain_calls >= 1  # with every output kept, the buffers ran out: plain calls


def test_outputs_dropped_each_call_are_replayed_without_plain_calls():
    x, w, b = _inputs(1)
    graphed = CudaGraphCall(_block, [x, w, b])
    for _ in range(5):
        out = graphed(x, w, b)
    _close(out, _block(x, w, b))
    assert graphed.plain_calls == 0


def test_another_stream_runs_plainly():
    x, w, b = _inputs(2)
    graphed = CudaGraphCall(_block, [x, w, b])
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        out = graphed(x, w, b)
    torch.cuda.current_stream().wait_stream(side)
    _close(out, _block(x, w, b))
    assert graphed.plain_calls == 1


class _Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(128, 96)

    def forward(self, x):
        return torch.nn.functional.gelu(self.lin(x)).softmax(-1)


def test_a_compiled_model_stays_right_whatever_runs_it(cache_dir):
    torch.manual_seed(0)
    model = _Block().cuda().eval()
    xs = [torch.randn(64, 128, device="cuda") for _ in range(4)]
    with torch.no_grad():
        compiled = torch.compile(model, backend="llm", options={"cache_dir": cache_dir, "mode": "offline"})
        outs = [compiled(x) for x in xs] + [compiled(xs[0])]
        want = [model(x) for x in xs] + [model(xs[0])]
    print("\n[cuda graph] runs:", [r["runs"] for r in torch_llmbackend.report()])
    for a, b in zip(outs, want):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
