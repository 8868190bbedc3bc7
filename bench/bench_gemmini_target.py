"""The gemmini target's kernels against its library baseline, in simulated cycles.

    pytest bench/bench_gemmini_target.py --benchmark-enable -s

GEMMs: the ResNet-50 shapes as the target runs an int8 linear layer (torch._int_mm followed by
the requantize chain, fused into the mvout scale): the library baseline exactly as
targets/gemmini_lower.py emits it (tiled_matmul_auto, WS) against a hand-written ("curated")
schedule of the kind the optimisation phase asks an LLM for: tiling chosen for overlap (accumulator
tiles of at most 4 x 8 DIM-blocks, the full reduction per tile up to 32 blocks) instead of the
library's greedy fill. Convolutions: two ResNet-50 3x3 layers through tiled_conv_auto (the
library baseline; no curated kernel yet). Cycles, MACs, utilization and the speed-up go into each
benchmark's extra_info; the wall time pytest-benchmark reports is the simulation's, not the
accelerator's. Figures are from gemmini_runtime's cycle model (gemmini_runtime/README.md).
"""
from __future__ import annotations

import pytest
import torch

from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

GEMMS = [(12544, 64, 256), (3136, 128, 512), (784, 256, 1024), (512, 512, 512)]  # I x J x K
CONVS = [(1, 56, 64, 64), (1, 14, 256, 256)]  # batch, image side, in channels, out channels (3x3, pad 1)
DIM, SCALE = 16, "0.05f"


def library_gemm(i: int, j: int, k: int) -> str:
    return f"""#include "include/gemmini.h"
void kernel(const elem_t *A, const elem_t *B, elem_t *C) {{
  tiled_matmul_auto({i}, {j}, {k}, A, B, NULL, C, {k}, {j}, {j}, {j},
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      RELU, {SCALE}, 0, false, false, false, false, false, 0, WS);
}}"""


def curated_tiles(i: int, j: int, k: int) -> tuple[int, int, int]:
    """Accumulator tiles of at most 4 x 8 blocks (half the accumulator: I*J*DIM <= 512), wide in
    J so each A block is reused across more weights; the reduction as deep as the scratchpad
    half allows (32 blocks), so partial sums rarely leave the accumulator."""
    tj = min(8, j // DIM)
    ti = min(32 // tj, i // DIM)
    tk = min(k // DIM, 32)
    while (ti * tk + tk * tj) * DIM > 8192:
        tk //= 2
    return ti, tj, tk


def curated_gemm(i: int, j: int, k: int) -> str:
    ti, tj, tk = curated_tiles(i, j, k)
    return f"""#include "include/gemmini.h"
void kernel(const elem_t *A, const elem_t *B, elem_t *C) {{
  tiled_matmul({i}, {j}, {k}, A, B, NULL, C, {k}, {j}, {j}, {j},
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      RELU, {SCALE}, 0, false, {ti}, {tj}, {tk}, false, false, false, false, 0, WS);
}}"""


def conv(batch: int, side: int, cin: int, cout: int) -> str:
    return f"""#include "include/gemmini.h"
void kernel(const elem_t *x, const elem_t *w, const acc_t *b, elem_t *y) {{
  tiled_conv_auto({batch}, {side}, {side}, {cin}, {cout}, {side}, {side}, 1, 1, 1, 1, 3,
      false, false, false, false, false, x, w, b, y, RELU, {SCALE}, 0, 0, 0, WS);
}}"""


def int8(*shape, seed: int = 0) -> torch.Tensor:
    return torch.randint(-8, 8, shape, dtype=torch.int8, generator=torch.Generator().manual_seed(seed))


def requantized_reference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.clamp(torch.round(torch._int_mm(a, b).float() * 0.05), 0, 127).to(torch.int8)


def record(benchmark, stats, **extra) -> None:
    benchmark.extra_info.update(cycles=stats.cycles, macs=stats.macs, utilization=round(stats.utilization, 4),
                                instructions=stats.instructions, load_busy=stats.load_busy,
                                execute_busy=stats.execute_busy, store_busy=stats.store_busy, **extra)


@pytest.fixture(scope="module")
def library_cycles() -> dict:
    return {}


@pytest.mark.parametrize("kernel", ["library", "curated"])
@pytest.mark.parametrize("shape", GEMMS, ids=["x".join(map(str, s)) for s in GEMMS])
def test_resnet50_gemm_cycles(benchmark, library_cycles, shape, kernel):
    i, j, k = shape
    source = library_gemm(i, j, k) if kernel == "library" else curated_gemm(i, j, k)
    run = GemminiKernel(source, "kernel", config="int8")
    a, b, c = int8(i, k, seed=1), int8(k, j, seed=2), torch.empty(i, j, dtype=torch.int8)
    stats = benchmark.pedantic(run, args=(a, b, c), rounds=1, iterations=1)
    assert torch.equal(c, requantized_reference(a, b))
    assert stats.macs == i * j * k
    extra = {"tiles": list(curated_tiles(i, j, k))} if kernel == "curated" else {}
    if kernel == "library":
        library_cycles[shape] = stats.cycles
    elif shape in library_cycles:
        extra["speedup_vs_library"] = round(library_cycles[shape] / stats.cycles, 4)
    record(benchmark, stats, kernel=kernel, **extra)
    print(f"\n{kernel} {i}x{j}x{k}: {stats.cycles:,} cycles, utilization {stats.utilization:.1%}"
          + (f", {extra['speedup_vs_library']:.3f}x the library" if "speedup_vs_library" in extra else ""))


@pytest.mark.parametrize("shape", CONVS, ids=[f"{s[1]}x{s[1]}x{s[2]}-{s[3]}" for s in CONVS])
def test_resnet50_conv_library_cycles(benchmark, shape):
    batch, side, cin, cout = shape
    run = GemminiKernel(conv(*shape), "kernel", config="int8")
    x, w = int8(batch, side, side, cin, seed=3), int8(3 * 3 * cin, cout, seed=4)
    bias, y = torch.zeros(cout, dtype=torch.int32), torch.empty(batch, side, side, cout, dtype=torch.int8)
    stats = benchmark.pedantic(run, args=(x, w, bias, y), rounds=1, iterations=1)
    assert stats.macs == batch * side * side * cout * cin * 9
    record(benchmark, stats, kernel="library")
    print(f"\nlibrary conv {side}x{side} {cin}->{cout}: {stats.cycles:,} cycles, utilization {stats.utilization:.1%}")
