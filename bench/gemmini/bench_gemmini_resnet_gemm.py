"""Modelled utilization of tiled_matmul_auto on the ResNet-50 GEMM shapes, WS (one loop_ws
per tile) and OS (explicit instructions), from the simulator's cycle model.

    pytest bench/gemmini/bench_gemmini_resnet_gemm.py --benchmark-enable -s

Cycles and utilization go into each benchmark's extra_info; the wall time measured is the
simulation's, not the accelerator's.
"""
from pathlib import Path

import numpy as np
import pytest

import gemmini_runtime as gr

KERNEL = Path(__file__).parent / "matmul_kernel.c"
SHAPES = [(12544, 64, 256), (3136, 128, 512), (784, 256, 1024), (512, 512, 512)]  # I x J x K


@pytest.fixture(scope="module")
def matmul():
    return gr.build_function(KERNEL, "matmul")


@pytest.mark.parametrize("dataflow", [1, 0], ids=["WS", "OS"])
@pytest.mark.parametrize("shape", SHAPES, ids=["x".join(map(str, s)) for s in SHAPES])
def test_tiled_matmul_auto_utilization(benchmark, matmul, shape, dataflow):
    I, J, K = shape
    rng = np.random.default_rng(0)
    A, B = rng.integers(-8, 8, (I, K), dtype=np.int8), rng.integers(-8, 8, (K, J), dtype=np.int8)
    C = np.zeros((I, J), np.int8)
    stats = benchmark.pedantic(matmul, args=(A, B, C, I, J, K, dataflow), rounds=1, iterations=1)
    benchmark.extra_info.update(cycles=stats.cycles, macs=stats.macs,
                                utilization=round(stats.utilization, 4),
                                instructions=stats.instructions,
                                load_busy=stats.load_busy, execute_busy=stats.execute_busy,
                                store_busy=stats.store_busy)
    print(f"\n{'WS' if dataflow else 'OS'} {I}x{J}x{K}: {stats.cycles} cycles, "
          f"utilization {100 * stats.utilization:.1f}%")
    assert stats.macs == I * J * K and 0 < stats.utilization <= 1
