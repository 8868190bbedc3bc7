"""The gemmini target's shipped (curated) kernels against its library baseline, in simulated cycles.

    pytest bench/bench_gemmini_target.py --benchmark-enable -s

GEMMs: the ResNet-50 shapes as the target runs an int8 linear layer (torch._int_mm followed by
the requantize chain, fused into the mvout scale): the library baseline exactly as
targets/gemmini/lower.py emits it (tiled_matmul_auto, WS) against the curated kernel
int8_linear_relu_gemmini.py (tiles chosen for overlap). Convolutions: the ResNet-50
shapes as the target runs them (float32, FP32 config: int8 convolutions have no PyTorch CPU
reference, so the compile path never makes them): tiled_conv_auto against
conv_relu_gemmini.py (weights resident per output-channel slice). The curated
modules (found by bench/curated/catalog.path_of: they ship, so they live in cache/) are the ones make_bundle ships (only where they win); `python -m bench.gemmini.summary`
measures the same through torch.compile. Cycles, MACs, utilization and the speed-up go into
each benchmark's extra_info; the wall time pytest-benchmark reports is the simulation's.
"""
from __future__ import annotations

import importlib.util

import pytest
import torch

from bench.curated import catalog
from bench.gemmini.problems import CONVS, GEMMS, SCALE
from torch_llmbackend.targets.gemmini_kernel import GemminiKernel, recording

def curated(name: str):
    spec = importlib.util.spec_from_file_location(name, catalog.path_of(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ModelNew()


def library_gemm(i: int, j: int, k: int) -> GemminiKernel:
    return GemminiKernel(f"""#include "include/gemmini.h"
void kernel(const elem_t *A, const elem_t *B, elem_t *C) {{
  tiled_matmul_auto({i}, {j}, {k}, A, B, NULL, C, {k}, {j}, {j}, {j},
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      RELU, {SCALE}f, 0, false, false, false, false, false, 0, WS);
}}""", "kernel", config="int8")


def library_conv(side: int, cin: int, cout: int, k: int) -> GemminiKernel:
    return GemminiKernel(f"""#include "include/gemmini.h"
void kernel(const elem_t *x, const elem_t *w, const acc_t *b, elem_t *y) {{
  tiled_conv_auto(1, {side}, {side}, {cin}, {cout}, {side}, {side}, 1, 1, 1, {k // 2}, {k},
      false, false, false, false, false, x, w, b, y, RELU, 1.0f, 0, 0, 0, WS);
}}""", "kernel", config="fp32")


def ints(*shape, dtype=torch.int8, seed: int = 0) -> torch.Tensor:
    return torch.randint(-8, 8, shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


def record(benchmark, stats, **extra) -> None:
    benchmark.extra_info.update(cycles=stats.cycles, macs=stats.macs, utilization=round(stats.utilization, 4), **extra)


@pytest.fixture(scope="module")
def library_cycles() -> dict:
    return {}


def run(benchmark, library_cycles, key, kernel, call, check) -> None:
    with recording() as rec:
        out = benchmark.pedantic(call, rounds=1, iterations=1)
    check(out)
    extra = {}
    if kernel == "library":
        library_cycles[key] = rec.cycles
    elif key in library_cycles:
        extra["speedup_vs_library"] = round(library_cycles[key] / rec.cycles, 4)
    record(benchmark, rec, kernel=kernel, **extra)
    print(f"\n{kernel} {key}: {rec.cycles:,} cycles, utilization {rec.utilization:.1%}"
          + (f", {extra['speedup_vs_library']:.3f}x the library" if extra else ""))


@pytest.mark.parametrize("kernel", ["library", "curated"])
@pytest.mark.parametrize("shape", GEMMS, ids=["x".join(map(str, s)) for s in GEMMS])
def test_resnet50_gemm_cycles(benchmark, library_cycles, shape, kernel):
    i, j, k = shape
    a, b = ints(i, k, seed=1), ints(k, j, seed=2)
    want = torch.clamp(torch.round(torch._int_mm(a, b).float() * SCALE), 0, 127).to(torch.int8)
    if kernel == "library":
        lib, c = library_gemm(i, j, k), torch.empty(i, j, dtype=torch.int8)
        call = lambda: (lib(a, b, c), c)[1]  # noqa: E731
    else:
        model = curated("int8_linear_relu_gemmini")
        call = lambda: model(a, b)  # noqa: E731
    run(benchmark, library_cycles, shape, kernel, call, lambda out: torch.testing.assert_close(out, want, rtol=0, atol=0))


@pytest.mark.parametrize("kernel", ["library", "curated"])
@pytest.mark.parametrize("shape", CONVS, ids=[f"{s[3]}x{s[3]}-{s[0]}x{s[0]}x{s[1]}-{s[2]}" for s in CONVS])
def test_resnet50_conv_cycles(benchmark, library_cycles, shape, kernel):
    side, cin, cout, k = shape
    x, w, bias = ints(1, cin, side, side, dtype=torch.float32, seed=3), ints(cout, cin, k, k, dtype=torch.float32, seed=4), ints(cout, dtype=torch.float32, seed=5)
    want = torch.relu(torch.nn.functional.conv2d(x, w, bias, padding=k // 2))  # small integers: exact in float32
    if kernel == "library":
        lib, y = library_conv(side, cin, cout, k), torch.empty(1, side, side, cout)
        x_nhwc, w_hwio = x.permute(0, 2, 3, 1).contiguous(), w.permute(2, 3, 1, 0).contiguous()
        call = lambda: (lib(x_nhwc, w_hwio, bias, y), y.permute(0, 3, 1, 2))[1]  # noqa: E731
    else:
        model = curated("conv_relu_gemmini")
        call = lambda: model(x, w, bias)  # noqa: E731
    run(benchmark, library_cycles, shape, kernel, call, lambda out: torch.testing.assert_close(out, want, rtol=0, atol=0))
