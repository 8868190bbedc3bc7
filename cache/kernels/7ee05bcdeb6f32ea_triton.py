"""Curated kernel: softmax over the last dim fused with the following batched matmul, fp32.

Subgraph (level2/10_softmax_dropout_matmul, dropout is identity in eval):
    v0 = _softmax(in0, -1); v1 = clone(v0); v3 = view(expand(v1), [B*H, S, T])
    v5 = view(expand(in1), [B*H, T, D]); v6 = bmm(v3, v5); v7 = view(v6, [B, H, S, D])
Inputs in reference order: in0 = scores [B, H, S, T], in1 = values [B, H, T, D]
(level2/10: [16,16,512,512] and [16,16,512,64]). Output: contiguous [B, H, S, D].

Why it is faster than eager: eager reads the 268 MB score tensor for softmax, writes the
probabilities, copies them (clone), and reads them again for an FP32 SGEMM bmm: ~1.3 GB of
traffic plus CUDA-core SGEMM. Here each program owns BM rows of one (b, h) slice and streams
the score row block once, keeping a running row max and row sum (online softmax) and
accumulating exp(x - max) @ V on the tensor cores (`input_precision="bf16x6"`: three bf16
pieces per fp32 operand, more accurate than SGEMM); the accumulator is rescaled whenever the max
grows and divided by the row sum at the end. The probabilities never touch memory: the scores
are read once, V is read from L2, and only the [.., S, 64] output is written.
"""
import torch
import triton
import triton.language as tl


@triton.jit
def _softmax_pv_kernel(s_ptr, v_ptr, o_ptr, H, S, T, D,
                       s_sb, s_sh, s_sm, s_st, s_vb, s_vh, s_vt, s_vd, s_ob, s_oh, s_om, s_od,
                       BM: tl.constexpr, BT: tl.constexpr, BD: tl.constexpr, PREC: tl.constexpr):
    pid_m = tl.program_id(0)
    z = tl.program_id(1)
    bi = (z // H).to(tl.int64)
    hi = (z % H).to(tl.int64)
    rm = pid_m * BM + tl.arange(0, BM)
    rt = tl.arange(0, BT)
    rd = tl.arange(0, BD)
    m_ok = rm < S
    d_ok = rd < D
    sp = s_ptr + bi * s_sb + hi * s_sh + rm[:, None] * s_sm + rt[None, :] * s_st
    vp = v_ptr + bi * s_vb + hi * s_vh + rt[:, None] * s_vt + rd[None, :] * s_vd

    m_i = tl.full((BM,), float("-inf"), dtype=tl.float32)
    l_i = tl.zeros((BM,), dtype=tl.float32)
    acc = tl.zeros((BM, BD), dtype=tl.float32)
    for t in range(0, T, BT):
        t_ok = (t + rt) < T
        x = tl.load(sp, mask=m_ok[:, None] & t_ok[None, :], other=0.0).to(tl.float32)
        x = tl.where(t_ok[None, :], x, float("-inf"))  # padded columns get probability 0
        m_new = tl.maximum(m_i, tl.max(x, axis=1))
        alpha = tl.exp(m_i - m_new)
        p = tl.exp(x - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, axis=1)
        v = tl.load(vp, mask=t_ok[:, None] & d_ok[None, :], other=0.0).to(tl.float32)
        acc = tl.dot(p, v, acc * alpha[:, None], input_precision=PREC)
        m_i = m_new
        sp += BT * s_st
        vp += BT * s_vt
    out = acc / l_i[:, None]
    op = o_ptr + bi * s_ob + hi * s_oh + rm[:, None] * s_om + rd[None, :] * s_od
    tl.store(op, out.to(o_ptr.dtype.element_ty), mask=m_ok[:, None] & d_ok[None, :])


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1):
        bsz, heads, S, T = in0.shape
        D = in1.shape[3]
        o = torch.empty((bsz, heads, S, D), dtype=in0.dtype, device=in0.device)
        prec = "bf16x6" if in0.is_cuda else "ieee"  # the CPU interpreter has no bf16x6
        bm, bt = 128, 64
        bd = max(16, triton.next_power_of_2(D))
        grid = (triton.cdiv(S, bm), bsz * heads)
        _softmax_pv_kernel[grid](
            in0, in1, o, heads, S, T, D,
            in0.stride(0), in0.stride(1), in0.stride(2), in0.stride(3),
            in1.stride(0), in1.stride(1), in1.stride(2), in1.stride(3),
            o.stride(0), o.stride(1), o.stride(2), o.stride(3),
            BM=bm, BT=bt, BD=bd, PREC=prec, num_warps=8, num_stages=3)
        return o
