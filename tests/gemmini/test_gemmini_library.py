"""Gemmini's C library (tiled_matmul_auto, tiled_conv_auto, ...) on the simulator, against
numpy and against the library's own CPU references, at sizes with ragged edges."""
from pathlib import Path

import numpy as np
import pytest

import gemmini_runtime as gr

LIBRARY = Path(__file__).parent / "kernels" / "library.c"
OS, WS, CPU = 0, 1, 2


@pytest.fixture(scope="module")
def lib():
    names = ["matmul", "matmul_full_c", "matmul_low_d", "matmul_tiles", "conv", "conv_dw",
             "resadd", "global_average"]
    return gr.build_functions(LIBRARY, names)


def i8(rng, shape, lo=-10, hi=10):
    return rng.integers(lo, hi, shape, dtype=np.int8)


# ---- matmul ---------------------------------------------------------------------------------
@pytest.mark.parametrize("I,J,K", [(16, 16, 16), (1, 1, 1), (17, 33, 15), (50, 70, 90), (200, 64, 300)])
@pytest.mark.parametrize("dataflow", [WS, OS])
def test_tiled_matmul_auto_matches_numpy(lib, ref, rng, I, J, K, dataflow):
    A, B = i8(rng, (I, K)), i8(rng, (K, J))
    D = rng.integers(-300, 300, (I, J), dtype=np.int32)
    C = np.zeros((I, J), np.int8)
    stats = lib["matmul"](A, B, D, C, I, J, K, 1, 0, 0.125, 1, 0, 0, dataflow)
    assert np.array_equal(C, ref.matmul(A, B, D, scale=0.125, relu=True))
    assert stats.macs == I * J * K and 0 < stats.utilization <= 1


@pytest.mark.parametrize("a_t,b_t", [(1, 0), (0, 1)])
def test_tiled_matmul_auto_transposed_operands_ws(lib, ref, rng, a_t, b_t):
    I, J, K = 40, 24, 56
    A, B = i8(rng, (I, K)), i8(rng, (K, J))
    C = np.zeros((I, J), np.int8)
    a_mem = A.T.copy() if a_t else A
    b_mem = B.T.copy() if b_t else B
    lib["matmul"](a_mem, b_mem, np.zeros(1, np.int32), C, I, J, K, 0, 0, 0.25, 0, a_t, b_t, WS)
    assert np.array_equal(C, ref.matmul(A, B, scale=0.25))


@pytest.mark.parametrize("dataflow", [WS, OS, CPU])
def test_repeating_bias_broadcasts_the_first_row(lib, ref, rng, dataflow):
    I, J, K = 35, 20, 18
    A, B = i8(rng, (I, K)), i8(rng, (K, J))
    bias = rng.integers(-100, 100, (1, J), dtype=np.int32)
    C = np.zeros((I, J), np.int8)
    lib["matmul"](A, B, bias, C, I, J, K, 1, 1, 0.5, 0, 0, 0, dataflow)
    assert np.array_equal(C, ref.matmul(A, B, np.repeat(bias, I, 0), scale=0.5))


@pytest.mark.parametrize("dataflow", [WS, OS])
def test_full_width_output(lib, rng, dataflow):
    I, J, K = 30, 45, 70
    A, B = i8(rng, (I, K), -128, 127), i8(rng, (K, J), -128, 127)
    D = rng.integers(-2**20, 2**20, (I, J), dtype=np.int32)
    C = np.zeros((I, J), np.int32)
    lib["matmul_full_c"](A, B, D, C, I, J, K, 1, dataflow)
    assert np.array_equal(C, A.astype(np.int32) @ B.astype(np.int32) + D)


def test_low_d_takes_an_int8_bias(lib, ref, rng):
    I, J, K = 20, 36, 17
    A, B, D = i8(rng, (I, K)), i8(rng, (K, J)), i8(rng, (I, J), -128, 127)
    C = np.zeros((I, J), np.int8)
    lib["matmul_low_d"](A, B, D, C, I, J, K)
    assert np.array_equal(C, ref.matmul(A, B, D.astype(np.int32)))


@pytest.mark.parametrize("tiles", [(1, 1, 1), (2, 3, 1), (3, 1, 4)])
@pytest.mark.parametrize("dataflow", [WS, OS])
def test_tiled_matmul_with_explicit_tile_factors(lib, ref, rng, tiles, dataflow):
    I, J, K = 60, 50, 70
    A, B = i8(rng, (I, K)), i8(rng, (K, J))
    C = np.zeros((I, J), np.int8)
    lib["matmul_tiles"](A, B, C, I, J, K, *tiles, dataflow)
    assert np.array_equal(C, ref.matmul(A, B))


@pytest.mark.parametrize("I,J,K", [(16, 64, 32), (64, 16, 32)])
def test_operands_kept_resident_across_tiles(lib, ref, rng, I, J, K):
    """With two K tiles, A (first shape) or B (second) stays in the scratchpad under a spad
    id while the other operand streams through four tiles."""
    A, B = i8(rng, (I, K)), i8(rng, (K, J))
    C = np.zeros((I, J), np.int8)
    stats = lib["matmul_tiles"](A, B, C, I, J, K, 1, 1, 1, WS)
    assert np.array_equal(C, ref.matmul(A, B))
    loads = stats.executed["mvin"] + stats.executed["mvin2"]   # A and B tile loads
    assert loads == 2 + 8                    # the resident operand's two tiles load once


def test_gemmini_and_cpu_reference_agree_with_saturation(lib, rng):
    I, J, K = 64, 48, 80
    A, B = i8(rng, (I, K), -128, 127), i8(rng, (K, J), -128, 127)
    D = rng.integers(-2**16, 2**16, (I, J), dtype=np.int32)
    out = {t: np.zeros((I, J), np.int8) for t in (WS, OS, CPU)}
    for t, C in out.items():
        lib["matmul"](A, B, D, C, I, J, K, 1, 0, 0.01, 0, 0, 0, t)
    assert np.array_equal(out[WS], out[CPU]) and np.array_equal(out[OS], out[CPU])
    assert (out[CPU] == 127).any() and (out[CPU] == -128).any()   # saturation was exercised


# ---- convolution ------------------------------------------------------------------------------
def conv_ref(x, w, bias, stride, padding, k, out_rows, out_cols, scale, relu):
    """NHWC conv with HWIO weights flattened to (k*k*in_ch, out_ch); int8 result"""
    b, h, wd, cin = x.shape
    xp = np.zeros((b, h + 2 * padding + k, wd + 2 * padding + k, cin), np.int64)
    xp[:, padding:padding + h, padding:padding + wd] = x
    wt = w.reshape(k, k, cin, -1).astype(np.int64)
    out = np.zeros((b, out_rows, out_cols, w.shape[1]), np.int64) + (0 if bias is None else bias)
    for kr in range(k):
        for kc in range(k):
            patch = xp[:, kr:kr + stride * out_rows:stride, kc:kc + stride * out_cols:stride]
            out += np.einsum("bhwc,co->bhwo", patch, wt[kr, kc])
    y = np.clip(np.rint(out.astype(np.float32) * np.float32(scale)), -128, 127)
    return np.maximum(y, 0).astype(np.int8) if relu else y.astype(np.int8)


def conv_dims(batch, in_rows, in_cols, in_ch, out_ch, stride, padding, k, pool=(0, 0, 0),
              input_dilation=1, kernel_dilation=1, flags=(0, 0, 0, 0, 0)):
    out_rows = (in_rows + 2 * padding - k) // stride + 1
    out_cols = (in_cols + 2 * padding - k) // stride + 1
    return np.array([batch, in_rows, in_cols, in_ch, out_ch, out_rows, out_cols, stride, padding,
                     k, *pool, input_dilation, kernel_dilation, *flags], np.int32)


@pytest.mark.parametrize("shape", [
    (2, 9, 11, 5, 7, 2, 1, 3),      # ragged everything
    (1, 16, 16, 16, 16, 1, 1, 3),
    (2, 14, 14, 40, 20, 1, 0, 1),   # 1x1
    (1, 12, 12, 8, 33, 2, 0, 1),    # 1x1 stride 2: the downsampling path
    (1, 20, 20, 3, 18, 2, 3, 7),    # first-layer-like
])
def test_tiled_conv_auto_matches_numpy(lib, rng, shape):
    batch, h, w_, cin, cout, stride, pad, k = shape
    x = i8(rng, (batch, h, w_, cin), -5, 5)
    w = i8(rng, (k * k * cin, cout), -5, 5)
    bias = rng.integers(-50, 50, cout, dtype=np.int32)
    d = conv_dims(batch, h, w_, cin, cout, stride, pad, k)
    out = np.zeros((batch, d[5], d[6], cout), np.int8)
    stats = lib["conv"](x, w, bias, out, d, 1, 1, 0.25, WS)
    assert np.array_equal(out, conv_ref(x, w, bias, stride, pad, k, d[5], d[6], 0.25, True))
    assert stats.issued.get("loop_conv_ws", 0) >= 1


@pytest.mark.parametrize("variant", [
    dict(pool=(3, 2, 1)), dict(pool=(2, 2, 0)), dict(kernel_dilation=2), dict(input_dilation=2),
    dict(flags=(1, 0, 0, 0, 0)), dict(flags=(0, 1, 0, 0, 0)), dict(flags=(0, 0, 1, 0, 0)),
    dict(flags=(0, 0, 0, 1, 0)), dict(flags=(0, 0, 0, 0, 1)), dict(has_bias=0),
])
def test_tiled_conv_variants_match_the_cpu_reference(lib, rng, variant):
    variant = dict(variant)
    has_bias = variant.pop("has_bias", 1)
    batch, h, w_, cin, cout, k = 2, 10, 9, 6, 19, 3
    stride = 1 if variant.get("input_dilation") else 2
    d = conv_dims(batch, h, w_, cin, cout, stride, 1, k, **variant)
    x = i8(rng, (batch, h, w_, cin), -4, 4)
    if d[19]:   # trans_input_3120: CHWN
        x = np.ascontiguousarray(x.transpose(3, 1, 2, 0))
    w = i8(rng, (k * k * cin * cout,), -4, 4)
    bias = rng.integers(-30, 30, cout, dtype=np.int32)
    out_shape = ((d[5] + 2 * d[12] - d[10]) // d[11] + 1, (d[6] + 2 * d[12] - d[10]) // d[11] + 1) \
        if d[11] else (d[5], d[6])
    outs = [np.zeros(batch * out_shape[0] * out_shape[1] * cout, np.int8) for _ in range(2)]
    for t, o in zip((WS, CPU), outs):
        lib["conv"](x, w, bias, o, d, has_bias, 0, 0.5, t)
    assert np.array_equal(outs[0], outs[1])
    assert np.abs(outs[1]).sum() > 0


def test_conv_weights_kept_resident_across_row_tiles(lib, rng):
    """Two output-channel tiles whose weights stay resident (spad ids 1 and 2) while the
    pooled output rows are tiled: each row tile must use its own channel tile's weights."""
    d = conv_dims(2, 15, 13, 17, 21, 1, 1, 3, pool=(3, 2, 1))
    x, w = i8(rng, (2, 15, 13, 17), -4, 5), i8(rng, (3 * 3 * 17, 21), -4, 5)
    bias = rng.integers(-30, 31, 21, dtype=np.int32)
    outs = [np.zeros((2, 8, 7, 21), np.int8) for _ in range(2)]
    for t, o in zip((WS, CPU), outs):
        lib["conv"](x, w, bias, o, d, 1, 1, 0.25, t)
    assert np.array_equal(outs[0], outs[1])


def test_depthwise_conv_matches_the_cpu_reference(lib, rng):
    batch, h, w_, ch, k = 2, 11, 10, 20, 3
    d = conv_dims(batch, h, w_, ch, ch, 1, 1, k)
    x, w = i8(rng, (batch, h, w_, ch), -6, 6), i8(rng, (ch, k, k), -6, 6)
    bias = rng.integers(-40, 40, ch, dtype=np.int32)
    outs = [np.zeros((batch, d[5], d[6], ch), np.int8) for _ in range(2)]
    for t, o in zip((WS, CPU), outs):
        lib["conv_dw"](x, w, bias, o, d, 1, 0.5, t)
    assert np.array_equal(outs[0], outs[1]) and outs[1].any()


# ---- resadd and global average --------------------------------------------------------------
@pytest.mark.parametrize("I,J,relu", [(16, 16, 0), (45, 70, 1), (300, 100, 0)])
def test_tiled_resadd_auto_matches_numpy(lib, ref, rng, I, J, relu):
    A, B = i8(rng, (I, J), -128, 127), i8(rng, (I, J), -128, 127)
    C, C_cpu = np.zeros((I, J), np.int8), np.zeros((I, J), np.int8)
    lib["resadd"](A, B, C, I, J, 0.75, 1.5, 0.5, relu, WS)
    lib["resadd"](A, B, C_cpu, I, J, 0.75, 1.5, 0.5, relu, CPU)
    s = ref.scale_int8(A, 0.75).astype(np.int32) + ref.scale_int8(B, 1.5)
    expect = ref.scale_int8(s, 0.5)
    expect = np.maximum(expect, 0) if relu else expect
    assert np.array_equal(C, expect) and np.array_equal(C_cpu, expect)


@pytest.mark.parametrize("batches,channels,dim", [(1, 16, 4), (2, 100, 7), (3, 2048, 2)])
def test_tiled_global_average_rounds_the_float_scaled_sum(lib, ref, rng, batches, channels, dim):
    x = i8(rng, (batches, dim, dim, channels), -128, 127)
    out = np.zeros((batches, channels), np.int8)
    lib["global_average"](x, out, batches, channels, dim, WS)
    sums = x.astype(np.int32).sum(axis=(1, 2))
    # the hardware multiplies by float32(1/(dim*dim)) and rounds half to even
    assert np.array_equal(out, ref.scale_int8(sums, np.float32(1.0 / (dim * dim))))


def test_global_average_cpu_reference_rounds_half_up(lib, rng):
    x = i8(rng, (2, 4, 4, 24), 0, 127)
    out = np.zeros((2, 24), np.int8)
    lib["global_average"](x, out, 2, 24, 4, CPU)
    assert np.array_equal(out, (x.astype(np.int32).sum(axis=(1, 2)) + 8) // 16)
