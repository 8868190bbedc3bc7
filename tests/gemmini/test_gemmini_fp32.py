"""The FP32 config (DIM 4, float elements and accumulators)."""
from pathlib import Path

import numpy as np
import pytest

import gemmini_runtime as gr
from gemmini_runtime.isa import ACC, FULL, GARBAGE_ADDR, OS, WS, compute, config_ex, config_ld, config_st, mvin, mvout, preload

LIBRARY = Path(__file__).parent / "kernels" / "library.c"


def test_fp32_config_is_dim4_float_with_the_same_memory_bytes():
    cfg, base = gr.get_config("fp32"), gr.get_config("int8")
    assert (cfg.dim, cfg.elem_dtype, cfg.acc_dtype) == (4, np.float32, np.float32)
    assert cfg.spad_rows * cfg.dim * 4 == base.spad_rows * base.dim
    assert "#define ELEM_T_IS_FLOAT" in cfg.params_header()


def test_fp32_mvin_scale_and_accumulator_read(run_fp32, rng):
    a = rng.standard_normal((4, 4)).astype(np.float32)
    out, out_acc = np.zeros_like(a), np.zeros_like(a)
    run_fp32([config_ld(16, scale=0.5), config_st(16, scale=3.0, act=1), mvin(a, 0, 4, 4), mvout(out, 0, 4, 4),
              config_ld(16, shrunk=True, state=1), mvin(a, ACC, 4, 4, state=1), mvout(out_acc, ACC, 4, 4)],
             a, out, out_acc)
    assert np.array_equal(out, a * np.float32(0.5))
    assert np.array_equal(out_acc, np.maximum(a * np.float32(3.0), 0))


@pytest.mark.parametrize("dataflow", [WS, OS])
def test_fp32_compute(run_fp32, rng, dataflow):
    A, B = (rng.integers(-20, 20, (4, 4)).astype(np.float32) for _ in range(2))
    out = np.zeros((4, 4), np.float32)
    insns = [config_ex(dataflow), config_ld(16), config_st(16), mvin(A, 0, 4, 4), mvin(B, 4, 4, 4)]
    if dataflow == WS:
        insns += [preload(4, ACC, 4, 4, 4, 4), compute(0, GARBAGE_ADDR, True, 4, 4, 4, 4)]
    else:
        insns += [preload(GARBAGE_ADDR, ACC, 4, 4, 4, 4), compute(0, 4, True, 4, 4, 4, 4)]
    run_fp32(insns + [mvout(out, ACC | FULL, 4, 4)], A, B, out)
    assert np.array_equal(out, A @ B)


@pytest.fixture(scope="module")
def fp32_matmul():
    return gr.build_function(LIBRARY, "matmul", config="fp32")


@pytest.mark.parametrize("I,J,K,dataflow", [(7, 9, 13, 1), (33, 20, 45, 0), (64, 64, 64, 1)])
def test_fp32_tiled_matmul_matches_the_cpu_reference(fp32_matmul, rng, I, J, K, dataflow):
    k = fp32_matmul
    # integer-valued floats: every partial sum is exact, so tiling order cannot matter
    A = rng.integers(-8, 8, (I, K)).astype(np.float32)
    B = rng.integers(-8, 8, (K, J)).astype(np.float32)
    D = rng.integers(-50, 50, (I, J)).astype(np.float32)
    C, C_cpu = np.zeros((I, J), np.float32), np.zeros((I, J), np.float32)
    stats = k(A, B, D, C, I, J, K, 1, 0, 0.5, 0, 0, 0, dataflow)
    k(A, B, D, C_cpu, I, J, K, 1, 0, 0.5, 0, 0, 0, 2)
    assert np.array_equal(C, (A @ B + D) * np.float32(0.5)) and np.array_equal(C, C_cpu)
    assert stats.dim == 4 and stats.macs == I * J * K


def test_fp32_kernels_take_float32_arrays_only(fp32_matmul):
    k = fp32_matmul
    with pytest.raises(TypeError, match="needs dtype float32"):
        k(np.zeros(4, np.int8), np.zeros(4, np.float32), np.zeros(4, np.float32),
          np.zeros(4, np.float32), 1, 1, 1, 0, 0, 1.0, 0, 0, 0, 1)
