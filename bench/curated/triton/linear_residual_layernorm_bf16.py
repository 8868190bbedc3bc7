"""Curated kernel: Linear + bias + residual add + LayerNorm in bf16 (post-norm transformer sublayer).

Subgraph (level2/15_linear_residual_layernorm_bf16):
    v0 = view(in0, [M, K]); v1 = permute(in1, [1, 0]); v2 = addmm(in2, v0, v1)
    v3 = view(v2, [B, S, N]); v4 = add(in0, v3)
    v6 = native_layer_norm(v4, [N], in3, in4, eps)[0]
Inputs in reference order: in0 = x [B, S, K] (also the residual, so N == K), in1 = W [N, K],
in2 = bias [N], in3 = LN weight [N], in4 = LN bias [N] (level2/15: x [32,256,1024] bf16, W
[1024,1024]: M=8192, N=K=1024). Output: contiguous [B, S, N], x's dtype.

Why it is faster than eager and Inductor: eager runs cuBLAS addmm (writes the 16 MB v2), an add
(reads 32 MB, writes 16 MB) and a LayerNorm (reads and writes 16 MB): ~100 MB of traffic and
three launches after the GEMM. Inductor fuses add + LayerNorm but still writes v2 and reads it
and x back (~48 MB after the GEMM). Here (default, FUSED_ROWS) ONE kernel does everything:
N = 1024 is the LayerNorm width, so each program owns BM=64 complete rows. It computes the row
block's GEMM in N-chunks of 256 columns (bf16 tl.dot, fp32 accumulation, 3-stage pipeline,
W read as B[k, n] = W[n, k] through its strides, no transpose copy), adds bias and the residual
(the x tile sits in L2: the same rows are the GEMM's A operand), stores the bf16 sum and
folds each chunk's fp32 row mean / M2 into running statistics (Chan's parallel update: no
E[x^2] - mean^2 cancellation). A second loop over the same rows, which this program has just
written and which are still in L2, normalizes in place. HBM traffic is x once, W once (2 MB,
L2-resident) and the output once; 8192/64 = 128 programs fill the 132 SMs in one wave.
FUSED_ROWS = False selects the two-kernel variant instead (128x256 GEMM tiles with bias +
residual in the epilogue writing the bf16 sum, then a row LayerNorm in place): it reads the W
panels from L2 half as often (BM=128) at the cost of one more launch and a 16 MB re-read.

Numerics follow eager's rounding points: addmm's result is rounded to bf16, the residual sum
is rounded to bf16, LayerNorm statistics and the affine transform are computed in fp32 from
those bf16 values (biased variance, rsqrt(var + eps)) and the result is rounded once.
"""
import torch
import triton
import triton.language as tl

FUSED_ROWS = True
GROUP_M = 8
NUM_SMS = 132  # H100 SXM


@triton.jit
def _round_out(v, OUT_DTYPE: tl.constexpr, SOFT_ROUND: tl.constexpr):
    """fp32 -> output dtype, round-to-nearest-even. On the GPU this is the cast itself; Triton's
    CPU interpreter truncates fp32 -> bf16, so there (SOFT_ROUND) the bits are rounded first."""
    if SOFT_ROUND:
        bits = v.to(tl.uint32, bitcast=True)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
        v = bits.to(tl.float32, bitcast=True)
    return v.to(OUT_DTYPE)


@triton.jit
def _gemm_tile(a, b, K, s_ak, s_bk, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
               EVEN_K: tl.constexpr, INTERP: tl.constexpr):
    """fp32 [BM, BN] = A[rows, :K] @ B[:K, cols]; a / b point at the k=0 corner of each tile."""
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        if EVEN_K:
            xa = tl.load(a)
            wb = tl.load(b)
        else:
            k_ok = (k + rk) < K
            xa = tl.load(a, mask=k_ok[None, :], other=0.0)
            wb = tl.load(b, mask=k_ok[:, None], other=0.0)
        if INTERP:  # CPU interpreter only: its bf16 dot is wrong; an fp32 dot of the same values is exact
            xa = xa.to(tl.float32)
            wb = wb.to(tl.float32)
        acc = tl.dot(xa, wb, acc)
        a += BK * s_ak
        b += BK * s_bk
    return acc


@triton.jit
def _bias_residual(acc, bias_ptr, x_ptr, rm_ld, rn, rn_ld, n_ok, s_xm, s_xk,
                   OUT_DTYPE: tl.constexpr, SOFT_ROUND: tl.constexpr):
    """bf16(x + bf16(acc + bias)) as fp32 (eager's addmm and add.Tensor rounding points)."""
    v = acc + tl.load(bias_ptr + rn, mask=n_ok, other=0.0).to(tl.float32)[None, :]
    v = _round_out(v, OUT_DTYPE, SOFT_ROUND).to(tl.float32)
    res = tl.load(x_ptr + rm_ld[:, None] * s_xm + rn_ld[None, :] * s_xk).to(tl.float32)
    return _round_out(res + v, OUT_DTYPE, SOFT_ROUND).to(tl.float32)


@triton.jit
def _stats_update(h, n_ok, n0, N, mean, m2, BN: tl.constexpr):
    """Fold the columns n0..n0+BN of h [R, BN] (valid where n_ok) into running row mean / M2."""
    cnt = tl.minimum(N - n0, BN) * 1.0
    c_mean = tl.sum(tl.where(n_ok[None, :], h, 0.0), axis=1) / cnt
    d = tl.where(n_ok[None, :], h - c_mean[:, None], 0.0)
    c_m2 = tl.sum(d * d, axis=1)
    seen = n0 * 1.0
    tot = seen + cnt
    delta = c_mean - mean
    mean = mean + delta * (cnt / tot)
    m2 = m2 + c_m2 + delta * delta * (seen * cnt / tot)
    return mean, m2


@triton.jit
def _normalize_rows(y_ptr, g_ptr, beta_ptr, rm, m_ok, mean, rstd, N, s_ym, s_yn,
                    BN: tl.constexpr, SOFT_ROUND: tl.constexpr):
    """y[rm, :] = (y - mean) * rstd * g + beta, in place, BN columns at a time."""
    out_ty = y_ptr.dtype.element_ty
    row = y_ptr + rm.to(tl.int64)[:, None] * s_ym
    for n0 in range(0, N, BN):
        rn = n0 + tl.arange(0, BN)
        n_ok = rn < N
        mask = m_ok[:, None] & n_ok[None, :]
        h = tl.load(row + rn[None, :] * s_yn, mask=mask, other=0.0).to(tl.float32)
        g = tl.load(g_ptr + rn, mask=n_ok, other=0.0).to(tl.float32)
        bt = tl.load(beta_ptr + rn, mask=n_ok, other=0.0).to(tl.float32)
        out = (h - mean[:, None]) * rstd[:, None] * g[None, :] + bt[None, :]
        tl.store(row + rn[None, :] * s_yn, _round_out(out, out_ty, SOFT_ROUND), mask=mask)


@triton.jit
def _fused_rows_kernel(x_ptr, w_ptr, bias_ptr, g_ptr, beta_ptr, y_ptr, M, N, K, eps,
                       s_xm, s_xk, s_wn, s_wk, s_ym, s_yn,
                       BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                       EVEN_K: tl.constexpr, INTERP: tl.constexpr, SOFT_ROUND: tl.constexpr):
    """One program = BM complete rows: GEMM + bias + residual chunk by chunk, then LayerNorm."""
    out_ty = y_ptr.dtype.element_ty
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    m_ok = rm < M
    rm_ld = (rm % M).to(tl.int64)  # tail rows load a valid row; their results are never stored
    rk = tl.arange(0, BK)
    mean = tl.zeros((BM,), dtype=tl.float32)
    m2 = tl.zeros((BM,), dtype=tl.float32)
    for n0 in range(0, N, BN):
        rn = n0 + tl.arange(0, BN)
        n_ok = rn < N
        rn_ld = (rn % N).to(tl.int64)
        a = x_ptr + rm_ld[:, None] * s_xm + rk[None, :] * s_xk
        b = w_ptr + rk[:, None] * s_wk + rn_ld[None, :] * s_wn  # B[k, n] = W[n, k]
        acc = _gemm_tile(a, b, K, s_xk, s_wk, BM, BN, BK, EVEN_K, INTERP)
        h = _bias_residual(acc, bias_ptr, x_ptr, rm_ld, rn, rn_ld, n_ok, s_xm, s_xk, out_ty, SOFT_ROUND)
        y = y_ptr + rm.to(tl.int64)[:, None] * s_ym + rn[None, :] * s_yn
        tl.store(y, h.to(out_ty), mask=m_ok[:, None] & n_ok[None, :])  # h is already bf16-exact
        mean, m2 = _stats_update(h, n_ok, n0, N, mean, m2, BN)
    rstd = 1.0 / tl.sqrt(m2 / N + eps)
    tl.debug_barrier()  # the rows just stored by all of this program's threads are read back
    _normalize_rows(y_ptr, g_ptr, beta_ptr, rm, m_ok, mean, rstd, N, s_ym, s_yn, BN, SOFT_ROUND)


@triton.jit
def _gemm_bias_residual_kernel(x_ptr, w_ptr, bias_ptr, y_ptr, M, N, K,
                               s_xm, s_xk, s_wn, s_wk, s_ym, s_yn,
                               BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                               GROUP: tl.constexpr, EVEN_K: tl.constexpr, INTERP: tl.constexpr,
                               SOFT_ROUND: tl.constexpr):
    """Two-kernel variant, part 1: y = bf16(x + bf16(x @ W^T + bias)), grouped-M tiles."""
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BM)
    num_n = tl.cdiv(N, BN)
    per_group = GROUP * num_n
    first_m = (pid // per_group) * GROUP
    group_m = min(num_m - first_m, GROUP)
    pm = first_m + (pid % per_group) % group_m
    pn = (pid % per_group) // group_m
    rm = pm * BM + tl.arange(0, BM)
    rn = pn * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    n_ok = rn < N
    rm_ld = (rm % M).to(tl.int64)
    rn_ld = (rn % N).to(tl.int64)
    a = x_ptr + rm_ld[:, None] * s_xm + rk[None, :] * s_xk
    b = w_ptr + rk[:, None] * s_wk + rn_ld[None, :] * s_wn
    acc = _gemm_tile(a, b, K, s_xk, s_wk, BM, BN, BK, EVEN_K, INTERP)
    out_ty = y_ptr.dtype.element_ty
    h = _bias_residual(acc, bias_ptr, x_ptr, rm_ld, rn, rn_ld, n_ok, s_xm, s_xk, out_ty, SOFT_ROUND)
    y = y_ptr + rm.to(tl.int64)[:, None] * s_ym + rn[None, :] * s_yn
    tl.store(y, h.to(out_ty), mask=(rm < M)[:, None] & n_ok[None, :])


@triton.jit
def _layernorm_rows_kernel(y_ptr, g_ptr, beta_ptr, M, N, eps, s_ym, s_yn,
                           ROWS: tl.constexpr, BN: tl.constexpr, SOFT_ROUND: tl.constexpr):
    """Two-kernel variant, part 2: LayerNorm of ROWS rows of y, in place, fp32 statistics."""
    rm = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    m_ok = rm < M
    row = y_ptr + rm.to(tl.int64)[:, None] * s_ym
    mean = tl.zeros((ROWS,), dtype=tl.float32)
    m2 = tl.zeros((ROWS,), dtype=tl.float32)
    for n0 in range(0, N, BN):
        rn = n0 + tl.arange(0, BN)
        n_ok = rn < N
        h = tl.load(row + rn[None, :] * s_yn, mask=m_ok[:, None] & n_ok[None, :], other=0.0).to(tl.float32)
        mean, m2 = _stats_update(h, n_ok, n0, N, mean, m2, BN)
    rstd = 1.0 / tl.sqrt(m2 / N + eps)
    _normalize_rows(y_ptr, g_ptr, beta_ptr, rm, m_ok, mean, rstd, N, s_ym, s_yn, BN, SOFT_ROUND)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2, in3, in4):
        bsz, seq, K = in0.shape
        N = in1.shape[0]
        M = bsz * seq
        eps = 1e-5  # the graph's native_layer_norm eps
        x = in0.view(M, K)  # the reference's own view: no copy
        y = torch.empty((bsz, seq, N), dtype=in0.dtype, device=in0.device)
        if M == 0 or N == 0:
            return y
        interp = not in0.is_cuda
        soft = interp and in0.dtype == torch.bfloat16
        bk = 64
        even_k = K % bk == 0
        if FUSED_ROWS:
            bm, bn = 64, 256
            _fused_rows_kernel[(triton.cdiv(M, bm),)](
                x, in1, in2, in3, in4, y, M, N, K, eps,
                x.stride(0), x.stride(1), in1.stride(0), in1.stride(1), N, 1,
                BM=bm, BN=bn, BK=bk, EVEN_K=even_k, INTERP=interp, SOFT_ROUND=soft,
                num_warps=8, num_stages=3)
            return y
        bm, bn = 128, 256
        if triton.cdiv(M, bm) * triton.cdiv(N, bn) < NUM_SMS:
            bm, bn = 128, 128
        _gemm_bias_residual_kernel[(triton.cdiv(M, bm) * triton.cdiv(N, bn),)](
            x, in1, in2, y, M, N, K,
            x.stride(0), x.stride(1), in1.stride(0), in1.stride(1), N, 1,
            BM=bm, BN=bn, BK=bk, GROUP=GROUP_M, EVEN_K=even_k, INTERP=interp, SOFT_ROUND=soft,
            num_warps=8, num_stages=3)
        rows = 4
        bn_ln = min(triton.next_power_of_2(N), 2048)
        _layernorm_rows_kernel[(triton.cdiv(M, rows),)](
            y, in3, in4, M, N, eps, N, 1, ROWS=rows, BN=bn_ln, SOFT_ROUND=soft, num_warps=4)
        return y
