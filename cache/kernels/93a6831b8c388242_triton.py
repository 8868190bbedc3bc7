"""Curated kernel: scaled softmax over the last dimension (attention-score style), one launch.

Subgraph: v0 = aten.mul.Tensor(in0, 0.125); v1 = aten._softmax(v0, -1, False)
Inputs in reference order: in0 [..., N] (suite: float32 [16, 16, 512, 512], level2/06_scale_softmax).

Why it is faster than eager: eager writes the scaled scores to HBM and reads them back for the
softmax (and its softmax reads each row more than once). Here the scale is applied in registers
right after the load: each program owns several whole rows (8 rows of 512 at the suite shape,
16 KB), so the input is read once and the probabilities written once, exp() is evaluated once
per element, and there is no intermediate tensor. The product is rounded to the input dtype
before the softmax, exactly as the separate mul would; the row max is subtracted before exp.
Rows longer than 32768 fall back to an online-softmax pass plus a write pass.
"""
import torch
import triton
import triton.language as tl

SCALE = 0.125         # the constant of the reference's mul.Tensor
MAX_RESIDENT = 32768  # longest row (in elements) kept in registers
LOOP_BLOCK = 4096     # chunk length of the two-pass fallback for longer rows


@triton.jit
def _scale_softmax_resident(x_ptr, y_ptr, n_rows, n_cols, x_stride, y_stride, scale,
                            ROWS: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK_N)
    mask = (rows < n_rows)[:, None] & (cols < n_cols)[None, :]
    rows64 = rows.to(tl.int64)
    x = tl.load(x_ptr + rows64[:, None] * x_stride + cols[None, :], mask=mask,
                other=-float("inf"), eviction_policy="evict_first")
    # v0 = in0 * scale, rounded to the input dtype like the eager mul (a no-op for fp32)
    v = (x.to(tl.float32) * scale).to(x_ptr.dtype.element_ty).to(tl.float32)
    row_max = tl.max(v, axis=1)
    e = tl.exp(v - row_max[:, None])  # padded lanes: exp(-inf) = 0
    inv = 1.0 / tl.sum(e, axis=1)
    y = e * inv[:, None]
    tl.store(y_ptr + rows64[:, None] * y_stride + cols[None, :], y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _scale_softmax_looped(x_ptr, y_ptr, n_cols, x_stride, y_stride, scale, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_stride
    y_row = y_ptr + row * y_stride
    cols = tl.arange(0, BLOCK_N)
    m_vec = tl.full([BLOCK_N], -float("inf"), tl.float32)
    s_vec = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        x = tl.load(x_row + c, mask=c < n_cols, other=-float("inf"), eviction_policy="evict_last")
        v = (x.to(tl.float32) * scale).to(x_ptr.dtype.element_ty).to(tl.float32)
        m_new = tl.maximum(m_vec, v)
        seen = m_new > -float("inf")
        s_vec = tl.where(seen, s_vec * tl.exp(m_vec - m_new) + tl.exp(v - m_new), 0.0)
        m_vec = m_new
    row_max = tl.max(m_vec, axis=0)
    total = tl.sum(tl.where(m_vec > -float("inf"), s_vec * tl.exp(m_vec - row_max), 0.0), axis=0)
    inv = 1.0 / total
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        x = tl.load(x_row + c, mask=c < n_cols, other=-float("inf"), eviction_policy="evict_first")
        v = (x.to(tl.float32) * scale).to(x_ptr.dtype.element_ty).to(tl.float32)
        tl.store(y_row + c, (tl.exp(v - row_max) * inv).to(y_ptr.dtype.element_ty), mask=c < n_cols)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        if x.numel() == 0:
            return y
        n_cols = x.shape[-1] if x.dim() > 0 else 1
        x2, y2 = x.view(-1, n_cols), y.view(-1, n_cols)
        n_rows = x2.shape[0]
        if n_cols <= MAX_RESIDENT:
            block_n = triton.next_power_of_2(n_cols)
            rows = max(1, 4096 // block_n)  # suite: 8 rows of 512 per program
            num_warps = min(16, max(4, rows * block_n // 1024))
            _scale_softmax_resident[(triton.cdiv(n_rows, rows),)](
                x2, y2, n_rows, n_cols, x2.stride(0), y2.stride(0), SCALE,
                ROWS=rows, BLOCK_N=block_n, num_warps=num_warps)
        else:
            _scale_softmax_looped[(n_rows,)](x2, y2, n_cols, x2.stride(0), y2.stride(0), SCALE,
                                             BLOCK_N=LOOP_BLOCK, num_warps=8)
        return y
