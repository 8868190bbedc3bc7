"""Simulator throughput: simulated MACs per second on one host core, on a large tiled matmul
(goal: >= 1e9). The rate is taken over the process's CPU time, so that other load on a
shared machine does not count against the simulator; wall time is in the benchmark stats.

    pytest bench/gemmini/bench_gemmini_throughput.py --benchmark-enable
"""
import time
from pathlib import Path

import numpy as np
import pytest

import gemmini_runtime as gr

KERNEL = Path(__file__).parent / "matmul_kernel.c"
WS, OS = 1, 0


@pytest.fixture(scope="module")
def matmul():
    return gr.build_function(KERNEL, "matmul")


@pytest.mark.parametrize("dataflow", [WS, OS], ids=["WS", "OS"])
def test_simulated_macs_per_second(benchmark, matmul, dataflow):
    n = 1024
    rng = np.random.default_rng(0)
    A, B = rng.integers(-8, 8, (n, n), dtype=np.int8), rng.integers(-8, 8, (n, n), dtype=np.int8)
    C = np.zeros((n, n), np.int8)
    cpu_seconds = []

    def run():
        t0 = time.process_time()
        stats = matmul(A, B, C, n, n, n, dataflow)
        cpu_seconds.append(time.process_time() - t0)
        return stats

    stats = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    macs_per_s = stats.macs / min(cpu_seconds)
    benchmark.extra_info.update(macs=stats.macs, macs_per_s=macs_per_s, cycles=stats.cycles,
                                utilization=stats.utilization)
    print(f"\n{'WS' if dataflow else 'OS'} {n}^3: {macs_per_s / 1e9:.2f} G simulated MACs/s")
    assert stats.macs == n ** 3
    assert macs_per_s >= 1e9
