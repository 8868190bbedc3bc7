"""Curated kernel: pre-norm transformer block (level3/03_transformer_block_prenorm), fp32.

Subgraph (AOTAutograd inference graph):
    h   = layer_norm(x, [D], g1, b1, 1e-5)
    qkv = addmm(bqkv, h, Wqkv.T)            viewed [B, S, 3, H, 64], permuted to (3, B, H, S, 64)
    a   = softmax(q @ k^T * 0.125, -1) @ v  permuted back to [B, S, D]
    x1  = x + addmm(bo, a, Wo.T)
    h2  = layer_norm(x1, [D], g2, b2, 1e-5)
    y   = x1 + addmm(bf2, gelu(addmm(bf1, h2, W1.T)), W2.T)      (exact erf gelu)
Inputs in reference order: x [B, S, D], g1 [D], b1 [D], Wqkv [3D, D], bqkv [3D], Wo [D, D],
bo [D], g2 [D], b2 [D], W1 [4D, D], bf1 [4D], W2 [D, 4D], bf2 [D]. Head size 64 and the 0.125
scale are the graph's constants; H = D // 64.

Why it is faster than eager (seven launches instead of ~20, and far less memory traffic):
* Attention is one flash-attention kernel (online softmax in registers): the [B, H, S, S] score
  tensor, which eager writes and re-reads three times (bmm, mul, softmax), never exists.
* The q/k/v split, head permutes and `clone`s are strided addressing: attention reads Q, K and V
  straight out of the fused QKV projection output and writes its result in the [B, S, H*64]
  layout the output projection consumes.
* GEMM epilogues absorb the elementwise ops: bias everywhere, the residual adds of both
  sub-blocks, and the exact-erf GELU of the MLP; the [B*S, 4D] pre-activation is never stored.
* Weights are read in place through strides (no transpose copies); grouped-M tile order keeps
  the operand panels in L2.
* Precision: the graph is fp32 with TF32 off. On CUDA every dot uses input_precision="bf16x6"
  (three bf16 pieces per fp32 operand, tensor cores, fp32 accumulate): at least SGEMM accuracy
  at tensor-core speed. The CPU interpreter does not know "bf16x6": the host passes "ieee" there.
* LayerNorm is a one-pass-over-memory row kernel with fp32 statistics.
"""
import torch
import triton
import triton.language as tl

HEAD_DIM = 64          # from the graph's view [B, S, 3, H, 64]
SM_SCALE = 0.125       # the graph multiplies the scores by 0.125
LN_EPS = 1e-5
LOG2E = 1.4426950408889634


@triton.jit
def _linear_kernel(a_ptr, w_ptr, bias_ptr, res_ptr, c_ptr, M, N, K,
                   s_am, s_ak, s_wk, s_wn, s_rm, s_rn, s_cm, s_cn,
                   ACT: tl.constexpr, HAS_RES: tl.constexpr, EVEN_K: tl.constexpr,
                   BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                   PREC: tl.constexpr):
    """C = act(A @ B + bias[N]) (+ R); B[K, N] is addressed through strides (W^T in place).
    ACT: 0 = identity, 1 = exact (erf) GELU."""
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
    n_ok = rn < N
    mask = (rm[:, None] < M) & n_ok[None, :]
    acc += tl.load(bias_ptr + rn, mask=n_ok, other=0.0)[None, :]
    if ACT == 1:
        acc = 0.5 * acc * (1.0 + tl.math.erf(acc * 0.7071067811865476))
    if HAS_RES:
        acc += tl.load(res_ptr + rm[:, None] * s_rm + rn[None, :] * s_rn, mask=mask, other=0.0)
    tl.store(c_ptr + rm[:, None] * s_cm + rn[None, :] * s_cn, acc, mask=mask)


@triton.jit
def _layernorm_kernel(x_ptr, w_ptr, b_ptr, y_ptr, N, s_x, s_y, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    ok = cols < N
    x = tl.load(x_ptr + row * s_x + cols, mask=ok, other=0.0)
    mean = tl.sum(x, 0) / N
    xc = tl.where(ok, x - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(xc * xc, 0) / N + eps)
    w = tl.load(w_ptr + cols, mask=ok, other=0.0)
    b = tl.load(b_ptr + cols, mask=ok, other=0.0)
    tl.store(y_ptr + row * s_y + cols, xc * rstd * w + b, mask=ok)


@triton.jit
def _flash_attn_kernel(q_ptr, k_ptr, v_ptr, o_ptr, S, H,
                       s_qb, s_qs, s_kb, s_ks, s_vb, s_vs, s_ob, s_os,
                       qk_scale,
                       HD: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, PREC: tl.constexpr):
    """One program = BM query rows of one (batch, head). Head h occupies columns
    [h*HD, (h+1)*HD) of its operand; batch/sequence strides are arguments."""
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
        s = tl.dot(q, kt, input_precision=PREC) * qk_scale        # log2 units
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


def _linear(a, w, bias, out, act=0, res=None):
    """out[M, N] = act(a[M, K] @ w[N, K]^T + bias) (+ res[M, N])."""
    m, k = a.shape
    n = w.shape[0]
    bm, bn, bk, warps, stages = 128, 128, 64, 8, 3
    if triton.cdiv(m, bm) * triton.cdiv(n, bn) < 132:   # too few tiles to fill the SMs
        bm, warps = 64, 4
    r = out if res is None else res
    grid = (triton.cdiv(m, bm) * triton.cdiv(n, bn),)
    _linear_kernel[grid](a, w, bias, r, out, m, n, k,
                         a.stride(0), a.stride(1), w.stride(1), w.stride(0),
                         r.stride(0), r.stride(1), out.stride(0), out.stride(1),
                         ACT=act, HAS_RES=res is not None, EVEN_K=(k % bk == 0),
                         BM=bm, BN=bn, BK=bk, GROUP=8, PREC=_prec(a),
                         num_warps=warps, num_stages=stages)


def _layernorm(x, w, b, out):
    m, n = x.shape
    block = triton.next_power_of_2(n)
    _layernorm_kernel[(m,)](x, w, b, out, n, x.stride(0), out.stride(0), LN_EPS,
                            BLOCK=block, num_warps=4 if block <= 2048 else 8)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, ln1_w, ln1_b, w_qkv, b_qkv, w_o, b_o, ln2_w, ln2_b, w_fc1, b_fc1,
                w_fc2, b_fc2):
        bsz, seq, dim = x.shape
        heads = dim // HEAD_DIM
        m = bsz * seq
        dev, dt = x.device, x.dtype
        x2 = x.view(m, dim)
        h = torch.empty((m, dim), dtype=dt, device=dev)
        _layernorm(x2, ln1_w, ln1_b, h)
        qkv = torch.empty((m, 3 * dim), dtype=dt, device=dev)
        _linear(h, w_qkv, b_qkv, qkv)
        # q, k, v are column blocks of qkv ([B, S, 3, H, 64]); read them in place
        attn = torch.empty((m, dim), dtype=dt, device=dev)
        bm_a, bn_a = 128, 64
        grid = (triton.cdiv(seq, bm_a), bsz * heads)
        sb, ss = seq * 3 * dim, 3 * dim
        _flash_attn_kernel[grid](qkv, qkv[:, dim:], qkv[:, 2 * dim:], attn, seq, heads,
                                 sb, ss, sb, ss, sb, ss, seq * dim, dim,
                                 SM_SCALE * LOG2E,
                                 HD=HEAD_DIM, BM=bm_a, BN=bn_a, PREC=_prec(x),
                                 num_warps=8, num_stages=2)
        x1 = torch.empty((m, dim), dtype=dt, device=dev)
        _linear(attn, w_o, b_o, x1, res=x2)                 # x + attn @ Wo^T + bo
        _layernorm(x1, ln2_w, ln2_b, h)                     # reuse h's buffer
        hidden = w_fc1.shape[0]
        f = torch.empty((m, hidden), dtype=dt, device=dev)
        _linear(h, w_fc1, b_fc1, f, act=1)                  # gelu(h2 @ W1^T + b1)
        y = torch.empty((bsz, seq, dim), dtype=dt, device=dev)
        _linear(f, w_fc2, b_fc2, y.view(m, dim), res=x1)    # x1 + f @ W2^T + b2
        return y
