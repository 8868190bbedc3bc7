"""Curated kernel: masked attention + out-projection + RMSNorm + SwiGLU MLP
(level3/06_gpt_block_rmsnorm_swiglu, subgraph 0), fp32.

Subgraph (AOTAutograd inference graph):
    q, k, v [B, S, D] (views into a fused qkv buffer, row stride 3D) viewed [B, S, H, 64]
    s   = where(~mask, -inf, q @ k^T / 8.0);  a = softmax(s, -1) @ v   -> [B, S, D]
    x1  = x + a @ Wo.T
    r   = x1 * rsqrt(mean(x1^2, -1) + 1e-5) * g
    y   = x1 + (silu(r @ Wg.T) * (r @ Wu.T)) @ Wd.T
Inputs in reference order: q, k, v [B, S, D] (any row stride), mask bool [S, S] (True = keep),
Wo [D, D], x [B, S, D], g [D], Wg [F, D], Wu [F, D], Wd [D, F]. Head size 64 and the 1/8 scale
are the graph's constants; H = D // 64.

Why it is faster than eager (six launches instead of ~25):
* One flash-attention kernel (online softmax in registers) replaces bmm + div + where + softmax +
  bmm; the [B, H, S, S] scores (eager writes/reads them four times) are never materialised.
  Q/K/V are read in place through their strides and the output is written in the [B, S, H*64]
  layout the projection reads: none of the graph's permute/clone copies happen.
* The mask is honoured exactly (any boolean pattern), but a tiny pre-pass records, per query
  block, the first and last key block holding any True; attention only visits that range. For
  a causal mask this skips about half the work; for a dense mask it costs one read of the mask.
* The gate and up projections run in ONE dual GEMM that shares the A tiles and applies
  silu(gate) * up in the epilogue: the two [B*S, F] intermediates and their elementwise pass
  never touch memory. Both residual adds are fused into GEMM epilogues.
* RMSNorm is a single row kernel (fp32 statistics).
* Precision: the graph is fp32 with TF32 off. On CUDA every dot uses input_precision="bf16x6"
  (three bf16 pieces per fp32 operand, tensor cores, fp32 accumulate), at least as accurate as
  FP32 SGEMM. The CPU interpreter does not know "bf16x6": the host passes "ieee" there.
Fully masked rows give NaN, as eager's softmax over all -inf does.
"""
import torch
import triton
import triton.language as tl

HEAD_DIM = 64          # from the graph's view [B, S, H, 64]
SM_SCALE = 1.0 / 8.0   # the graph divides the scores by 8.0
RMS_EPS = 1e-5
LOG2E = 1.4426950408889634
ATTN_BM = 128
ATTN_BN = 64


@triton.jit
def _linear_kernel(a_ptr, w_ptr, w2_ptr, res_ptr, c_ptr, M, N, K,
                   s_am, s_ak, s_wk, s_wn, s_rm, s_rn, s_cm, s_cn,
                   SWIGLU: tl.constexpr, HAS_RES: tl.constexpr, EVEN_K: tl.constexpr,
                   BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                   PREC: tl.constexpr):
    """C = A @ B (+ R), or with SWIGLU: C = silu(A @ B) * (A @ B2) (B2 shares B's strides).
    B[K, N] is addressed through strides, i.e. a [N, K] weight is read transposed in place."""
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BM)
    num_n = tl.cdiv(N, BN)
    width = GROUP * num_n                      # grouped-M order for L2 reuse
    first_m = (pid // width) * GROUP
    gm = min(num_m - first_m, GROUP)
    pm = first_m + (pid % width) % gm
    pn = (pid % width) // gm
    rm = pm * BM + tl.arange(0, BM)
    rn = pn * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    am = rm % M                                # wrapped rows/cols: no M/N masks in the main loop
    wn = rn % N
    a_ptrs = a_ptr + am[:, None] * s_am + rk[None, :] * s_ak
    w_off = rk[:, None] * s_wk + wn[None, :] * s_wn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    acc2 = tl.zeros((BM, BN), dtype=tl.float32)
    for k0 in range(0, K, BK):
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(w_ptr + w_off)
        else:
            kk = k0 + rk
            a = tl.load(a_ptrs, mask=kk[None, :] < K, other=0.0)
            b = tl.load(w_ptr + w_off, mask=kk[:, None] < K, other=0.0)
        acc = tl.dot(a, b, acc, input_precision=PREC)
        if SWIGLU:
            if EVEN_K:
                b2 = tl.load(w2_ptr + w_off)
            else:
                b2 = tl.load(w2_ptr + w_off, mask=(k0 + rk)[:, None] < K, other=0.0)
            acc2 = tl.dot(a, b2, acc2, input_precision=PREC)
        a_ptrs += BK * s_ak
        w_off += BK * s_wk
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    if SWIGLU:
        acc = acc / (1.0 + tl.exp(-acc)) * acc2            # silu(gate) * up
    if HAS_RES:
        acc += tl.load(res_ptr + rm[:, None] * s_rm + rn[None, :] * s_rn, mask=mask, other=0.0)
    tl.store(c_ptr + rm[:, None] * s_cm + rn[None, :] * s_cn, acc, mask=mask)


@triton.jit
def _rmsnorm_kernel(x_ptr, w_ptr, y_ptr, N, s_x, s_y, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    ok = cols < N
    x = tl.load(x_ptr + row * s_x + cols, mask=ok, other=0.0)
    r = 1.0 / tl.sqrt(tl.sum(x * x, 0) / N + eps)
    w = tl.load(w_ptr + cols, mask=ok, other=0.0)
    tl.store(y_ptr + row * s_y + cols, x * r * w, mask=ok)


@triton.jit
def _mask_range_kernel(mask_ptr, range_ptr, S, s_mi, s_mj, BM: tl.constexpr, BN: tl.constexpr):
    """range[i] = (first, last + 1) key block of query block i that holds any True."""
    pid = tl.program_id(0)
    rows = pid * BM + tl.arange(0, BM)
    cols0 = tl.arange(0, BN)
    nb = tl.cdiv(S, BN)
    lo = nb
    hi = 0
    for j in range(0, nb):
        cols = j * BN + cols0
        t = tl.load(mask_ptr + rows[:, None] * s_mi + cols[None, :] * s_mj,
                    mask=(rows[:, None] < S) & (cols[None, :] < S), other=0)
        anyv = tl.max(tl.max(t.to(tl.int32), 1), 0) > 0
        lo = tl.minimum(lo, tl.where(anyv, j, nb))
        hi = tl.maximum(hi, tl.where(anyv, j + 1, 0))
    tl.store(range_ptr + 2 * pid, lo)
    tl.store(range_ptr + 2 * pid + 1, hi)


@triton.jit
def _flash_attn_mask_kernel(q_ptr, k_ptr, v_ptr, o_ptr, mask_ptr, range_ptr, S, H,
                            s_qb, s_qs, s_kb, s_ks, s_vb, s_vs, s_ob, s_os, s_mi, s_mj,
                            qk_scale,
                            HD: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr,
                            PREC: tl.constexpr):
    """One program = BM query rows of one (batch, head); keys restricted to the block range
    from _mask_range_kernel, and element-wise by the boolean mask."""
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
    m_row = mask_ptr + offs_m[:, None] * s_mi
    lo = tl.load(range_ptr + 2 * pid_m)
    hi = tl.load(range_ptr + 2 * pid_m + 1)
    m_i = tl.full((BM,), float("-inf"), dtype=tl.float32)
    l_i = tl.zeros((BM,), dtype=tl.float32)
    acc = tl.zeros((BM, HD), dtype=tl.float32)
    for n0 in range(lo * BN, hi * BN, BN):
        cols = n0 + offs_n
        col_ok = cols < S
        kt = tl.load(k_base + cols[None, :] * s_ks + offs_d[:, None], mask=col_ok[None, :], other=0.0)
        s = tl.dot(q, kt, input_precision=PREC) * qk_scale        # log2 units
        keep = tl.load(m_row + cols[None, :] * s_mj, mask=row_ok[:, None] & col_ok[None, :], other=0)
        s = tl.where(keep != 0, s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        # rows with nothing kept so far have m_new = -inf: use 0 as the reference point so that
        # exp2 gives exact zeros instead of NaN (inf - inf)
        m_ref = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2(m_i - m_ref)
        p = tl.exp2(s - m_ref[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_base + cols[:, None] * s_vs + offs_d[None, :], mask=col_ok[:, None], other=0.0)
        acc = tl.dot(p, v, acc * alpha[:, None], input_precision=PREC)
        m_i = m_new
    out = acc / l_i[:, None]             # 0/0 = NaN for fully masked rows, as in eager
    tl.store(o_ptr + b * s_ob + offs_m[:, None] * s_os + h * HD + offs_d[None, :], out,
             mask=row_ok[:, None])


def _prec(t):
    return "bf16x6" if t.is_cuda else "ieee"


def _linear(a, w, out, res=None, w2=None):
    """out = a @ w^T (+ res), or silu(a @ w^T) * (a @ w2^T) when w2 is given."""
    m, k = a.shape
    n = w.shape[0]
    dual = w2 is not None
    bm, bn, bk, warps, stages = 128, (64 if dual else 128), 64, 8, 3
    if triton.cdiv(m, bm) * triton.cdiv(n, bn) < 132:   # too few tiles to fill the SMs
        bm, warps = 64, 4
    r = out if res is None else res
    grid = (triton.cdiv(m, bm) * triton.cdiv(n, bn),)
    _linear_kernel[grid](a, w, w if w2 is None else w2, r, out, m, n, k,
                         a.stride(0), a.stride(1), w.stride(1), w.stride(0),
                         r.stride(0), r.stride(1), out.stride(0), out.stride(1),
                         SWIGLU=dual, HAS_RES=res is not None, EVEN_K=(k % bk == 0),
                         BM=bm, BN=bn, BK=bk, GROUP=8, PREC=_prec(a),
                         num_warps=warps, num_stages=stages)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q, k, v, mask, w_o, x, rms_w, w_gate, w_up, w_down):
        bsz, seq, dim = q.shape
        heads = dim // HEAD_DIM
        m = bsz * seq
        dev, dt = x.device, x.dtype
        nbm = triton.cdiv(seq, ATTN_BM)
        ranges = torch.empty((nbm, 2), dtype=torch.int32, device=dev)
        _mask_range_kernel[(nbm,)](mask, ranges, seq, mask.stride(0), mask.stride(1),
                                   BM=ATTN_BM, BN=ATTN_BN, num_warps=4)
        attn = torch.empty((m, dim), dtype=dt, device=dev)
        _flash_attn_mask_kernel[(nbm, bsz * heads)](
            q, k, v, attn, mask, ranges, seq, heads,
            q.stride(0), q.stride(1), k.stride(0), k.stride(1), v.stride(0), v.stride(1),
            seq * dim, dim, mask.stride(0), mask.stride(1),
            SM_SCALE * LOG2E,
            HD=HEAD_DIM, BM=ATTN_BM, BN=ATTN_BN, PREC=_prec(q), num_warps=8, num_stages=2)
        x1 = torch.empty((m, dim), dtype=dt, device=dev)
        _linear(attn, w_o, x1, res=x.view(m, dim))          # x + attn @ Wo^T
        r = torch.empty((m, dim), dtype=dt, device=dev)
        block = triton.next_power_of_2(dim)
        _rmsnorm_kernel[(m,)](x1, rms_w, r, dim, x1.stride(0), r.stride(0), RMS_EPS,
                              BLOCK=block, num_warps=4 if block <= 2048 else 8)
        ffn = w_gate.shape[0]
        s = torch.empty((m, ffn), dtype=dt, device=dev)
        _linear(r, w_gate, s, w2=w_up)                      # silu(r Wg^T) * (r Wu^T)
        y = torch.empty((bsz, seq, dim), dtype=dt, device=dev)
        _linear(s, w_down, y.view(m, dim), res=x1)          # x1 + s @ Wd^T
        return y
