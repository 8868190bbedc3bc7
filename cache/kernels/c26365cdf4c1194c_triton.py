"""Curated kernel: softmax over the last dimension, one Triton launch.

Subgraph: v0 = aten._softmax(in0, -1, False)
Inputs in reference order: in0 [..., N] (float32 or float16; the output has the input's dtype).
Suite shapes: float32 [256, 32768] (level1/07) and float16 [1024, 8192] (level1/22).

Why it is faster than eager: for rows up to 32768 elements the whole row (upcast to fp32) stays
in registers, so the input is read from HBM exactly once and the output written once, and exp()
is evaluated once per element (eager's block softmax reads the row for the max, again for the sum
and again for the write, recomputing exp). Short rows are packed several to a program so every
launch moves a few KB of contiguous data. Rows longer than 32768 fall back to an online
(running max / rescaled sum) pass plus a write pass, i.e. two reads instead of three.
Accumulation is fp32 for fp16 inputs; the row max is subtracted before exp, as eager does.
"""
import torch
import triton
import triton.language as tl

MAX_RESIDENT = 32768  # longest row (in elements) kept in registers
LOOP_BLOCK = 4096     # chunk length of the two-pass fallback for longer rows


@triton.jit
def _softmax_resident(x_ptr, y_ptr, n_rows, n_cols, x_stride, y_stride,
                      ROWS: tl.constexpr, BLOCK_N: tl.constexpr):
    # one [ROWS, BLOCK_N] tile = ROWS whole rows; one HBM read, one HBM write
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK_N)
    mask = (rows < n_rows)[:, None] & (cols < n_cols)[None, :]
    rows64 = rows.to(tl.int64)
    x = tl.load(x_ptr + rows64[:, None] * x_stride + cols[None, :], mask=mask,
                other=-float("inf"), eviction_policy="evict_first").to(tl.float32)
    row_max = tl.max(x, axis=1)
    e = tl.exp(x - row_max[:, None])  # padded lanes: exp(-inf) = 0
    inv = 1.0 / tl.sum(e, axis=1)
    y = e * inv[:, None]
    tl.store(y_ptr + rows64[:, None] * y_stride + cols[None, :], y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _softmax_looped(x_ptr, y_ptr, n_cols, x_stride, y_stride, BLOCK_N: tl.constexpr):
    # pass 1: per-lane running max and rescaled sum (online softmax); pass 2: normalise + write
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_stride
    y_row = y_ptr + row * y_stride
    cols = tl.arange(0, BLOCK_N)
    m_vec = tl.full([BLOCK_N], -float("inf"), tl.float32)
    s_vec = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        x = tl.load(x_row + c, mask=c < n_cols, other=-float("inf"), eviction_policy="evict_last").to(tl.float32)
        m_new = tl.maximum(m_vec, x)
        seen = m_new > -float("inf")  # lanes that have seen only -inf contribute nothing yet
        s_vec = tl.where(seen, s_vec * tl.exp(m_vec - m_new) + tl.exp(x - m_new), 0.0)
        m_vec = m_new
    row_max = tl.max(m_vec, axis=0)
    # lanes with m_vec = -inf have s_vec = 0; exp(-inf - row_max) = 0 for a finite row_max
    total = tl.sum(tl.where(m_vec > -float("inf"), s_vec * tl.exp(m_vec - row_max), 0.0), axis=0)
    # an all -inf row gives row_max = -inf and NaN below, exactly like eager
    inv = 1.0 / total
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        x = tl.load(x_row + c, mask=c < n_cols, other=-float("inf"), eviction_policy="evict_first").to(tl.float32)
        y = tl.exp(x - row_max) * inv
        tl.store(y_row + c, y.to(y_ptr.dtype.element_ty), mask=c < n_cols)


def _launch_softmax(x2, y2):
    n_rows, n_cols = x2.shape
    if n_cols <= MAX_RESIDENT:
        block_n = triton.next_power_of_2(n_cols)
        rows = max(1, 4096 // block_n)          # pack short rows: >= 4096 elements per program
        num_warps = min(16, max(4, rows * block_n // 1024))  # ~32-64 fp32 values per thread
        _softmax_resident[(triton.cdiv(n_rows, rows),)](
            x2, y2, n_rows, n_cols, x2.stride(0), y2.stride(0),
            ROWS=rows, BLOCK_N=block_n, num_warps=num_warps)
    else:
        _softmax_looped[(n_rows,)](x2, y2, n_cols, x2.stride(0), y2.stride(0),
                                   BLOCK_N=LOOP_BLOCK, num_warps=8)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        if x.numel() == 0:
            return y
        n_cols = x.shape[-1] if x.dim() > 0 else 1
        _launch_softmax(x.view(-1, n_cols), y.view(-1, n_cols))
        return y
