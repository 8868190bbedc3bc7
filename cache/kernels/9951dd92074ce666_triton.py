"""Curated kernel: multi-head self-attention block (level3/02_attention_block), fp32.

Subgraph (AOTAutograd inference graph):
    q = addmm(bq, x, Wq.T); k = addmm(bk, x, Wk.T); v = addmm(bv, x, Wv.T)   (x viewed [B*S, D])
    q/k/v viewed [B, S, H, 64] and permuted to [B, H, S, 64]
    p = softmax((q @ k^T) / 8.0, -1)                                        ([B, H, S, S])
    o = (p @ v) permuted back to [B, S, H*64]
    y = addmm(bo, o, Wo.T) viewed [B, S, D]
Inputs in reference order: x [B, S, D], Wq [D, D], bq [D], Wk [D, D], bk [D], Wv [D, D], bv [D],
Wo [D, D], bo [D] (weights nn.Linear-style [out, in], row-major). Head size 64 and the 1/8
scale are the graph's constants; H = D // 64.

Why it is faster than eager:
* Attention is one fused flash-attention kernel (online softmax, exp2 with the scale folded in).
  Eager materialises the [B, H, S, S] score matrix three times (bmm output, div, softmax:
  ~1.5 GB of fp32 traffic at B=16, S=512, H=16); here scores only live in registers.
* The head split/merge permutes and the `clone`s are folded into strided addressing: Q/K/V are
  read in place from the projection outputs and the attention output is written directly in the
  [B, S, H, 64] layout the output projection consumes. No copies at all.
* The four linears are Triton GEMMs reading the weights through strides (no transpose copy)
  with the bias fused in the epilogue and grouped-M tile order for L2 reuse.
* Precision: the graph is fp32 with TF32 off. On CUDA every dot uses input_precision="bf16x6"
  (each fp32 operand split into three bf16 pieces, six tensor-core products, fp32 accumulate),
  which is at least as accurate as FP32 SGEMM while running on tensor cores. Triton's CPU
  interpreter does not know "bf16x6", so the host passes "ieee" there.
"""
import torch
import triton
import triton.language as tl

HEAD_DIM = 64          # from the graph's view [B, S, H, 64]
SM_SCALE = 1.0 / 8.0   # the graph divides the scores by 8.0
LOG2E = 1.4426950408889634


@triton.jit
def _linear_kernel(a_ptr, w_ptr, bias_ptr, c_ptr, M, N, K,
                   s_am, s_ak, s_wk, s_wn, s_cm, s_cn,
                   HAS_BIAS: tl.constexpr, EVEN_K: tl.constexpr,
                   BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                   PREC: tl.constexpr):
    """C[M, N] = A[M, K] @ B[K, N] (+ bias[N]); B is addressed through strides (W^T in place)."""
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BM)
    num_n = tl.cdiv(N, BN)
    # grouped-M ordering: GROUP row-blocks sweep the N tiles together so the weight panel and
    # the A panel both stay resident in L2
    width = GROUP * num_n
    first_m = (pid // width) * GROUP
    gm = min(num_m - first_m, GROUP)
    pm = first_m + (pid % width) % gm
    pn = (pid % width) // gm
    rm = pm * BM + tl.arange(0, BM)
    rn = pn * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    # wrap out-of-range rows/cols onto valid ones: the main loop then needs no M/N masks
    # (those lanes are never stored)
    am = rm % M
    wn = rn % N
    a_ptrs = a_ptr + am[:, None] * s_am + rk[None, :] * s_ak
    w_ptrs = w_ptr + rk[:, None] * s_wk + wn[None, :] * s_wn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k0 in range(0, K, BK):
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(w_ptrs)
        else:
            kk = k0 + rk
            a = tl.load(a_ptrs, mask=kk[None, :] < K, other=0.0)
            b = tl.load(w_ptrs, mask=kk[:, None] < K, other=0.0)
        acc = tl.dot(a, b, acc, input_precision=PREC)
        a_ptrs += BK * s_ak
        w_ptrs += BK * s_wk
    if HAS_BIAS:
        acc += tl.load(bias_ptr + rn, mask=rn < N, other=0.0)[None, :]
    c_ptrs = c_ptr + rm[:, None] * s_cm + rn[None, :] * s_cn
    tl.store(c_ptrs, acc, mask=(rm[:, None] < M) & (rn[None, :] < N))


@triton.jit
def _flash_attn_kernel(q_ptr, k_ptr, v_ptr, o_ptr, S, H,
                       s_qb, s_qs, s_kb, s_ks, s_vb, s_vs, s_ob, s_os,
                       qk_scale,
                       HD: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, PREC: tl.constexpr):
    """One program = BM query rows of one (batch, head). Head h's features are the contiguous
    columns [h*HD, (h+1)*HD) of a [B, S, H*HD] tensor; strides give batch and sequence."""
    pid_m = tl.program_id(0)
    bh = tl.program_id(1)
    b = (bh // H).to(tl.int64)
    h = bh % H
    offs_m = pid_m * BM + tl.arange(0, BM)
    offs_n = tl.arange(0, BN)
    offs_d = tl.arange(0, HD)
    row_ok = offs_m < S
    q = tl.load(q_ptr + b * s_qb + offs_m[:, None] * s_qs + h * HD + offs_d[None, :],
                mask=row_ok[:, None], other=0.0)
    k_base = k_ptr + b * s_kb + h * HD
    v_base = v_ptr + b * s_vb + h * HD
    m_i = tl.full((BM,), float("-inf"), dtype=tl.float32)
    l_i = tl.zeros((BM,), dtype=tl.float32)
    acc = tl.zeros((BM, HD), dtype=tl.float32)
    for n0 in range(0, S, BN):
        cols = n0 + offs_n
        col_ok = cols < S
        kt = tl.load(k_base + cols[None, :] * s_ks + offs_d[:, None], mask=col_ok[None, :], other=0.0)
        # scores in log2 units: (q.k) / 8 * log2(e)
        s = tl.dot(q, kt, input_precision=PREC) * qk_scale
        s = tl.where(col_ok[None, :], s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_base + cols[:, None] * s_vs + offs_d[None, :], mask=col_ok[:, None], other=0.0)
        acc = tl.dot(p, v, acc * alpha[:, None], input_precision=PREC)
        m_i = m_new
    out = acc / l_i[:, None]
    tl.store(o_ptr + b * s_ob + offs_m[:, None] * s_os + h * HD + offs_d[None, :], out,
             mask=row_ok[:, None])


def _prec(t):
    return "bf16x6" if t.is_cuda else "ieee"


def _linear(a2d, w, bias, out2d):
    """out2d[M, N] = a2d[M, K] @ w[N, K]^T + bias, weights read through strides."""
    m, k = a2d.shape
    n = w.shape[0]
    bm, bn, bk, warps, stages = 128, 128, 64, 8, 3
    if triton.cdiv(m, bm) * triton.cdiv(n, bn) < 132:   # too few tiles to fill the SMs
        bm, warps = 64, 4
    grid = (triton.cdiv(m, bm) * triton.cdiv(n, bn),)
    _linear_kernel[grid](a2d, w, bias, out2d, m, n, k,
                         a2d.stride(0), a2d.stride(1), w.stride(1), w.stride(0),
                         out2d.stride(0), out2d.stride(1),
                         HAS_BIAS=True, EVEN_K=(k % bk == 0), BM=bm, BN=bn, BK=bk, GROUP=8,
                         PREC=_prec(a2d), num_warps=warps, num_stages=stages)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, wq, bq, wk, bk, wv, bv, wo, bo):
        bsz, seq, dim = x.shape
        heads = dim // HEAD_DIM
        m = bsz * seq
        x2 = x.view(m, dim)
        q = torch.empty((m, dim), dtype=x.dtype, device=x.device)
        k = torch.empty((m, dim), dtype=x.dtype, device=x.device)
        v = torch.empty((m, dim), dtype=x.dtype, device=x.device)
        _linear(x2, wq, bq, q)
        _linear(x2, wk, bk, k)
        _linear(x2, wv, bv, v)
        # attention output in [B, S, H, 64] order == the [B*S, D] matrix the out-projection reads
        o = torch.empty((m, dim), dtype=x.dtype, device=x.device)
        bm_a, bn_a = 128, 64
        grid = (triton.cdiv(seq, bm_a), bsz * heads)
        _flash_attn_kernel[grid](q, k, v, o, seq, heads,
                                 seq * dim, dim, seq * dim, dim, seq * dim, dim, seq * dim, dim,
                                 SM_SCALE * LOG2E,
                                 HD=HEAD_DIM, BM=bm_a, BN=bn_a, PREC=_prec(x),
                                 num_warps=8, num_stages=2)
        y = torch.empty((bsz, seq, dim), dtype=x.dtype, device=x.device)
        _linear(o, wo, bo, y.view(m, dim))
        return y
