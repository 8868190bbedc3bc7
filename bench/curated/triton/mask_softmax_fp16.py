"""Curated kernel: scale + boolean-mask fill + softmax over the last dimension, one launch.

Subgraph (level2/12_causal_mask_softmax_fp16):
    v0 = aten.mul.Tensor(in0, 0.125)
    v1 = aten.bitwise_not(in1)
    v2 = aten.scalar_tensor(-inf, dtype=float16)
    v3 = aten.where.self(v1, v2, v0)        # positions where in1 is False become -inf
    v4 = aten._softmax(v3, -1, False)
Inputs in reference order: in0 [B, H, M, N] (suite: float16 [8, 16, 1024, 1024]),
in1 bool [M, N] (or anything that broadcasts to [M, N]), shared by every (b, h).

Why it is faster than eager: eager runs four full-size kernels (mul, not, where, softmax), writing
and re-reading two intermediate [B, H, M, N] tensors. Here each program loads a few whole rows
once (4 rows of 1024 at the suite shape), scales, applies the mask (a 1 MB bool matrix that stays
in L2 for all B*H heads) and computes the softmax in fp32 registers, writing fp16 once: one read
and one write of the scores. The scaled value is rounded to fp16 before the softmax, as the eager
mul does. A fully masked row is all -inf, so its max is -inf and the result is NaN, exactly what
eager's softmax gives. Rows longer than 32768 fall back to an online-softmax pass plus a write pass.
"""
import torch
import triton
import triton.language as tl

SCALE = 0.125         # the constant of the reference's mul.Tensor
MAX_RESIDENT = 32768  # longest row (in elements) kept in registers
LOOP_BLOCK = 4096     # chunk length of the two-pass fallback for longer rows


@triton.jit
def _mask_softmax_resident(x_ptr, m_ptr, y_ptr, n_rows, n_cols, seq_q, x_stride, y_stride,
                           m_stride0, m_stride1, scale, ROWS: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK_N)
    row_ok = rows < n_rows
    mask = row_ok[:, None] & (cols < n_cols)[None, :]
    rows64 = rows.to(tl.int64)
    q = rows % seq_q  # query position: row of the [M, N] mask
    x = tl.load(x_ptr + rows64[:, None] * x_stride + cols[None, :], mask=mask,
                other=0.0, eviction_policy="evict_first")
    keep = tl.load(m_ptr + q[:, None] * m_stride0 + cols[None, :] * m_stride1, mask=mask, other=0,
                   eviction_policy="evict_last") != 0
    v = (x.to(tl.float32) * scale).to(x_ptr.dtype.element_ty).to(tl.float32)
    v = tl.where(keep, v, -float("inf"))  # masked-out and padded lanes are -inf
    row_max = tl.max(v, axis=1)
    e = tl.exp(v - row_max[:, None])  # all -inf row: NaN, as in eager
    inv = 1.0 / tl.sum(e, axis=1)
    y = e * inv[:, None]
    tl.store(y_ptr + rows64[:, None] * y_stride + cols[None, :], y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _mask_softmax_looped(x_ptr, m_ptr, y_ptr, n_cols, seq_q, x_stride, y_stride,
                         m_stride0, m_stride1, scale, BLOCK_N: tl.constexpr):
    row = tl.program_id(0)
    x_row = x_ptr + row.to(tl.int64) * x_stride
    y_row = y_ptr + row.to(tl.int64) * y_stride
    m_row = m_ptr + (row % seq_q) * m_stride0
    cols = tl.arange(0, BLOCK_N)
    m_vec = tl.full([BLOCK_N], -float("inf"), tl.float32)
    s_vec = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        x = tl.load(x_row + c, mask=ok, other=0.0, eviction_policy="evict_last")
        keep = tl.load(m_row + c * m_stride1, mask=ok, other=0) != 0
        v = (x.to(tl.float32) * scale).to(x_ptr.dtype.element_ty).to(tl.float32)
        v = tl.where(keep, v, -float("inf"))
        m_new = tl.maximum(m_vec, v)
        seen = m_new > -float("inf")
        s_vec = tl.where(seen, s_vec * tl.exp(m_vec - m_new) + tl.exp(v - m_new), 0.0)
        m_vec = m_new
    row_max = tl.max(m_vec, axis=0)
    total = tl.sum(tl.where(m_vec > -float("inf"), s_vec * tl.exp(m_vec - row_max), 0.0), axis=0)
    inv = 1.0 / total  # all -inf row: row_max = -inf -> NaN below, as in eager
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        x = tl.load(x_row + c, mask=ok, other=0.0, eviction_policy="evict_first")
        keep = tl.load(m_row + c * m_stride1, mask=ok, other=0) != 0
        v = (x.to(tl.float32) * scale).to(x_ptr.dtype.element_ty).to(tl.float32)
        v = tl.where(keep, v, -float("inf"))
        tl.store(y_row + c, (tl.exp(v - row_max) * inv).to(y_ptr.dtype.element_ty), mask=ok)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        if x.numel() == 0:
            return y
        seq_q, n_cols = x.shape[-2], x.shape[-1]
        # broadcast the mask to [M, N] (stride 0 on broadcast dims) and read its bytes as uint8
        mask = in1.expand(seq_q, n_cols).view(torch.uint8)
        x2, y2 = x.view(-1, n_cols), y.view(-1, n_cols)
        n_rows = x2.shape[0]
        if n_cols <= MAX_RESIDENT:
            block_n = triton.next_power_of_2(n_cols)
            rows = max(1, 4096 // block_n)  # suite: 4 rows of 1024 per program
            num_warps = min(16, max(4, rows * block_n // 1024))
            _mask_softmax_resident[(triton.cdiv(n_rows, rows),)](
                x2, mask, y2, n_rows, n_cols, seq_q, x2.stride(0), y2.stride(0),
                mask.stride(0), mask.stride(1), SCALE, ROWS=rows, BLOCK_N=block_n, num_warps=num_warps)
        else:
            _mask_softmax_looped[(n_rows,)](
                x2, mask, y2, n_cols, seq_q, x2.stride(0), y2.stride(0),
                mask.stride(0), mask.stride(1), SCALE, BLOCK_N=LOOP_BLOCK, num_warps=8)
        return y
