"""Curated kernel: ViT patch embedding (patch conv + bias, class token, position embedding,
LayerNorm), fp32, in two launches.

Subgraph (level3/09_vit_patch_embedding):
    v0 = aten.convolution(in0, in1, in2, stride=[16, 16], padding=[0, 0], dilation=[1, 1], ...)
    v1 = view(v0, [B, E, GH*GW]); v2 = permute(v1, [0, 2, 1]); v3 = expand(in3, [B, -1, -1])
    v4 = cat([v3, v2], 1); v5 = add(v4, in4); v6 = native_layer_norm(v5, [E], in5, in6, 1e-05)[0]
Inputs in reference order: in0 = images [B, C, H, W] (suite: [32, 3, 224, 224]), in1 = conv
weight [E, C, P, P] ([768, 3, 16, 16]), in2 = conv bias [E], in3 = class token [1, 1, E],
in4 = position embedding [1, 1 + GH*GW, E], in5 / in6 = LayerNorm weight / bias [E].
Output: contiguous [B, 1 + GH*GW, E].

Why it is faster than eager: a P x P, stride-P convolution without padding is a plain GEMM
over non-overlapping patches, [B*GH*GW, C*P*P] x [C*P*P, E] (suite: [6272, 768] x [768, 768]).
Eager runs it through cuDNN on the CUDA cores (TF32 off), then materialises the permuted copy,
the concatenation, the position add and the LayerNorm as four more full passes over the 19 MB
token tensor. Here:
  1. one GEMM launch on the tensor cores (`input_precision="bf16x6"`: each fp32 tile split into
     three bf16 pieces, max error vs float64 below fp32 SGEMM's, 1.25-1.45x its throughput on
     H100) gathers the patch rows straight from NCHW (K ordered (c, kh, kw), so each K tile reads
     runs of P contiguous pixels, and the weight is read as [K, E] through its own strides: no
     im2col, no transpose copy), and its epilogue adds the conv bias and the position embedding
     and stores the token rows 1..GH*GW of the output directly (permute + cat are free);
  2. one row-resident LayerNorm launch normalises every token row in place (two-pass variance
     from registers: one read, one write), building the class-token row 0 = cls + pos[0] on the
     fly.
Op order per element matches eager: (conv + bias) + pos, then (x - mean) * rstd * w + b.
"""
import torch
import triton
import triton.language as tl

# the reference's constants
STRIDE = (16, 16)
EPS = 1e-05
GROUP_M = 8


@triton.jit
def _patch_gemm_kernel(x_ptr, w_ptr, bias_ptr, pos_ptr, out_ptr,
                       M, E, K, NP, GW, T,
                       s_xn, s_xc, s_xh, s_xw, s_wo, s_wc, s_wh, s_ww, s_pt, s_pe,
                       KH: tl.constexpr, KW: tl.constexpr, SH: tl.constexpr, SW: tl.constexpr,
                       BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr,
                       PREC: tl.constexpr):
    # grouped-M tile order: GROUP consecutive programs share one weight column panel
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BM)
    num_n = tl.cdiv(E, BN)
    per_group = GROUP * num_n
    first_m = (pid // per_group) * GROUP
    group_m = min(num_m - first_m, GROUP)
    pm = first_m + (pid % per_group) % group_m
    pn = (pid % per_group) // group_m

    rm = pm * BM + tl.arange(0, BM)   # patch row: (b, ph, pw)
    rn = pn * BN + tl.arange(0, BN)   # embedding channel
    rk = tl.arange(0, BK)
    m_ok = rm < M
    n_ok = rn < E
    b = rm // NP
    q = rm - b * NP
    ph = q // GW
    pw = q - ph * GW
    a_row = x_ptr + b.to(tl.int64) * s_xn + (ph * SH) * s_xh + (pw * SW) * s_xw
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k0 in range(0, K, BK):
        k = k0 + rk                    # k = (c, kh, kw), the weight's own K order
        c = k // (KH * KW)
        r = k - c * (KH * KW)
        kh = r // KW
        kw = r - kh * KW
        k_ok = k < K
        a = tl.load(a_row[:, None] + (c * s_xc + kh * s_xh + kw * s_xw)[None, :],
                    mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        wv = tl.load(w_ptr + (c * s_wc + kh * s_wh + kw * s_ww)[:, None] + rn[None, :] * s_wo,
                     mask=k_ok[:, None] & n_ok[None, :], other=0.0)
        acc = tl.dot(a, wv, acc, input_precision=PREC)
    # epilogue: (conv + bias) + pos[1 + q], stored as token row 1 + q of image b
    mask = m_ok[:, None] & n_ok[None, :]
    v = acc + tl.load(bias_ptr + rn, mask=n_ok, other=0.0)[None, :]
    v = v + tl.load(pos_ptr + (1 + q)[:, None] * s_pt + rn[None, :] * s_pe, mask=mask, other=0.0)
    row = b.to(tl.int64) * T + 1 + q
    tl.store(out_ptr + row[:, None] * E + rn[None, :], v.to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _token_layer_norm(out_ptr, cls_ptr, pos_ptr, w_ptr, b_ptr, E, T, s_ce, s_pe, eps,
                      BLOCK: tl.constexpr):
    # one token row per program, normalised in place; row t == 0 of each image is cls + pos[0]
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    ok = cols < E
    is_cls = (cols * 0 + row % T) == 0
    ptrs = out_ptr + row.to(tl.int64) * E + cols
    x = tl.load(ptrs, mask=ok & (is_cls == 0), other=0.0)
    cls = tl.load(cls_ptr + cols * s_ce, mask=ok & is_cls, other=0.0)
    cls = cls + tl.load(pos_ptr + cols * s_pe, mask=ok & is_cls, other=0.0)
    x = tl.where(is_cls, cls, x)
    mean = tl.sum(x, axis=0) / E
    d = tl.where(ok, x - mean, 0.0)
    var = tl.sum(d * d, axis=0) / E
    rstd = tl.div_rn(1.0, tl.sqrt_rn(var + eps))
    w = tl.load(w_ptr + cols, mask=ok, other=0.0)
    bb = tl.load(b_ptr + cols, mask=ok, other=0.0)
    tl.store(ptrs, (d * rstd * w + bb).to(out_ptr.dtype.element_ty), mask=ok)


def _config(M, E):
    """(BM, BN, BK, num_warps, num_stages) from H100 bf16x6 GEMM measurements."""
    if E <= 64:
        return 128, 64, 32, 8, 4
    if M >= 512:
        return 128, 128, 64, 8, 3
    return 64, 64, 64, 4, 3


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2, in3, in4, in5, in6):
        bsz, cin, h, w = in0.shape
        e, _, kh, kw = in1.shape
        sh, sw = STRIDE
        gh = (h - kh) // sh + 1
        gw = (w - kw) // sw + 1
        n_patch = gh * gw
        t = n_patch + 1
        out = torch.empty((bsz, t, e), dtype=in0.dtype, device=in0.device)
        if out.numel() == 0:
            return out
        m = bsz * n_patch
        k = cin * kh * kw
        if m > 0:
            bm, bn, bk, warps, stages = _config(m, e)
            grid = (triton.cdiv(m, bm) * triton.cdiv(e, bn),)
            _patch_gemm_kernel[grid](
                in0, in1, in2, in4, out, m, e, k, n_patch, gw, t,
                in0.stride(0), in0.stride(1), in0.stride(2), in0.stride(3),
                in1.stride(0), in1.stride(1), in1.stride(2), in1.stride(3),
                in4.stride(1), in4.stride(2),
                KH=kh, KW=kw, SH=sh, SW=sw, BM=bm, BN=bn, BK=bk, GROUP=GROUP_M,
                PREC="bf16x6" if in0.is_cuda else "ieee",  # the CPU interpreter has no bf16x6
                num_warps=warps, num_stages=stages)
        block = triton.next_power_of_2(e)
        _token_layer_norm[(bsz * t,)](
            out, in3, in4, in5, in6, e, t, in3.stride(2), in4.stride(2), EPS,
            BLOCK=block, num_warps=4 if block <= 1024 else 8)
        return out
