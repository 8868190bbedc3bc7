"""Curated kernel: Linear + bias, scaled by 0.5, plus the input as residual; fp32, one launch.

Subgraph (level2/07_gemm_scale_residual):
    v0 = view(in0, [M, K]); v1 = permute(in1, [1, 0]); v2 = addmm(in2, v0, v1)
    v3 = view(v2, [B, S, N]); v4 = v3 * 0.5; v5 = v4 + in0          # needs N == K
Inputs in reference order: in0 = x [B, S, K], in1 = weight W [N, K], in2 = bias [N]
(level2/07: x [16,256,2048], W [2048,2048]). Output: contiguous [B, S, N].

Why it is faster than eager: eager (TF32 off) runs cuBLAS FP32 SGEMM, then a mul pass and an add
pass over the [4096, 2048] result (two extra reads and writes of 32 MB plus a re-read of x). Here
the GEMM runs on the tensor cores with each fp32 tile split into three bf16 pieces
(`input_precision="bf16x6"`: faster than SGEMM on H100 and a lower max error vs float64), W is
read through its strides (no transpose copy), and bias, x0.5 and the residual are applied in the
epilogue (in eager's order) so the output is written once. Grouped-M order keeps W in L2.
"""
import torch
import triton
import triton.language as tl

GROUP_M = 8
SCALE = 0.5


@triton.jit
def _linear_scale_res_kernel(a_ptr, b_ptr, bias_ptr, r_ptr, c_ptr, M, N, K, scale,
                             s_am, s_ak, s_bk, s_bn, s_rm, s_rn, s_cm, s_cn,
                             BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                             GROUP: tl.constexpr, PREC: tl.constexpr):
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
    # epilogue in eager's order: (acc + bias) * scale + residual
    mn_ok = m_ok[:, None] & n_ok[None, :]
    v = acc + tl.load(bias_ptr + rn, mask=n_ok, other=0.0)[None, :]
    v = v * scale
    v = v + tl.load(r_ptr + rm[:, None] * s_rm + rn[None, :] * s_rn, mask=mn_ok, other=0.0)
    c = c_ptr + rm[:, None] * s_cm + rn[None, :] * s_cn
    tl.store(c, v.to(c_ptr.dtype.element_ty), mask=mn_ok)


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
        N = in1.shape[0]
        M = bsz * seq
        x = in0.view(M, K)  # the reference's own view: no copy; also the residual [M, N == K]
        c = torch.empty((bsz, seq, N), dtype=in0.dtype, device=in0.device)
        prec = "bf16x6" if in0.is_cuda else "ieee"  # the CPU interpreter has no bf16x6
        bm, bn, bk, warps, stages = _config(M, N, K)
        grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
        _linear_scale_res_kernel[grid](
            x, in1, in2, x, c, M, N, K, SCALE,
            x.stride(0), x.stride(1), in1.stride(1), in1.stride(0), x.stride(0), x.stride(1), N, 1,
            BM=bm, BN=bn, BK=bk, GROUP=GROUP_M, PREC=prec, num_warps=warps, num_stages=stages)
        return c
