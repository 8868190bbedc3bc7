"""Curated kernel: MLP-Mixer block (level3/11_mlp_mixer_block), fp32.

Subgraph (AOTAutograd inference graph), x [B, T, C]:
    u   = layer_norm(x, [C], g1, b1, 1e-5)
    tok = gelu(permute(u, [0, 2, 1]) @ Wt1.T + bt1) @ Wt2.T + bt2     ([B, C, T], token mixing)
    x1  = x + permute(tok, [0, 2, 1])
    h   = layer_norm(x1, [C], g2, b2, 1e-5)
    y   = x1 + gelu(h @ Wc1.T + bc1) @ Wc2.T + bc2                     (channel mixing)
Inputs in reference order: x [B, T, C], g1 [C], b1 [C], Wt1 [J, T], bt1 [J], Wt2 [T, J],
bt2 [T], g2 [C], b2 [C], Wc1 [F, C], bc1 [F], Wc2 [C, F], bc2 [C]   (gelu = exact erf form).

Why it is faster than eager (six launches instead of ~14, no transposes):
* The token-mixing MLP is computed in the TRANSPOSED orientation, per batch:
      Ht[b] = gelu(Wt1 @ u[b] + bt1[:, None])          [J, C]
      x1[b] = x[b] + Wt2 @ Ht[b] + bt2[:, None]        [T, C]
  so every operand is read row-major exactly as it lies in memory: the graph's
  permute + contiguous `clone` of u (a full copy), and the permute back before the residual,
  disappear. The biases become per-row epilogue terms, the GELU and the residual add are fused
  into the GEMM epilogues, and x1 comes out directly in [B, T, C].
* The channel MLP is two GEMMs with bias+GELU and bias+residual epilogues; weights are read in
  place through strides (no transposed copies); grouped-M tile order keeps panels in L2.
* Precision: the graph is fp32 with TF32 off. On CUDA every dot uses input_precision="bf16x6"
  (three bf16 pieces per fp32 operand, tensor cores, fp32 accumulate), at least as accurate as
  FP32 SGEMM. The CPU interpreter does not know "bf16x6": the host passes "ieee" there.
* LayerNorm is a one-pass row kernel with fp32 statistics.
"""
import torch
import triton
import triton.language as tl

LN_EPS = 1e-5


@triton.jit
def _gemm_kernel(a_ptr, b_ptr, bias_ptr, res_ptr, c_ptr, M, N, K,
                 s_az, s_am, s_ak, s_bz, s_bk, s_bn, s_rz, s_rm, s_rn, s_cz, s_cm, s_cn,
                 BIAS: tl.constexpr, ACT: tl.constexpr, HAS_RES: tl.constexpr,
                 EVEN_K: tl.constexpr,
                 BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                 PREC: tl.constexpr):
    """Batched C[z] = act(A[z] @ B[z] + bias) (+ R[z]); z = program_id(1), every operand fully
    strided (batch stride 0 broadcasts a weight). BIAS: 0 none, 1 per column (N), 2 per row (M).
    ACT: 0 identity, 1 exact (erf) GELU."""
    pid = tl.program_id(0)
    z = tl.program_id(1).to(tl.int64)
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
    bn = rn % N
    a_ptrs = a_ptr + z * s_az + am[:, None] * s_am + rk[None, :] * s_ak
    b_ptrs = b_ptr + z * s_bz + rk[:, None] * s_bk + bn[None, :] * s_bn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k0 in range(0, K, BK):
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        else:
            kk = k0 + rk
            a = tl.load(a_ptrs, mask=kk[None, :] < K, other=0.0)
            b = tl.load(b_ptrs, mask=kk[:, None] < K, other=0.0)
        acc = tl.dot(a, b, acc, input_precision=PREC)
        a_ptrs += BK * s_ak
        b_ptrs += BK * s_bk
    m_ok = rm < M
    n_ok = rn < N
    mask = m_ok[:, None] & n_ok[None, :]
    if BIAS == 1:
        acc += tl.load(bias_ptr + rn, mask=n_ok, other=0.0)[None, :]
    if BIAS == 2:
        acc += tl.load(bias_ptr + rm, mask=m_ok, other=0.0)[:, None]
    if ACT == 1:
        acc = 0.5 * acc * (1.0 + tl.math.erf(acc * 0.7071067811865476))
    if HAS_RES:
        acc += tl.load(res_ptr + z * s_rz + rm[:, None] * s_rm + rn[None, :] * s_rn,
                       mask=mask, other=0.0)
    tl.store(c_ptr + z * s_cz + rm[:, None] * s_cm + rn[None, :] * s_cn, acc, mask=mask)


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


def _prec(t):
    return "bf16x6" if t.is_cuda else "ieee"


def _gemm(a, b, out, bias, bias_mode, act=0, res=None):
    """out[z] = act(a[z] @ b[z] + bias) (+ res[z]) for 3-D operands [Z, rows, cols]."""
    zb, m, k = a.shape
    n = b.shape[-1]

    def st(t):
        return (t.stride(0), t.stride(1), t.stride(2))

    bm, bn, warps, stages = 128, 128, 8, 3
    bk = 64 if k % 64 == 0 else 32          # less tail waste for odd K (e.g. 196 tokens)
    if triton.cdiv(m, bm) * triton.cdiv(n, bn) * zb < 132:   # too few tiles to fill the SMs
        bm, warps = 64, 4
    r = out if res is None else res
    grid = (triton.cdiv(m, bm) * triton.cdiv(n, bn), zb)
    _gemm_kernel[grid](a, b, bias, r, out, m, n, k, *st(a), *st(b), *st(r), *st(out),
                       BIAS=bias_mode, ACT=act, HAS_RES=res is not None, EVEN_K=(k % bk == 0),
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

    def forward(self, x, ln1_w, ln1_b, w_t1, b_t1, w_t2, b_t2, ln2_w, ln2_b, w_c1, b_c1,
                w_c2, b_c2):
        bsz, tok, ch = x.shape
        m = bsz * tok
        dev, dt = x.device, x.dtype
        u = torch.empty((bsz, tok, ch), dtype=dt, device=dev)
        _layernorm(x.view(m, ch), ln1_w, ln1_b, u.view(m, ch))
        # token mixing, transposed: Ht[b] = gelu(Wt1 @ u[b] + bt1[:, None])  ([J, C] per batch)
        j = w_t1.shape[0]
        ht = torch.empty((bsz, j, ch), dtype=dt, device=dev)
        _gemm(w_t1.expand(bsz, j, tok), u, ht, b_t1, bias_mode=2, act=1)
        # x1[b] = x[b] + Wt2 @ Ht[b] + bt2[:, None]                          ([T, C] per batch)
        x1 = torch.empty((bsz, tok, ch), dtype=dt, device=dev)
        _gemm(w_t2.expand(bsz, tok, j), ht, x1, b_t2, bias_mode=2, res=x)
        # channel mixing
        h = torch.empty((m, ch), dtype=dt, device=dev)
        _layernorm(x1.view(m, ch), ln2_w, ln2_b, h)
        hid = w_c1.shape[0]
        f = torch.empty((1, m, hid), dtype=dt, device=dev)
        _gemm(h.unsqueeze(0), w_c1.t().unsqueeze(0), f, b_c1, bias_mode=1, act=1)
        y = torch.empty((bsz, tok, ch), dtype=dt, device=dev)
        _gemm(f, w_c2.t().unsqueeze(0), y.view(1, m, ch), b_c2, bias_mode=1, res=x1.view(1, m, ch))
        return y
