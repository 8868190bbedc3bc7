"""Curated kernel: plain fp32 matrix multiply, C = A @ B.

Subgraph: `v0 = aten.mm.default(in0, in1)` (level1/01 [4096,4096]x[4096,4096],
level1/02 [32768,1024]x[1024,64]; the module accepts any 2-D shapes and strides).
Inputs in reference order: in0 = A [M, K], in1 = B [K, N]. Output: contiguous [M, N], A's dtype.

Why it is faster than eager: with TF32 disabled, eager runs cuBLAS FP32 SGEMM on the CUDA
cores (~51 TFLOPS on H100). Here each fp32 operand tile is split on the fly into three bf16
pieces (`input_precision="bf16x6"`) and the partial products run on the tensor cores with fp32
accumulation: 1.25-1.45x faster on these shapes, with a max error vs a float64 reference that is
*below* cuBLAS SGEMM's (1.6e-4 vs 9.5e-4 at 4096^3). Tiles are visited in grouped-M order so
the B panels stay in L2. When there are too few output tiles to fill the GPU (small M), K is
split across programs and a second tiny kernel sums the partial tiles in a fixed order
(deterministic, no atomics).
"""
import torch
import triton
import triton.language as tl

GROUP_M = 8
TARGET_PROGRAMS = 264  # ~2 waves on a 132-SM H100
MAX_SPLIT = 8  # bounds the fp32 partial-tile traffic (SPLIT x M x N x 8 bytes)


@triton.jit
def _mm_kernel(a_ptr, b_ptr, c_ptr, M, N, K, K_PER_SPLIT,
               s_am, s_ak, s_bk, s_bn, s_cs, s_cm, s_cn,
               BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
               PREC: tl.constexpr):
    # grouped-M tile order: GROUP consecutive programs share one B column panel
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
    c = c_ptr + ks.to(tl.int64) * s_cs + rm[:, None] * s_cm + rn[None, :] * s_cn
    tl.store(c, acc.to(c_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


@triton.jit
def _splitk_sum(ws_ptr, c_ptr, MN, SPLIT: tl.constexpr, BLOCK: tl.constexpr):
    # ws: [SPLIT, M, N] contiguous fp32 partials; c: contiguous [M, N]
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < MN
    acc = tl.load(ws_ptr + offs, mask=ok, other=0.0)
    for s in tl.static_range(1, SPLIT):
        acc += tl.load(ws_ptr + s * MN + offs, mask=ok, other=0.0)
    tl.store(c_ptr + offs, acc.to(c_ptr.dtype.element_ty), mask=ok)


def _config(M, N, K):
    """(BM, BN, BK, num_warps, num_stages, split_k), from H100 measurements with bf16x6."""
    if N <= 64:  # tall-skinny (level1/02: 32768x64x1024 -> 1.4x cuBLAS)
        return 128, 64, 32, 8, 4, 1
    if M >= 512:  # large M and N: 1.25-1.45x cuBLAS
        return 128, 128, 64, 8, 3, 1
    # small M: too few 64x64 tiles to fill 132 SMs -> split K (each split keeps >= 4 K steps)
    bm, bn, bk = 64, 64, 64
    tiles = triton.cdiv(M, bm) * triton.cdiv(N, bn)
    split = 1
    while tiles * split < TARGET_PROGRAMS and split < MAX_SPLIT and K // (2 * split) >= 4 * bk:
        split *= 2
    return bm, bn, bk, 4, 3, split


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1):
        M, K = in0.shape
        N = in1.shape[1]
        c = torch.empty((M, N), dtype=in0.dtype, device=in0.device)
        prec = "bf16x6" if in0.is_cuda else "ieee"  # the CPU interpreter has no bf16x6
        bm, bn, bk, warps, stages, split = _config(M, N, K)
        k_per_split = triton.cdiv(triton.cdiv(K, split), bk) * bk
        split = triton.cdiv(K, k_per_split) if K > 0 else 1
        tiles = triton.cdiv(M, bm) * triton.cdiv(N, bn)
        if split == 1:
            out, s_cs = c, 0
        else:
            out = torch.empty((split, M, N), dtype=torch.float32, device=in0.device)
            s_cs = M * N
        _mm_kernel[(tiles, split)](
            in0, in1, out, M, N, K, k_per_split,
            in0.stride(0), in0.stride(1), in1.stride(0), in1.stride(1), s_cs, N, 1,
            BM=bm, BN=bn, BK=bk, GROUP=GROUP_M, PREC=prec, num_warps=warps, num_stages=stages)
        if split > 1:
            block = 1024
            _splitk_sum[(triton.cdiv(M * N, block),)](out, c, M * N, SPLIT=split, BLOCK=block)
        return c
