"""Dispatch overhead per kernel call on the GPU: what a winner costs on the host each time it
runs, from the bare launch up to the torch.library custom op the stitched graph calls, and the
same op replayed from a CUDA graph (which also shows that the op is capturable).

Run on a GPU: `pytest bench/bench_dispatch.py --benchmark-enable -s` (microseconds per call are
printed and kept in each benchmark's extra_info as us_per_call).

The kernel adds one to 1024 floats: its GPU time (a couple of microseconds) is below the host
cost of each path, so the figures are host-side dispatch cost, not kernel time. Each round makes
CALLS calls and synchronizes once.
"""
from __future__ import annotations

import pytest
import torch

from torch_llmbackend import runtime
from torch_llmbackend.targets import get_target
from torch_llmbackend.targets.base import spec_of

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="times CUDA launches")]

ADD_ONE = '''
import torch
from torch_llmbackend.targets.cuda_loader import load_cuda

CUDA_SRC = r"""
extern "C" __global__ void add_one(const float* __restrict__ x, float* __restrict__ y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] + 1.f;
}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = load_cuda(CUDA_SRC).kernel("add_one")

    def forward(self, x):
        y = torch.empty_like(x)
        n = x.numel()
        self.k(((n + 255) // 256,), (256,), (x, y, n))
        return y
'''

ADD_ONE_TRITON = '''
import torch
import triton
import triton.language as tl


@triton.jit
def _add_one(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + i, tl.load(x_ptr + i, mask=i < n) + 1.0, mask=i < n)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        n = x.numel()
        _add_one[(triton.cdiv(n, 256),)](x, y, n, BLOCK=256)
        return y
'''

N = 1024
CALLS = 200


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    module = get_target("cuda").load(ADD_ONE, str(tmp_path_factory.mktemp("dispatch")))
    model = module.ModelNew()
    x = torch.randn(N, device="cuda")
    spec = spec_of(x)
    op = runtime.kernel_op("benchdispatch" + "0" * 51, model, [spec], [spec])
    torch.testing.assert_close(op(x), x + 1)
    return model, op, x


def _calls(call):
    """One round: CALLS calls, then a synchronize (so the GPU never lags rounds behind)."""
    def round_of_calls():
        for _ in range(CALLS):
            call()
        torch.cuda.synchronize()

    return round_of_calls


def _time(benchmark, name: str, round_fn, note: str = "") -> None:
    """Time `round_fn` (CALLS kernel calls) and report microseconds per call."""
    for _ in range(3):
        round_fn()
    benchmark.pedantic(round_fn, rounds=30, warmup_rounds=2, iterations=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # None under --benchmark-disable
        us = stats.stats.median / CALLS * 1e6
        benchmark.extra_info["us_per_call"] = us
        print(f"\n[dispatch] {name:28} {us:6.2f} us per call  ({torch.cuda.get_device_name()}, torch {torch.__version__}){note}")


def test_torch_native_op(benchmark, kernel):
    """Reference point: an ATen op through PyTorch's dispatcher (allocates its output too)."""
    _, _, x = kernel
    _time(benchmark, "torch.add (ATen)", _calls(lambda: torch.add(x, 1.0)))


def test_raw_launch(benchmark, kernel):
    """The loader's launch alone: argument checks, packing, cuLaunchKernel (output preallocated)."""
    model, _, x = kernel
    y = torch.empty_like(x)
    grid, block = ((N + 255) // 256,), (256,)
    _time(benchmark, "raw launch (load_cuda)", _calls(lambda: model.k(grid, block, (x, y, N))))


def test_model_new_direct(benchmark, kernel):
    """ModelNew.forward called directly: allocation plus launch."""
    model, _, x = kernel
    _time(benchmark, "ModelNew direct", _calls(lambda: model(x)))


def test_custom_op(benchmark, kernel):
    """What the stitched graph calls: the torch.library op wrapping ModelNew."""
    _, op, x = kernel
    _time(benchmark, "custom op (runtime)", _calls(lambda: op(x)))


def test_kernel_slot_called_directly(benchmark, kernel):
    """What a stitched graph run as Python calls (runtime.call_directly): the op's slot."""
    _, op, x = kernel
    slot = runtime.slot_of(op)
    _time(benchmark, "kernel slot (direct)", _calls(lambda: slot(x)))


@pytest.mark.parametrize("fast", [True, False], ids=["fast-launch", "tritons-path"])
def test_triton_model_new(benchmark, tmp_path, monkeypatch, fast):
    """A one-kernel Triton ModelNew, launched through our fast path or through Triton's own."""
    from torch_llmbackend.targets import triton_launch

    if not fast:
        monkeypatch.setenv("LLMBACKEND_TRITON_FAST_LAUNCH", "0")
    triton_launch.fast_launch_supported.cache_clear()
    try:
        source = ADD_ONE_TRITON + ("" if fast else "\n# Triton's own launch path\n")  # another module
        model = get_target("triton").load(source, str(tmp_path)).ModelNew()
    finally:
        monkeypatch.undo()
        triton_launch.fast_launch_supported.cache_clear()
    x = torch.randn(N, device="cuda")
    torch.testing.assert_close(model(x), x + 1)
    _time(benchmark, f"Triton ModelNew ({'fast launch' if fast else 'Triton path'})", _calls(lambda: model(x)))


def test_custom_op_under_cuda_graph(benchmark, kernel):
    """The custom op captured CALLS times into one CUDA graph; a replay launches them all."""
    _, op, x = kernel
    static_x = x.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        op(static_x)  # warm-up off the capture, as torch.cuda.graph requires
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        outs = [op(static_x) for _ in range(CALLS)]
    static_x.copy_(torch.arange(N, device="cuda", dtype=torch.float32))
    graph.replay()
    torch.cuda.synchronize()
    torch.testing.assert_close(outs[-1], static_x + 1)

    def replay():
        graph.replay()
        torch.cuda.synchronize()

    _time(benchmark, "custom op in a CUDA graph", replay, note=" -- GPU-bound: kernel time plus the gap between graph nodes")


@pytest.fixture(scope="module")
def dynamic_op(kernel):
    """The op a dynamic graph stitches in: tensors and sizes in, a size-bucket lookup per call."""
    from torch.fx.experimental.proxy_tensor import make_fx

    from torch_llmbackend.graph import lift, partition

    model, _, x = kernel
    gm = make_fx(lambda t: t + 1, tracing_mode="symbolic")(x)
    (nodes,) = partition(gm, get_target("cuda"), 1).groups
    sub = lift(nodes)
    assert sub.dynamic
    table = runtime.SizeTable({(runtime.bucket(N),): True})
    op = runtime.dynamic_kernel_op("benchdynamic" + "0" * 52, model.forward, sub, table)
    torch.testing.assert_close(op(x), x + 1)
    return op, x


def test_dynamic_custom_op(benchmark, dynamic_op):
    """A dynamic subgraph's op: reads the bucket from the input's shape, then ModelNew."""
    op, x = dynamic_op
    _time(benchmark, "dynamic custom op", _calls(lambda: op(x)))


def test_dynamic_slot_called_directly(benchmark, dynamic_op):
    """The same, as a stitched graph run as Python calls it."""
    op, x = dynamic_op
    slot = runtime.slot_of(op)
    _time(benchmark, "dynamic slot (direct)", _calls(lambda: slot(x)))
