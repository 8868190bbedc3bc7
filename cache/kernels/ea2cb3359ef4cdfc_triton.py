"""Curated kernel: batched fp32 matrix multiply, C[b] = A[b] @ B[b].

Subgraph: `v0 = aten.bmm.default(in0, in1)` (level1/03: [32,1024,512] x [32,512,1024]; any
3-D shapes/strides work). Inputs in reference order: in0 = A [Bt, M, K], in1 = B [Bt, K, N].
Output: contiguous [Bt, M, N].

Why it is faster than eager: eager (TF32 off) runs cuBLAS FP32 SGEMM on the CUDA cores. Here
each fp32 operand tile is split into three bf16 pieces (`input_precision="bf16x6"`) and
multiplied on the tensor cores with fp32 accumulation; measured 1.25-1.45x faster than SGEMM on
H100 GEMMs of this size, with a lower max error vs float64 than SGEMM. The batch index is grid
axis 1, and within a batch the output tiles are visited in grouped-M order so B panels are
reused from L2. 32 x 64 tiles of 128x128 = 2048 programs fill the GPU without split-K.
"""
import torch
import triton
import triton.language as tl

GROUP_M = 8


@triton.jit
def _bmm_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                s_ab, s_am, s_ak, s_bb, s_bk, s_bn, s_cb, s_cm, s_cn,
                BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                PREC: tl.constexpr):
    pid = tl.program_id(0)
    bid = tl.program_id(1).to(tl.int64)
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
    a = a_ptr + bid * s_ab + rm[:, None] * s_am + rk[None, :] * s_ak
    b = b_ptr + bid * s_bb + rk[:, None] * s_bk + rn[None, :] * s_bn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        k_ok = (k + rk) < K
        x = tl.load(a, mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        y = tl.load(b, mask=k_ok[:, None] & n_ok[None, :], other=0.0)
        acc = tl.dot(x, y, acc, input_precision=PREC)
        a += BK * s_ak
        b += BK * s_bk
    c = c_ptr + bid * s_cb + rm[:, None] * s_cm + rn[None, :] * s_cn
    tl.store(c, acc.to(c_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


def _config(M, N, K):
    """(BM, BN, BK, num_warps, num_stages) from H100 bf16x6 measurements."""
    if N <= 64:
        return 128, 64, 32, 8, 4
    if M >= 128 and N >= 128:
        return 128, 128, 64, 8, 3
    return 64, 64, 64, 4, 3


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1):
        bt, M, K = in0.shape
        N = in1.shape[2]
        c = torch.empty((bt, M, N), dtype=in0.dtype, device=in0.device)
        prec = "bf16x6" if in0.is_cuda else "ieee"  # the CPU interpreter has no bf16x6
        bm, bn, bk, warps, stages = _config(M, N, K)
        grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn), bt)
        _bmm_kernel[grid](
            in0, in1, c, M, N, K,
            in0.stride(0), in0.stride(1), in0.stride(2), in1.stride(0), in1.stride(1), in1.stride(2),
            c.stride(0), c.stride(1), c.stride(2),
            BM=bm, BN=bn, BK=bk, GROUP=GROUP_M, PREC=prec, num_warps=warps, num_stages=stages)
        return c
