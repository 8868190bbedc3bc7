"""The cycle model of SPEC section 6: issue cost, decoupled queues with dependences,
fences, and the utilization of the library's schedules."""
from pathlib import Path

import numpy as np
import pytest

from gemmini_runtime.isa import ACC, GARBAGE_ADDR, WS, compute, config_ex, config_ld, config_st, mvin, preload

ISSUE = 4          # host cycles per RoCC instruction
DRAM_BYTES_PER_CYCLE = 8
LIBRARY = Path(__file__).parent / "kernels" / "library.c"


def test_every_host_instruction_costs_issue_cycles(run):
    stats = run([config_ld(16)] * 5 + [config_st(16)] * 5)
    assert stats.instructions == 10
    assert 10 * ISSUE <= stats.cycles < 10 * ISSUE + 8


def test_a_compute_waits_for_the_mvin_of_its_operand(run):
    a = np.zeros((16, 16), np.int8)
    alone = run([config_ex(WS), preload(GARBAGE_ADDR, ACC), compute(0, GARBAGE_ADDR, True)]).cycles
    after_load = run([config_ex(WS), config_ld(16), mvin(a, 0), preload(GARBAGE_ADDR, ACC),
                      compute(0, GARBAGE_ADDR, True)], a).cycles
    assert after_load >= alone + 16 + 64        # 256 bytes at 16 B/cycle, then memory latency


def test_independent_loads_and_computes_overlap(run):
    a = np.zeros((8, 16, 16), np.int8)
    loads = [mvin(a[i], 64 + 16 * i) for i in range(8)]
    computes = [x for i in range(8) for x in (preload(GARBAGE_ADDR, ACC), compute(0, GARBAGE_ADDR, True))]
    base = [config_ex(WS), config_ld(16)]
    only_loads = run(base + loads, a).cycles
    only_computes = run(base + computes).cycles
    both = run(base + [x for pair in zip(loads, computes[::2], computes[1::2]) for x in pair], a).cycles
    assert both < only_loads + only_computes


def test_fence_makes_the_host_wait_for_all_work(run):
    src = r'''
#include "include/gemmini_testutils.h"
void timed(const elem_t *a, uint64_t *t) {
  gemmini_config_ld(DIM);
  for (int i = 0; i < 8; i++) gemmini_mvin(a, i * DIM);
  t[0] = read_cycles();
  gemmini_fence();
  t[1] = read_cycles();
}'''
    import gemmini_runtime as gr
    k = gr.build_function(src, "timed")
    t = np.zeros(2, np.uint64)
    stats = k(np.zeros((16, 16), np.int8), t)
    assert t[0] == 9 * ISSUE                    # issuing returns at once
    assert t[1] == stats.cycles > t[0] + 8 * 16  # the fence waited for eight 256-byte loads


@pytest.fixture(scope="module")
def matmul():
    import gemmini_runtime as gr
    return gr.build_functions(LIBRARY, ["matmul", "matmul_full_c", "matmul_low_d", "matmul_tiles",
                                        "conv", "conv_dw", "resadd", "global_average"])["matmul"]


@pytest.mark.parametrize("dataflow", [0, 1])
def test_utilization_is_bounded_by_compute_and_dram_and_loop_ws_gets_close(matmul, dataflow):
    n = 256
    A, B = np.ones((n, n), np.int8), np.ones((n, n), np.int8)
    stats = matmul(A, B, np.zeros(1, np.int32), np.zeros((n, n), np.int8), n, n, n, 0, 0, 1.0, 0, 0, 0, dataflow)
    assert stats.macs == n ** 3 and 0 < stats.utilization <= 1.0
    assert stats.cycles >= n ** 3 / 256                                      # the array's peak
    assert stats.cycles >= (stats.bytes_loaded + stats.bytes_stored) / DRAM_BYTES_PER_CYCLE
    if dataflow == 1:   # here the library's tiles move as many bytes as the array has cycles
        assert stats.utilization > 0.7


def test_small_problems_are_dominated_by_overheads(matmul):
    A = np.ones((16, 16), np.int8)
    stats = matmul(A, A, np.zeros(1, np.int32), np.zeros((16, 16), np.int8), 16, 16, 16, 0, 0, 1.0, 0, 0, 0, 1)
    assert stats.utilization < 0.2
