"""The CUDA loader on the GPU: cold build time per toolchain (goal: under 2 s), launches on
torch's current stream, argument checks, large dynamic shared memory, CUDA graph capture."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from torch_llmbackend.targets.cuda_loader import CudaLaunchError, load_cuda

pytestmark = pytest.mark.gpu

SCALE = r"""
extern "C" __global__ void scale(const float* __restrict__ x, float* y, float a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}

extern "C" __global__ void reverse_in_shared(const float* x, float* y, int n)
{
    extern __shared__ float buf[];
    for (int i = threadIdx.x; i < n; i += blockDim.x) buf[i] = x[i];
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += blockDim.x) y[i] = buf[n - 1 - i];
}
"""

COLD_SCRIPT = textwrap.dedent('''
    import json, sys, time
    import torch
    torch.cuda.init()
    start = time.perf_counter()
    from torch_llmbackend.targets import cuda_loader
    mod = cuda_loader.load_cuda(sys.argv[1])
    mod.kernel("scale")
    total = time.perf_counter() - start
    print(json.dumps({"toolchain": cuda_loader.compiler().name, "total_s": total, "nvrtc_s": mod.compile_seconds,
                      "cached": mod.built.cached, "nvrtc": list(cuda_loader.compiler().version),
                      "includes": list(cuda_loader.include_dirs())}))
''')


def _cold_build(toolchain: str, cache: str, source: str) -> dict:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "LLMBACKEND_CACHE_DIR": cache, "LLMBACKEND_CUDA_TOOLCHAIN": toolchain,
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run([sys.executable, "-c", COLD_SCRIPT, source], env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_kernel_builds_cold_in_under_two_seconds(tmp_path):
    """Fresh process and empty cache: loader import, NVRTC, module load and kernel lookup."""
    results = {}
    for toolchain in ("cuda-python", "cupy"):
        try:
            results[toolchain] = _cold_build(toolchain, str(tmp_path / toolchain), SCALE)
        except AssertionError as e:
            results[toolchain] = {"unavailable": str(e)[-300:]}
    warm = _cold_build("cuda-python", str(tmp_path / "cuda-python"), SCALE) if "total_s" in results["cuda-python"] else None
    print("\n[cold build]", json.dumps(results, indent=1), "\n[disk-cache hit]", json.dumps(warm))
    preferred = results["cuda-python"] if "total_s" in results["cuda-python"] else results["cupy"]
    assert not preferred["cached"] and preferred["total_s"] < 2.0
    if warm:
        assert warm["cached"] and warm["total_s"] < preferred["total_s"]


def test_launch_runs_on_the_current_stream_and_computes():
    k = load_cuda(SCALE).kernel("scale")
    x = torch.randn(100_003, device="cuda")
    y = torch.empty_like(x)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        torch.cuda._sleep(2_000_000)  # the launch must queue behind this on the same stream
        k(((x.numel() + 255) // 256,), (256,), (x, y, 3.0, x.numel()))
    torch.cuda.current_stream().wait_stream(stream)
    torch.testing.assert_close(y, 3.0 * x)


def test_wrong_calls_are_refused_before_the_gpu_sees_them():
    k = load_cuda(SCALE).kernel("scale")
    x = torch.randn(16, device="cuda")
    with pytest.raises(CudaLaunchError, match="tensor is float16 but the parameter points to float"):
        k((1,), (32,), (x.half(), x, 1.0, 16))
    with pytest.raises(CudaLaunchError, match="takes 4 parameters"):
        k((1,), (32,), (x, x, 1.0))
    with pytest.raises(CudaLaunchError, match="kernels need CUDA tensors"):
        k((1,), (32,), (x.cpu(), x, 1.0, 16))
    with pytest.raises(CudaLaunchError, match="not found in the module"):
        load_cuda(SCALE).kernel("scal")


def test_dynamic_shared_memory_above_48_kb_is_enabled():
    k = load_cuda(SCALE).kernel("reverse_in_shared")
    n = 40_000  # 160 KB of floats in one block
    x = torch.randn(n, device="cuda")
    y = torch.empty_like(x)
    k((1,), (1024,), (x, y, n), shared_mem=4 * n)
    torch.testing.assert_close(y, x.flip(0))


def test_launches_are_captured_by_cuda_graphs():
    k = load_cuda(SCALE).kernel("scale")
    x = torch.randn(4096, device="cuda")
    y = torch.empty_like(x)
    k((16,), (256,), (x, y, 2.0, 4096))  # warm-up outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        k((16,), (256,), (x, y, 2.0, 4096))
    x.copy_(torch.arange(4096, device="cuda", dtype=torch.float32))
    graph.replay()
    torch.cuda.synchronize()
    torch.testing.assert_close(y, 2.0 * x)


def test_swiglu_scalar_path_for_odd_lengths(tmp_path):
    from tests.gpu.cases import case_named
    from torch_llmbackend.targets import get_target

    module = get_target("cuda").load(case_named("cu_swiglu").source, str(tmp_path))
    a, b = torch.randn(3, 1001, device="cuda").half(), torch.randn(3, 1001, device="cuda").half()
    torch.testing.assert_close(module.ModelNew()(a, b), torch.nn.functional.silu(a) * b, rtol=1e-2, atol=1e-2)
