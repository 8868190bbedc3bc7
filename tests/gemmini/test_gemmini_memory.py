"""The memory system of the cycle model (csrc/sim_memory.c): DRAM bandwidth and latency, the
DMA's requests in flight, bank ports, and the stalls they cause, by cause."""
from pathlib import Path

import numpy as np
import pytest

import gemmini_runtime as gr
from gemmini_runtime.isa import ACC, GARBAGE_ADDR, WS, compute, config_ex, config_ld, mvin, preload

SCHEDULES = Path(__file__).parent / "kernels" / "schedules.c"
DEFAULT = gr.MemoryModel()
# the same accelerator with a DRAM that never limits: one request's latency, no bandwidth cap
FAST_DRAM = gr.Config(name="int8-fastdram", memory=gr.MemoryModel(dram_bytes_per_cycle=4096, dram_latency=1))


@pytest.fixture(scope="module")
def schedules():
    return gr.build_functions(SCHEDULES, ["matmul_reuse", "matmul_streaming"])


@pytest.fixture(scope="module")
def schedules_fast_dram():
    return gr.build_functions(SCHEDULES, ["matmul_reuse", "matmul_streaming"], config=FAST_DRAM)


def _run(kernel, n=128, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.integers(-4, 4, (n, n), dtype=np.int8)
    B = rng.integers(-4, 4, (n, n), dtype=np.int8)
    C = np.zeros((n, n), np.int8)
    stats = kernel(A, B, C, n)
    want = np.clip(A.astype(np.int32) @ B.astype(np.int32), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(C, want)
    return stats


def test_a_bandwidth_bound_schedule_ranks_below_a_reuse_heavy_one(schedules):
    reuse, streaming = _run(schedules["matmul_reuse"]), _run(schedules["matmul_streaming"])
    assert streaming.bytes_loaded >= 4 * reuse.bytes_loaded
    assert streaming.cycles > 2 * reuse.cycles
    # the streaming schedule cannot beat its DRAM traffic at the modelled bandwidth
    assert streaming.cycles >= streaming.bytes_loaded / DEFAULT.dram_bytes_per_cycle
    dma = streaming.stalls["load_dram_bandwidth"] + streaming.stalls["load_dma_inflight"]
    assert dma > streaming.stalls["load_bank_conflict"]
    assert streaming.stalls["execute_operands"] > streaming.cycles / 2  # the array starves


def test_the_ranking_comes_from_the_memory_system(schedules, schedules_fast_dram):
    """With a DRAM that never limits, streaming loses far less: the gap above is memory's."""
    slow = _run(schedules["matmul_streaming"]).cycles / _run(schedules["matmul_reuse"]).cycles
    fast = (_run(schedules_fast_dram["matmul_streaming"]).cycles
            / _run(schedules_fast_dram["matmul_reuse"]).cycles)
    assert fast < slow / 1.5
    streaming_fast = _run(schedules_fast_dram["matmul_streaming"])
    assert streaming_fast.stalls["load_dram_bandwidth"] == 0


def test_memory_parameters_reach_the_generated_header():
    header = FAST_DRAM.params_header()
    assert "#define GEMMINI_DRAM_BYTES_PER_CYCLE 4096" in header
    assert "#define GEMMINI_DRAM_LATENCY 1" in header
    assert FAST_DRAM.key != gr.get_config("int8").key
    with pytest.raises(ValueError, match="dram_latency"):
        gr.MemoryModel(dram_latency=0)


def _aligned(nbytes: int, offset: int = 0):
    """(buffer, view): nbytes of int8 starting `offset` bytes past a 64-byte boundary"""
    buf = np.zeros(nbytes + 128, np.int8)
    start = (-buf.ctypes.data) % 64 + offset
    return buf, buf[start:start + nbytes]


def _loads(rows_bytes: int, n: int):
    """n mvins of DIM rows of rows_bytes bytes each (64-byte aligned), to distinct rows"""
    buf, view = _aligned(n * 16 * rows_bytes)
    a = view.reshape(n, 16, rows_bytes)
    return [config_ld(rows_bytes)] + [mvin(a[i], 64 * i, cols=rows_bytes) for i in range(n)], buf


def test_small_requests_are_limited_by_requests_in_flight(run):
    insns, a = _loads(16, 8)        # 128 rows of 16 bytes: one 16-byte request each
    stats = run(insns, a)
    assert stats.dma_read_requests == 128
    # 16 requests in flight, each waiting out the latency: far below the bus's 16 B/cycle
    assert stats.cycles >= 128 / DEFAULT.dma_max_inflight * DEFAULT.dram_latency
    assert stats.stalls["load_dma_inflight"] > stats.stalls["load_dram_bandwidth"]


def test_full_requests_are_limited_by_dram_bandwidth(run):
    insns, a = _loads(64, 8)        # 128 rows of 64 bytes: 8 KiB in full 64-byte requests
    stats = run(insns, a)
    assert stats.dma_read_requests == 128
    assert stats.cycles >= stats.bytes_loaded / DEFAULT.dram_bytes_per_cycle
    assert stats.stalls["load_dram_bandwidth"] > 0


def test_an_unaligned_row_costs_an_extra_request(run):
    buf, view = _aligned(1024)
    aligned = run([config_ld(64), mvin(view.reshape(16, 64), 0, cols=64)], buf)
    buf, view = _aligned(1024, offset=8)
    shifted = run([config_ld(64), mvin(view.reshape(16, 64), 0, cols=64)], buf)
    assert aligned.dma_read_requests == 16 and shifted.dma_read_requests == 32


def test_a_load_into_the_bank_a_compute_reads_is_a_bank_conflict(run):
    """Single-ported scratchpad banks (Gemmini's default): an mvin into bank 0 while computes
    stream A out of bank 0 waits for the port; the same mvin into bank 2 does not."""
    a = np.zeros((16, 16), np.int8)
    bank_rows = 4096
    computes = [config_ex(WS)] + [x for i in range(32) for x in
                                  (preload(GARBAGE_ADDR, ACC + 16 * (i % 2)), compute(0, GARBAGE_ADDR, True))]
    def with_load(row):
        return run([config_ld(16), mvin(a, 0)] + computes[:9] + [mvin(a, row)] + computes[9:], a)
    same, other = with_load(16), with_load(2 * bank_rows)
    assert same.stalls["load_bank_conflict"] + same.stalls["execute_bank_conflict"] > 0
    assert other.stalls["load_bank_conflict"] + other.stalls["execute_bank_conflict"] == 0


def test_the_host_waits_when_the_load_station_is_full(run):
    insns, a = _loads(16, 12)       # 12 loads, 8 load entries
    stats = run(insns, a)
    assert stats.stalls["host_rs_full"] > 0
    few, a4 = _loads(16, 4)
    assert run(few, a4).stalls["host_rs_full"] == 0


def test_computes_waiting_for_loads_are_counted(run):
    a = np.zeros((16, 16), np.int8)
    stats = run([config_ex(WS), config_ld(16), mvin(a, 0), preload(GARBAGE_ADDR, ACC),
                 compute(0, GARBAGE_ADDR, True)], a)
    assert stats.stalls["execute_operands"] >= DEFAULT.dram_latency
