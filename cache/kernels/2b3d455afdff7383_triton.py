"""Curated kernels: RMSNorm over the last dim, then a bias-free Linear; fp32.

Subgraph (level3/06_gpt_block_rmsnorm_swiglu, subgraph 1):
    v0 = pow(in0, 2); v1 = mean(v0, [-1], keepdim); v2 = v1 + 1e-05; v3 = rsqrt(v2)
    v4 = in0 * v3; v5 = v4 * in1
    v8 = mm(view(v5, [M, K]), permute(in2, [1, 0])); v9 = view(v8, [B, S, N])
Inputs in reference order: in0 = x [B, S, K], in1 = gamma [K], in2 = weight W [N, K]
(x [8,512,1024], W [3072,1024]). Output: contiguous [B, S, N].

Why it is faster than eager: eager runs six elementwise/reduction kernels for the norm (each a
full pass over the 16 MB activations, several writing 16 MB temporaries) and a cuBLAS FP32 SGEMM
(TF32 off). Here the norm is a single pass (one program per row, the row held in registers,
same op order as eager) that writes the normalized rows once, and the GEMM runs on the tensor
cores with each fp32 tile split into three bf16 pieces (`input_precision="bf16x6"`: 1.25-1.45x
SGEMM on H100 at this size, lower max error vs float64), reading W through its strides (no
transpose copy), in grouped-M tile order so W panels stay in L2.
"""
import torch
import triton
import triton.language as tl

GROUP_M = 8
EPS = 1e-05


@triton.jit
def _rmsnorm_rows(x_ptr, w_ptr, y_ptr, K, s_xm, s_xk, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    ok = cols < K
    x = tl.load(x_ptr + row * s_xm + cols * s_xk, mask=ok, other=0.0).to(tl.float32)
    ms = tl.sum(x * x, axis=0) / K
    r = tl.math.rsqrt(ms + eps)
    w = tl.load(w_ptr + cols, mask=ok, other=0.0)
    y = (x * r) * w
    tl.store(y_ptr + row * K + cols, y.to(y_ptr.dtype.element_ty), mask=ok)


@triton.jit
def _mm_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
               s_am, s_ak, s_bk, s_bn, s_cm, s_cn,
               BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
               PREC: tl.constexpr):
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
    m_ok = rm < M
    n_ok = rn < N
    a = a_ptr + rm[:, None] * s_am + rk[None, :] * s_ak
    b = b_ptr + rk[:, None] * s_bk + rn[None, :] * s_bn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        k_ok = (k + rk) < K
        x = tl.load(a, mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        y = tl.load(b, mask=k_ok[:, None] & n_ok[None, :], other=0.0)
        acc = tl.dot(x, y, acc, input_precision=PREC)
        a += BK * s_ak
        b += BK * s_bk
    c = c_ptr + rm[:, None] * s_cm + rn[None, :] * s_cn
    tl.store(c, acc.to(c_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


def _config(M, N, K):
    """(BM, BN, BK, num_warps, num_stages) from H100 bf16x6 measurements."""
    if N <= 64:
        return 128, 64, 32, 8, 4
    if M >= 512:
        return 128, 128, 64, 8, 3
    return 64, 64, 64, 4, 3


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2):
        bsz, seq, K = in0.shape
        N = in2.shape[0]
        M = bsz * seq
        xn = torch.empty((M, K), dtype=in0.dtype, device=in0.device)  # normalized rows
        block = triton.next_power_of_2(K)
        x = in0.view(M, K)  # the reference's own view: no copy
        _rmsnorm_rows[(M,)](x, in1, xn, K, x.stride(0), x.stride(1), EPS,
                            BLOCK=block, num_warps=4 if block <= 2048 else 8)
        c = torch.empty((bsz, seq, N), dtype=in0.dtype, device=in0.device)
        prec = "bf16x6" if in0.is_cuda else "ieee"  # the CPU interpreter has no bf16x6
        bm, bn, bk, warps, stages = _config(M, N, K)
        grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
        _mm_kernel[grid](
            xn, in2, c, M, N, K,
            K, 1, in2.stride(1), in2.stride(0), N, 1,
            BM=bm, BN=bn, BK=bk, GROUP=GROUP_M, PREC=prec, num_warps=warps, num_stages=stages)
        return c
