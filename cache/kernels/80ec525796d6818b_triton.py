"""Curated kernel: Conv2d + bias + ReLU, fp32 NCHW, one implicit-GEMM launch.

Subgraph `convolution relu` (stride 1, padding 1, dilation 1, groups 1):
    v0 = aten.convolution(in0, in1, in2, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    v1 = aten.relu(v0)
Used by level2/13 (x [32, 32, 112, 112], w [64, 32, 3, 3]) and level3/05_small_cnn subgraphs 1
(x [64, 32, 32, 32], w [64, 32, 3, 3]) and 2 (x [64, 3, 64, 64], w [32, 3, 3, 3]).
Inputs in reference order: in0 = x [N, Cin, H, W], in1 = weight [Cout, Cin, KH, KW], in2 = bias
[Cout]. Output: contiguous NCHW [N, Cout, OH, OW].

Why it is faster than eager: eager runs the conv on the CUDA cores (TF32 off) and then a separate
ReLU pass that re-reads and re-writes the whole output (103 MB at level2/13). Here bias and ReLU
are applied in the GEMM epilogue so the output is written exactly once. The Cin = 3 layer
(K = 27) is walked as one flat, masked 32-wide K step; it is bound by the 33 MB output write, so
the gain there is only the fused ReLU pass.

How the implicit GEMM works (M = N*OH*OW output pixels, N = Cout, K = KH*KW*Cin): with TF32 off,
eager's cuDNN convolution runs on the CUDA cores; here the GEMM runs on the tensor cores with each
fp32 tile split into three bf16 pieces (`input_precision="bf16x6"`: max error vs float64 below
the fp32 CUDA-core path, 1.25-1.45x its throughput on large GEMMs on H100). No im2col buffer is
materialised: each K step takes one filter tap (kh, kw) and BK input channels and gathers the
[BK, BM] patch tile straight from NCHW with masks for the padding halo, pixel axis innermost so a
warp reads consecutive `ow` of one channel (coalesced), transposed in registers for the MMA. An M
tile never crosses an image, so each output channel's tile is a contiguous run of OH*OW and the
NCHW store is coalesced. The weight is first repacked by a tiny kernel into a K-contiguous
[Cout, K] matrix in the loop's (kh, kw, ci) order, so B tiles are 16-byte async copies instead of
stride-KH*KW gathers; for tiny Cin (< 16) K is walked flat so the MMA is not padded per tap.
"""
import torch
import triton
import triton.language as tl

# the reference's constants
STRIDE = (1, 1)
PADDING = (1, 1)
DILATION = (1, 1)


@triton.jit
def _pack_weight(w_ptr, wp_ptr, total, Cin, Cout, s_o, s_i, s_h, s_w,
                 KW: tl.constexpr, BLOCK: tl.constexpr):
    # wp[co, (kh*KW + kw)*Cin + ci] = w[co, ci, kh, kw]; written coalesced along k
    idx = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = idx < total
    K = total // Cout
    co = idx // K
    k = idx - co * K
    tap = k // Cin
    ci = k - tap * Cin
    kh = tap // KW
    kw = tap - kh * KW
    v = tl.load(w_ptr + co * s_o + ci * s_i + kh * s_h + kw * s_w, mask=ok, other=0.0)
    tl.store(wp_ptr + idx, v, mask=ok)


@triton.jit
def _conv_kernel(x_ptr, w_ptr, out_ptr, bias_ptr, mean_ptr, var_ptr, gamma_ptr, beta_ptr, res_ptr,
                 Cin, H, W, Cout, OH, OW, eps,
                 s_xn, s_xc, s_xh, s_xw, s_rn, s_rc, s_rh, s_rw,
                 KH: tl.constexpr, KW: tl.constexpr, SH: tl.constexpr, SW: tl.constexpr,
                 PH: tl.constexpr, PW: tl.constexpr, DH: tl.constexpr, DW: tl.constexpr,
                 BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                 TAP_MAJOR: tl.constexpr, X_FLAT: tl.constexpr, RES_FLAT: tl.constexpr,
                 HAS_BIAS: tl.constexpr, HAS_BN: tl.constexpr, HAS_RES: tl.constexpr,
                 RELU: tl.constexpr, PREC: tl.constexpr):
    # program -> (image, pixel tile, channel tile); channel tiles of one pixel tile are adjacent
    pid = tl.program_id(0)
    OHW = OH * OW
    num_n = tl.cdiv(Cout, BN)
    num_p = tl.cdiv(OHW, BM)
    pn = pid % num_n
    pm = pid // num_n
    img = pm // num_p
    pt = pm - img * num_p

    p = pt * BM + tl.arange(0, BM)          # output pixel (oh*OW + ow) within the image
    co = pn * BN + tl.arange(0, BN)
    p_ok = p < OHW
    co_ok = co < Cout
    oh = p // OW
    ow = p - oh * OW
    ih0 = oh * SH - PH
    iw0 = ow * SW - PW
    x_img = x_ptr + img.to(tl.int64) * s_xn
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    if TAP_MAJOR:
        # K step = (tap, BK channels): spatial offsets/masks are per pixel, channels are a stride
        n_cc = tl.cdiv(Cin, BK)
        for it in range(KH * KW * n_cc):
            tap = it // n_cc
            ci = (it - tap * n_cc) * BK + rk
            kh = tap // KW
            kw = tap - kh * KW
            if X_FLAT:  # 1x1, stride 1, no padding, contiguous rows: pixel offset is p itself
                sp = p
                m_ok = p_ok
            else:
                ih = ih0 + kh * DH
                iw = iw0 + kw * DW
                m_ok = p_ok & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
                sp = ih * s_xh + iw * s_xw
            c_ok = ci < Cin
            at = tl.load(x_img + ci[:, None] * s_xc + sp[None, :],
                         mask=c_ok[:, None] & m_ok[None, :], other=0.0)
            b = tl.load(w_ptr + (tap * Cin + ci)[:, None] + co[None, :] * (KH * KW * Cin),
                        mask=c_ok[:, None] & co_ok[None, :], other=0.0)
            acc = tl.dot(tl.trans(at), b, acc, input_precision=PREC)
    else:
        # tiny Cin: walk K = KH*KW*Cin flat (same tap-major order) so no MMA is padded per tap
        K = KH * KW * Cin
        for k0 in range(0, K, BK):
            k = k0 + rk
            tap = k // Cin
            ci = k - tap * Cin
            kh = tap // KW
            kw = tap - kh * KW
            k_ok = k < K
            ih = ih0[None, :] + (kh * DH)[:, None]
            iw = iw0[None, :] + (kw * DW)[:, None]
            ok = k_ok[:, None] & p_ok[None, :] & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            at = tl.load(x_img + ci[:, None] * s_xc + ih * s_xh + iw * s_xw, mask=ok, other=0.0)
            b = tl.load(w_ptr + k[:, None] + co[None, :] * K,
                        mask=k_ok[:, None] & co_ok[None, :], other=0.0)
            acc = tl.dot(tl.trans(at), b, acc, input_precision=PREC)

    # epilogue, in eager's op order
    y = acc
    if HAS_BIAS:
        y = y + tl.load(bias_ptr + co, mask=co_ok, other=0.0)[None, :]
    if HAS_BN:  # eval batch norm: (y - mean) * (1 / sqrt(var + eps)) * gamma + beta
        mean = tl.load(mean_ptr + co, mask=co_ok, other=0.0)
        var = tl.load(var_ptr + co, mask=co_ok, other=1.0)
        gamma = tl.load(gamma_ptr + co, mask=co_ok, other=0.0)
        beta = tl.load(beta_ptr + co, mask=co_ok, other=0.0)
        invstd = tl.div_rn(1.0, tl.sqrt_rn(var + eps))
        y = (y - mean[None, :]) * invstd[None, :] * gamma[None, :] + beta[None, :]
    mask = p_ok[:, None] & co_ok[None, :]
    if HAS_RES:
        r_img = res_ptr + img.to(tl.int64) * s_rn
        if RES_FLAT:
            r_sp = p
        else:
            r_sp = oh * s_rh + ow * s_rw
        y = y + tl.load(r_img + co[None, :] * s_rc + r_sp[:, None], mask=mask, other=0.0)
    if RELU:
        y = tl.where(y < 0.0, 0.0, y)  # NaN-propagating like aten.relu
    o_img = out_ptr + img.to(tl.int64) * Cout * OHW
    tl.store(o_img + co[None, :] * OHW + p[:, None], y.to(out_ptr.dtype.element_ty), mask=mask)


def _config(Cin, Cout, taps):
    """(BM, BN, BK, num_warps, num_stages, tap_major) for the implicit GEMM (H100, bf16x6)."""
    tap_major = Cin >= 16
    if Cout > 64:
        bm, bn, bk, warps, stages = 128, 128, 64, 8, 3
    else:
        bm, bn, bk, warps, stages = 128, max(16, triton.next_power_of_2(Cout)), 32, 8, 4
    if tap_major:
        bk = min(bk, triton.next_power_of_2(Cin))
    else:
        bk = max(16, min(64, triton.next_power_of_2(Cin * taps)))
        warps, stages = 4, 2
    return bm, bn, bk, warps, stages, tap_major


def conv2d_fused(x, w, stride, padding, dilation, bias=None, bn=None, res=None, relu=False):
    """NCHW conv + fused epilogue. bn = (mean, var, gamma, beta, eps); res is added after bn."""
    n, cin, h, wd = x.shape
    cout, _, kh, kw = w.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = torch.empty((n, cout, oh, ow), dtype=x.dtype, device=x.device)
    if out.numel() == 0:
        return out
    # weight as a [Cout, K] matrix, K ordered (kh, kw, ci), read by the kernel as [K, Cout]
    k = cin * kh * kw
    wp = torch.empty((cout, k), dtype=w.dtype, device=w.device)
    block = 1024
    _pack_weight[(triton.cdiv(k * cout, block),)](
        w, wp, k * cout, cin, cout, w.stride(0), w.stride(1), w.stride(2), w.stride(3),
        KW=kw, BLOCK=block)
    bm, bnt, bk, warps, stages, tap_major = _config(cin, cout, kh * kw)
    x_flat = (kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0
              and x.stride(3) == 1 and x.stride(2) == wd)
    mean, var, gamma, beta, eps = bn if bn is not None else (out, out, out, out, 0.0)
    r = res if res is not None else out
    res_flat = r.stride(3) == 1 and r.stride(2) == ow
    grid = (n * triton.cdiv(oh * ow, bm) * triton.cdiv(cout, bnt),)
    _conv_kernel[grid](
        x, wp, out, bias if bias is not None else out, mean, var, gamma, beta, r,
        cin, h, wd, cout, oh, ow, eps,
        x.stride(0), x.stride(1), x.stride(2), x.stride(3),
        r.stride(0), r.stride(1), r.stride(2), r.stride(3),
        KH=kh, KW=kw, SH=sh, SW=sw, PH=ph, PW=pw, DH=dh, DW=dw,
        BM=bm, BN=bnt, BK=bk, TAP_MAJOR=tap_major, X_FLAT=x_flat, RES_FLAT=res_flat,
        HAS_BIAS=bias is not None, HAS_BN=bn is not None, HAS_RES=res is not None, RELU=relu,
        PREC="bf16x6" if x.is_cuda else "ieee",  # the CPU interpreter has no bf16x6
        num_warps=warps, num_stages=stages)
    return out


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2):
        return conv2d_fused(in0, in1, STRIDE, PADDING, DILATION, bias=in2, relu=True)
