"""Curated kernel: Linear + bias + tanh in half precision (fp16 / bf16), one launch.

Subgraph (level2/14_gemm_bias_tanh_fp16):
    v0 = view(in0, [M, K]); v1 = permute(in1, [1, 0]); v2 = addmm(in2, v0, v1)
    v3 = view(v2, [B, S, N]); v4 = tanh(v3)
Inputs in reference order: in0 = x [B, S, K], in1 = weight W [N, K], in2 = bias [N]
(level2/14: x [16,128,4096] fp16, W [4096,4096], so M=2048, N=K=4096). Output: contiguous
[B, S, N], x's dtype.

Why it is faster than eager and Inductor: both run the GEMM in cuBLAS and then a second
elementwise tanh pass (eager and Inductor alike: addmm is an extern call) that reads the 16 MB
pre-activation back from memory and writes it again. Here the GEMM runs on the tensor cores
(fp16/bf16 tl.dot, fp32 accumulation, 128x256x64 tiles, 8 warps, 3-stage software pipeline) and
bias + tanh are applied to the fp32 accumulator in registers, so the output is written exactly
once and the second kernel and its launch disappear. W is read as B[k, n] = W[n, k] through its
strides (K-contiguous, the layout the tensor cores take directly; no transpose copy); tiles are
visited in grouped-M order so W panels stay in L2; row/column tails are handled by wrapping the
load indices (no masks in the hot loop) and masking the store.

Numerics follow eager's rounding points: addmm's result (fp32 accumulator + bias) is rounded to
the output dtype once, then tanh is evaluated in fp32 as sign(v) * (1 - e) / (1 + e) with
e = exp(-2|v|) (no overflow, exact limits +-1) and rounded once more.
"""
import torch
import triton
import triton.language as tl

GROUP_M = 8
NUM_SMS = 132  # H100 SXM; only used to pick a tile size that still fills the GPU


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
def _linear_tanh_kernel(x_ptr, w_ptr, bias_ptr, y_ptr, M, N, K,
                        s_xm, s_xk, s_wn, s_wk, s_ym, s_yn,
                        BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                        EVEN_K: tl.constexpr, INTERP: tl.constexpr, SOFT_ROUND: tl.constexpr):
    # grouped-M tile order: GROUP consecutive programs share one W panel
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
    # tail rows / columns load a valid (wrapped) row instead of being masked; the store drops them
    rm_ld = (rm % M).to(tl.int64)
    rn_ld = (rn % N).to(tl.int64)
    a = x_ptr + rm_ld[:, None] * s_xm + rk[None, :] * s_xk
    b = w_ptr + rk[:, None] * s_wk + rn_ld[None, :] * s_wn  # B[k, n] = W[n, k]
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
        a += BK * s_xk
        b += BK * s_wk

    n_ok = rn < N
    out_ty = y_ptr.dtype.element_ty
    # addmm: fp32 accumulator + bias, stored by eager in the output dtype
    v = acc + tl.load(bias_ptr + rn, mask=n_ok, other=0.0).to(tl.float32)[None, :]
    v = _round_out(v, out_ty, SOFT_ROUND).to(tl.float32)
    # tanh(v) = sign(v) * (1 - e) / (1 + e), e = exp(-2|v|) in (0, 1]
    e = tl.exp2(tl.abs(v) * -2.8853900817779268)  # -2 * log2(e)
    t = (1.0 - e) / (1.0 + e)
    t = tl.where(v < 0.0, -t, t)
    y = y_ptr + rm.to(tl.int64)[:, None] * s_ym + rn[None, :] * s_yn
    tl.store(y, _round_out(t, out_ty, SOFT_ROUND), mask=(rm < M)[:, None] & n_ok[None, :])


def _config(M, N):
    """(BM, BN, BK, num_warps, num_stages): the largest tile that still gives every SM a tile."""
    if triton.cdiv(M, 128) * triton.cdiv(N, 256) >= NUM_SMS:  # level2/14: 16 x 16 = 256 tiles
        return 128, 256, 64, 8, 3
    if triton.cdiv(M, 128) * triton.cdiv(N, 128) >= NUM_SMS:
        return 128, 128, 64, 8, 4
    return 64, 128, 64, 4, 4


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2):
        bsz, seq, K = in0.shape
        N = in1.shape[0]
        M = bsz * seq
        x = in0.view(M, K)  # the reference's own view: no copy
        y = torch.empty((bsz, seq, N), dtype=in0.dtype, device=in0.device)
        if M == 0 or N == 0:
            return y
        bm, bn, bk, warps, stages = _config(M, N)
        interp = not in0.is_cuda
        soft = interp and in0.dtype == torch.bfloat16
        grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
        _linear_tanh_kernel[grid](
            x, in1, in2, y, M, N, K,
            x.stride(0), x.stride(1), in1.stride(0), in1.stride(1), N, 1,
            BM=bm, BN=bn, BK=bk, GROUP=GROUP_M, EVEN_K=K % bk == 0, INTERP=interp,
            SOFT_ROUND=soft,
            num_warps=warps, num_stages=stages)
        return y
