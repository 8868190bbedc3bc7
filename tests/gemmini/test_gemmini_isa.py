"""Every instruction and flag of SPEC sections 2-4, issued from Python and checked against
numpy. Local addresses count rows of DIM=16 elements."""
import numpy as np
import pytest

from gemmini_runtime.isa import (ACC, ACCUMULATE, FULL, GARBAGE_ADDR, OS, WS, Insn, compute,
                                 config_ex, config_ld, config_st, loop_ws, mvin, mvout, preload)

DIM = 16


def i8(rng, shape, lo=-8, hi=8):
    return rng.integers(lo, hi, shape, dtype=np.int8)


# ---- mvin / mvout ------------------------------------------------------------------------
def test_mvin_mvout_round_trip_with_dram_strides(run, rng):
    src = i8(rng, (40, 50), -128, 127)            # a 16x16 block inside a wider matrix
    out = np.zeros((20, 30), np.int8)
    run([config_ld(50), config_st(30), mvin(src[3:, 5:], 7), mvout(out[2:, 4:], 7)], src, out)
    assert np.array_equal(out[2:18, 4:20], src[3:19, 5:21])
    assert not out[:2].any() and not out[18:].any() and not out[:, :4].any()


def test_wide_mvin_is_split_into_blocks_with_the_configured_block_stride(run, rng):
    src = i8(rng, (16, 64), -128, 127)            # 4 blocks of DIM columns
    out = np.zeros((4, 16, 16), np.int8)
    insns = [config_ld(64, block_stride=100), config_st(16), mvin(src, 0, 16, 64)]
    insns += [mvout(out[b], b * 100) for b in range(4)]
    run(insns, src, out)
    for b in range(4):
        assert np.array_equal(out[b], src[:, 16 * b:16 * b + 16])


def test_partial_mvin_and_mvout(run, rng):
    src = i8(rng, (16, 16), -128, 127)
    out = np.full((16, 16), 99, np.int8)
    run([config_ld(16), config_st(16), mvin(np.zeros((16, 16), np.int8), 0),
         mvin(src, 0, rows=5, cols=9), mvout(out, 0, rows=6, cols=10)],
        src, out, np.zeros((16, 16), np.int8))
    expect = np.zeros((6, 10), np.int8)
    expect[:5, :9] = src[:5, :9]
    assert np.array_equal(out[:6, :10], expect)
    assert (out[6:] == 99).all() and (out[:, 10:] == 99).all()


def test_mvin_from_address_zero_loads_zeros(run, rng):
    out = np.full((16, 16), 7, np.int8)
    src = i8(rng, (16, 16), 1, 100)
    run([config_ld(16), config_st(16), mvin(src, 0), mvin(0, 0), mvout(out, 0)], src, out)
    assert not out.any()


@pytest.mark.parametrize("scale", [0.5, 0.25, 1.5, -1.0, 3.0])
def test_mvin_scale_rounds_half_to_even_and_saturates(run, ref, scale):
    src = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    out = np.zeros((16, 16), np.int8)
    run([config_ld(16, scale=scale), config_st(16), mvin(src, 0), mvout(out, 0)], src, out)
    assert np.array_equal(out, ref.scale_int8(src, scale))


def test_three_load_states_keep_their_own_stride_and_scale(run, ref, rng):
    a, b, c = i8(rng, (16, 32)), i8(rng, (16, 48)), i8(rng, (16, 16))
    out = np.zeros((3, 16, 16), np.int8)
    run([config_ld(32, 1.0, state=0), config_ld(48, 0.5, state=1), config_ld(16, 2.0, state=2),
         config_st(16), mvin(a, 0, state=0), mvin(b, 16, state=1), mvin(c, 32, state=2),
         mvout(out[0], 0), mvout(out[1], 16), mvout(out[2], 32)], a, b, c, out)
    assert np.array_equal(out[0], a[:, :16])
    assert np.array_equal(out[1], ref.scale_int8(b[:, :16], 0.5))
    assert np.array_equal(out[2], ref.scale_int8(c, 2.0))


# ---- accumulator ---------------------------------------------------------------------------
def test_accumulator_mvin_of_int32_with_accumulate_and_full_width_read(run, rng):
    d = rng.integers(-2**30, 2**30, (16, 16), dtype=np.int32)
    e = rng.integers(-2**20, 2**20, (16, 16), dtype=np.int32)
    out = np.zeros((16, 16), np.int32)
    run([config_ld(64), config_st(64), mvin(d, ACC), mvin(e, ACC | ACCUMULATE),
         mvout(out, ACC | FULL)], d, e, out)
    assert np.array_equal(out, d + e)


def test_accumulator_overwrite_replaces_old_contents(run, rng):
    d, e = rng.integers(-1000, 1000, (2, 16, 16), dtype=np.int32)
    out = np.zeros((16, 16), np.int32)
    run([config_ld(64), config_st(64), mvin(d, ACC + 5), mvin(e, ACC + 5), mvout(out, ACC + 5 | FULL)], d, e, out)
    assert np.array_equal(out, e)


@pytest.mark.parametrize("scale,act", [(1.0, 0), (0.1, 0), (0.37, 1), (2.5, 1)])
def test_accumulator_read_is_scaled_rounded_saturated_then_activated(run, ref, rng, scale, act):
    d = rng.integers(-3000, 3000, (16, 16), dtype=np.int32)
    d[0, :4] = [5, 15, -5, -15]                   # exact halves at scale 0.1 -> ties to even
    out = np.zeros((16, 16), np.int8)
    run([config_ld(64), config_st(16, act=act, scale=scale), mvin(d, ACC), mvout(out, ACC)], d, out)
    expect = ref.scale_int8(d, scale)
    assert np.array_equal(out, np.maximum(expect, 0) if act else expect)


def test_shrunk_accumulator_mvin_reads_int8_scales_and_widens(run, ref, rng):
    a = i8(rng, (16, 16), -128, 127)
    out = np.zeros((16, 16), np.int32)
    run([config_ld(16, scale=0.5, shrunk=True), config_st(64), mvin(a, ACC), mvout(out, ACC | FULL)], a, out)
    assert np.array_equal(out, ref.scale_int8(a, 0.5).astype(np.int32))


# ---- compute: weight-stationary -------------------------------------------------------------
def ws_matmul(run, A, B, D=None, a_t=False, b_t=False, acc_out=True, act=0, **kw):
    """C = A*B (+D) on one DIM x DIM tile with the given transposes; returns C"""
    out = np.zeros((16, 16), np.int32 if acc_out else np.int8)
    c_addr = (ACC | FULL) if acc_out else 48
    A = A.T.copy() if a_t else A                  # what DRAM holds: the transposed operand
    B = B.T.copy() if b_t else B
    insns = [config_ex(WS, act=act, a_transpose=a_t, b_transpose=b_t), config_ld(16),
             config_st(64 if acc_out else 16), mvin(A, 0), mvin(B, 16)]
    if D is not None:
        insns.append(mvin(D, 32))
    insns += [preload(16, ACC if acc_out else 48), compute(0, 32 if D is not None else GARBAGE_ADDR, True),
              mvout(out, c_addr)]
    run(insns, A, B, out, *( [D] if D is not None else []))
    return out


@pytest.mark.parametrize("a_t,b_t", [(False, False), (False, True), (True, False)])
def test_ws_compute_with_each_allowed_transpose(run, rng, a_t, b_t):
    A, B = i8(rng, (16, 16), -128, 127), i8(rng, (16, 16), -128, 127)
    C = ws_matmul(run, A, B, a_t=a_t, b_t=b_t)
    assert np.array_equal(C, A.astype(np.int32) @ B.astype(np.int32))


def test_ws_compute_adds_d_and_saturates_into_the_scratchpad(run, rng):
    A, B, D = i8(rng, (16, 16), -128, 127), i8(rng, (16, 16), -128, 127), i8(rng, (16, 16), -128, 127)
    C = ws_matmul(run, A, B, D=D, acc_out=False, act=1)
    full = A.astype(np.int32) @ B.astype(np.int32) + D
    assert np.array_equal(C, np.maximum(np.clip(full, -128, 127), 0).astype(np.int8))


def test_ws_compute_accumulated_reuses_weights_and_respects_partial_rows_and_cols(run, rng):
    A1, A2, B = i8(rng, (16, 16)), i8(rng, (16, 16)), i8(rng, (16, 16))
    out = np.zeros((2, 16, 16), np.int32)
    run([config_ex(WS), config_ld(16), config_st(64), mvin(A1, 0), mvin(A2, 16), mvin(B, 32),
         preload(32, ACC, bd_rows=10, bd_cols=12),
         compute(0, GARBAGE_ADDR, True, a_rows=16, a_cols=10),
         preload(GARBAGE_ADDR, ACC + 16, c_rows=7, c_cols=12),
         compute(16, GARBAGE_ADDR, False, a_rows=7, a_cols=10),
         mvout(out[0], ACC | FULL), mvout(out[1], (ACC + 16) | FULL)], A1, A2, B, out)
    Bp = np.zeros((16, 16), np.int32)
    Bp[:10, :12] = B[:10, :12]
    assert np.array_equal(out[0], A1[:, :16].astype(np.int32) @ Bp)   # A cols >= 10 meet zero weights
    expect2 = np.zeros((16, 16), np.int32)
    expect2[:7, :12] = (A2[:7, :10].astype(np.int32) @ Bp[:10])[:, :12]
    assert np.array_equal(out[1], expect2)


def test_garbage_preload_means_zero_weights_and_garbage_c_means_no_write(run, rng):
    A = i8(rng, (16, 16))
    out = np.full((16, 16), 5, np.int32)
    d = np.full((16, 16), 5, np.int32)
    run([config_ex(WS), config_ld(16), config_st(64), config_ld(64, state=1), mvin(d, ACC, state=1),
         mvin(A, 0), preload(GARBAGE_ADDR, GARBAGE_ADDR), compute(0, GARBAGE_ADDR, True),
         preload(GARBAGE_ADDR, ACC | ACCUMULATE), compute(0, GARBAGE_ADDR, True),
         mvout(out, ACC | FULL)], A, out, d)
    assert (out == 5).all()                       # zero weights accumulated, nothing else written


# ---- compute: output-stationary --------------------------------------------------------------
@pytest.mark.parametrize("a_t,b_t", [(False, False), (True, False), (True, True)])
def test_os_compute_with_each_allowed_transpose(run, rng, a_t, b_t):
    A, B, A2, B2 = (i8(rng, (16, 16)) for _ in range(4))
    out = np.zeros((16, 16), np.int32)
    la, lb, la2, lb2 = (m.T.copy() if t else m for m, t in ((A, a_t), (B, b_t), (A2, a_t), (B2, b_t)))
    run([config_ex(OS, a_transpose=a_t, b_transpose=b_t), config_ld(16), config_st(64),
         mvin(la, 0), mvin(lb, 16), mvin(la2, 32), mvin(lb2, 48),
         preload(GARBAGE_ADDR, GARBAGE_ADDR), compute(0, 16, True),
         preload(GARBAGE_ADDR, ACC), compute(32, 48, False),
         mvout(out, ACC | FULL)], la, lb, la2, lb2, out)
    expect = A.astype(np.int32) @ B.astype(np.int32) + A2.astype(np.int32) @ B2.astype(np.int32)
    assert np.array_equal(out, expect)


@pytest.mark.parametrize("shift", [0, 1, 3, 7])
def test_os_results_to_the_scratchpad_are_rounding_shifted(run, ref, rng, shift):
    A, B, D = i8(rng, (16, 16), -128, 127), i8(rng, (16, 16), -128, 127), i8(rng, (16, 16), -128, 127)
    out = np.zeros((16, 16), np.int8)
    run([config_ex(OS, sys_shift=shift), config_ld(16), config_st(16), mvin(A, 0), mvin(B, 16),
         mvin(D, 32), preload(32, 64), compute(0, 16, True), mvout(out, 64)], A, B, D, out)
    full = A.astype(np.int64) @ B.astype(np.int64) + D
    assert np.array_equal(out, np.clip(ref.rounding_shift(full, shift), -128, 127).astype(np.int8))


def test_a_stride_and_c_stride_space_rows(run, rng):
    A, B = i8(rng, (32, 16)), i8(rng, (16, 16))
    out = np.zeros((32, 16), np.int32)
    run([config_ex(WS, a_stride=2, c_stride=2), config_ld(16), config_st(64), mvin(A[:16], 0),
         mvin(A[16:], 16), mvin(B, 100), preload(100, ACC), compute(0, GARBAGE_ADDR, True),
         mvout(out[:16], ACC | FULL), mvout(out[16:], (ACC + 16) | FULL)], A, B, out)
    expect = A[0::2].astype(np.int32) @ B.astype(np.int32)   # A rows 0, 2, 4, ...
    assert np.array_equal(out[0::2], expect)                 # written to rows 0, 2, 4, ...
    assert not out[1::2].any()


# ---- loop_ws ------------------------------------------------------------------------------------
@pytest.mark.parametrize("I,J,K,bias", [(16, 16, 16, False), (37, 45, 29, True), (64, 32, 96, True)])
def test_loop_ws_computes_a_whole_tiled_matmul(run, ref, rng, I, J, K, bias):
    A, B = i8(rng, (I, K)), i8(rng, (K, J))
    D = rng.integers(-500, 500, (I, J), dtype=np.int32)
    C = np.zeros((I, J), np.int8)

    def t(n):
        return (n + 15) // 16

    def pad(n):
        return t(n) * 16 - n

    insns = [config_ex(WS), config_st(J, scale=0.25), config_ld(K, state=0), config_ld(J, state=1),
             config_ld(J * 4, state=2)]
    insns += loop_ws(t(I), t(J), t(K), A, B, D if bias else 0, C, K, J, J, J,
                     pad_I=pad(I), pad_J=pad(J), pad_K=pad(K), ex_accumulate=bias)
    stats = run(insns, A, B, D, C)
    assert np.array_equal(C, ref.matmul(A, B, D if bias else None, scale=0.25))
    assert stats.macs == I * J * K
    assert stats.executed["compute_preloaded"] == t(J) * t(K)


def test_loop_ws_with_transposed_b_and_full_width_output(run, rng):
    A, Bt = i8(rng, (32, 48)), i8(rng, (16, 48))
    C = np.zeros((32, 16), np.int32)
    insns = [config_ex(WS, b_transpose=True), config_st(64), config_ld(48, state=0), config_ld(48, state=1)]
    insns += loop_ws(2, 1, 3, A, Bt, 0, C, 48, 48, 0, 16, b_transpose=True, full_C=True)
    run(insns, A, Bt, C)
    assert np.array_equal(C, A.astype(np.int32) @ Bt.T.astype(np.int32))


def test_loop_ws_resadd_adds_scaled_int8_matrices(run, ref, rng):
    A, B = i8(rng, (20, 24), -128, 127), i8(rng, (20, 24), -128, 127)
    C = np.zeros((20, 24), np.int8)
    insns = [config_ex(WS), config_st(24, act=1, scale=0.5), config_ld(24, 2.0, True, state=0),
             config_ld(24, 0.5, True, state=1)]
    insns += loop_ws(2, 2, 0, A, B, 0, C, 24, 24, 0, 24, pad_I=12, pad_J=8, is_resadd=True)
    run(insns, A, B, C)
    s = ref.scale_int8(A, 2.0).astype(np.int32) + ref.scale_int8(B, 0.5)
    assert np.array_equal(C, np.maximum(ref.scale_int8(s, 0.5), 0))


def test_flush_has_no_architectural_effect(run, rng):
    a = i8(rng, (16, 16))
    out = np.zeros_like(a)
    run([config_ld(16), config_st(16), mvin(a, 3), Insn(7, 0, 0), mvout(out, 3)], a, out)
    assert np.array_equal(out, a)


# ---- loop_conv_ws -------------------------------------------------------------------------------
def test_loop_conv_ws_computes_a_whole_convolution(rng, ref):
    from pathlib import Path
    import gemmini_runtime as gr
    k = gr.build_function(Path(__file__).parent / "kernels" / "loop_conv.c", "loop_conv")
    x = rng.integers(-20, 20, (1, 8, 8, 16), dtype=np.int8)
    w = rng.integers(-20, 20, (3, 3, 16, 16), dtype=np.int8)          # HWIO
    bias = rng.integers(-1000, 1000, 16, dtype=np.int32)
    out = np.zeros((1, 8, 8, 16), np.int8)
    stats = k(x, w.reshape(-1, 16), bias, out, 0.05)
    xp = np.pad(x.astype(np.int64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    acc = bias + sum(np.einsum("bhwc,co->bhwo", xp[:, r:r + 8, c:c + 8], w[r, c].astype(np.int64))
                     for r in range(3) for c in range(3))
    assert np.array_equal(out, ref.scale_int8(acc.astype(np.int32), 0.05))
    assert stats.issued["loop_conv_ws"] == 1 and stats.macs == 8 * 8 * 16 * 9 * 16
