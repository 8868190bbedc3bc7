"""Curated kernel: Linear + bias + ReLU, fp32.

Subgraph (level2/01_gemm_bias_relu):
    v0 = permute(in0, [1, 0]); v1 = addmm(in1, in2, v0); v2 = relu(v1)
Inputs in reference order: in0 = weight W [N, K], in1 = bias [N], in2 = x [M, K]
(level2/01: M=128, N=K=4096). Output: contiguous [M, N] = relu(x @ W^T + bias).

Why it is faster than eager: eager (TF32 off) runs cuBLAS FP32 SGEMM and a separate ReLU pass.
Here the GEMM runs on the tensor cores with each fp32 tile split into three bf16 pieces
(`input_precision="bf16x6"`: lower max error vs float64 than SGEMM), W is read through its
strides (the permute is never materialized), and bias + ReLU are applied in the epilogue so the
output is written once. With M=128 there are only 2x64 output tiles of 64x64 for 132 SMs, so K
is split (4 ways here) into independent programs writing fp32 partial tiles; a small second
kernel sums the partials in a fixed order (deterministic, no atomics) and applies bias + ReLU.
Large-M inputs take the 128x128x64 no-split path.
"""
import torch
import triton
import triton.language as tl

GROUP_M = 8
TARGET_PROGRAMS = 264  # ~2 waves on a 132-SM H100
MAX_SPLIT = 8  # bounds the fp32 partial-tile traffic (SPLIT x M x N x 8 bytes)


@triton.jit
def _linear_kernel(a_ptr, b_ptr, bias_ptr, c_ptr, M, N, K, K_PER_SPLIT,
                   s_am, s_ak, s_bk, s_bn, s_cs, s_cm, s_cn,
                   BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                   EPILOGUE: tl.constexpr, PREC: tl.constexpr):
    pid = tl.program_id(0)
    ks = tl.program_id(1)
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
    m_ok = rm < M
    n_ok = rn < N
    k_lo = ks * K_PER_SPLIT
    k_hi = min(K, k_lo + K_PER_SPLIT)
    a = a_ptr + rm[:, None] * s_am + (k_lo + rk)[None, :] * s_ak
    b = b_ptr + (k_lo + rk)[:, None] * s_bk + rn[None, :] * s_bn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(k_lo, k_hi, BK):
        k_ok = (k + rk) < k_hi
        x = tl.load(a, mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        y = tl.load(b, mask=k_ok[:, None] & n_ok[None, :], other=0.0)
        acc = tl.dot(x, y, acc, input_precision=PREC)
        a += BK * s_ak
        b += BK * s_bk
    if EPILOGUE:  # addmm (acc + bias) then relu, as eager
        acc = acc + tl.load(bias_ptr + rn, mask=n_ok, other=0.0)[None, :]
        acc = tl.where(acc < 0.0, 0.0, acc)  # NaN stays NaN, as in eager's relu
    c = c_ptr + ks.to(tl.int64) * s_cs + rm[:, None] * s_cm + rn[None, :] * s_cn
    tl.store(c, acc.to(c_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


@triton.jit
def _splitk_bias_relu(ws_ptr, bias_ptr, c_ptr, N, MN, SPLIT: tl.constexpr, BLOCK: tl.constexpr):
    # ws: [SPLIT, M, N] contiguous fp32 partials; c: contiguous [M, N]
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < MN
    acc = tl.load(ws_ptr + offs, mask=ok, other=0.0)
    for s in tl.static_range(1, SPLIT):
        acc += tl.load(ws_ptr + s * MN + offs, mask=ok, other=0.0)
    acc = acc + tl.load(bias_ptr + offs % N, mask=ok, other=0.0)
    acc = tl.where(acc < 0.0, 0.0, acc)  # NaN stays NaN, as in eager's relu
    tl.store(c_ptr + offs, acc.to(c_ptr.dtype.element_ty), mask=ok)


def _config(M, N, K):
    """(BM, BN, BK, num_warps, num_stages, split_k), from H100 measurements with bf16x6."""
    if N <= 64:
        return 128, 64, 32, 8, 4, 1
    if M >= 512:
        return 128, 128, 64, 8, 3, 1
    bm, bn, bk = 64, 64, 64
    tiles = triton.cdiv(M, bm) * triton.cdiv(N, bn)
    split = 1
    while tiles * split < TARGET_PROGRAMS and split < MAX_SPLIT and K // (2 * split) >= 4 * bk:
        split *= 2
    return bm, bn, bk, 4, 3, split


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2):
        w, bias, x = in0, in1, in2
        M, K = x.shape
        N = w.shape[0]
        c = torch.empty((M, N), dtype=x.dtype, device=x.device)
        prec = "bf16x6" if x.is_cuda else "ieee"  # the CPU interpreter has no bf16x6
        bm, bn, bk, warps, stages, split = _config(M, N, K)
        k_per_split = triton.cdiv(triton.cdiv(K, split), bk) * bk
        split = triton.cdiv(K, k_per_split) if K > 0 else 1
        tiles = triton.cdiv(M, bm) * triton.cdiv(N, bn)
        if split == 1:
            out, s_cs = c, 0
        else:
            out = torch.empty((split, M, N), dtype=torch.float32, device=x.device)
            s_cs = M * N
        # B[k, n] = W[n, k]: strides (W.stride(1), W.stride(0)), no transpose copy
        _linear_kernel[(tiles, split)](
            x, w, bias, out, M, N, K, k_per_split,
            x.stride(0), x.stride(1), w.stride(1), w.stride(0), s_cs, N, 1,
            BM=bm, BN=bn, BK=bk, GROUP=GROUP_M, EPILOGUE=split == 1, PREC=prec,
            num_warps=warps, num_stages=stages)
        if split > 1:
            block = 1024
            _splitk_bias_relu[(triton.cdiv(M * N, block),)](out, bias, c, N, M * N, SPLIT=split, BLOCK=block)
        return c
