"""Curated kernel: inclusive prefix sum along the last dimension.

Subgraph (level1/21_cumsum): v0 = aten.cumsum(in0, -1)
Inputs in reference order: in0 [..., N] (suite: float32 [256, 32768]).

Why it is faster than eager: one program per row streams the row in BLOCK_N chunks (16384
elements = 64 KB at the suite shape, so two chunks per row), scans each chunk in registers with
tl.cumsum (a warp-shuffle / shared-memory tree scan) and adds the running total carried from the
previous chunk. Every element is read once and written once, with no partial-sum tensors and no
second pass, and each program keeps 64 KB of loads in flight.
Numerics: the scan and the carry run in fp64 and are rounded to the output dtype on store. A
32768-long fp32 prefix sum accumulated in fp32 drifts by ~1e-3 near its zero crossings (sequential
or chunked), which fails a 1e-4 comparison with a double-accumulated reference (PyTorch's CPU
cumsum accumulates float in double); fp64 arithmetic is nearly free here since the kernel is
bandwidth-bound, and it gives the correctly rounded result up to one fp32 ulp.
"""
import torch
import triton
import triton.language as tl

MAX_BLOCK = 16384  # longest chunk scanned at once (elements); 16 warps -> 32 fp64 values per thread


@triton.jit
def _cumsum_rows(x_ptr, y_ptr, n_cols, x_stride, y_stride, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_stride
    y_row = y_ptr + row * y_stride
    cols = tl.arange(0, BLOCK_N)
    carry = tl.zeros([1], tl.float64)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        x = tl.load(x_row + c, mask=ok, other=0.0, eviction_policy="evict_first").to(tl.float64)
        s = tl.cumsum(x, axis=0) + carry
        tl.store(y_row + c, s.to(y_ptr.dtype.element_ty), mask=ok)
        # masked lanes hold 0, so the last lane is the running total through this chunk (fp64)
        carry = tl.sum(tl.where(cols == BLOCK_N - 1, s, 0.0), axis=0, keep_dims=True)


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
        block_n = min(triton.next_power_of_2(n_cols), MAX_BLOCK)
        num_warps = min(16, max(4, block_n // 1024))
        _cumsum_rows[(x2.shape[0],)](x2, y2, n_cols, x2.stride(0), y2.stride(0),
                                     BLOCK_N=block_n, num_warps=num_warps)
        return y
