"""Curated kernel: mean over the last dimension (no keepdim).

Subgraph (level1/12_mean_last_dim): v0 = aten.mean.dim(in0, [-1])
Inputs in reference order: in0 [..., N] (suite: float32 [128, 2048, 512]) -> [...].

Why it is faster than eager: a streaming row reduction (512 MB in, 1 MB out) that must run at
HBM bandwidth. Each program reduces a [ROWS, BLOCK_N] tile of whole rows (8 rows of 512 =
16 KB at the suite shape, fully contiguous, 16-byte vector loads) with an fp32 accumulator, so
every byte is read once and there is one launch with ~32K evenly sized programs. Rows longer
than 4096 elements are walked in 4096-wide chunks with a register accumulator (still one read).
fp16/bf16 inputs accumulate in fp32 and the result is written in the input dtype, as eager does.
"""
import torch
import triton
import triton.language as tl

MAX_BLOCK = 4096  # widest column chunk per iteration


@triton.jit
def _mean_rows(x_ptr, y_ptr, n_rows, n_cols, x_stride,
               ROWS: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < n_rows
    base = x_ptr + rows.to(tl.int64)[:, None] * x_stride
    cols = tl.arange(0, BLOCK_N)
    acc = tl.zeros([ROWS, BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        mask = row_ok[:, None] & (c < n_cols)[None, :]
        acc += tl.load(base + c[None, :], mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    mean = tl.sum(acc, axis=1) / n_cols  # an empty row gives 0 / 0 = NaN, as in eager
    tl.store(y_ptr + rows, mean.to(y_ptr.dtype.element_ty), mask=row_ok)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        n_cols = x.shape[-1]
        y = torch.empty(x.shape[:-1], dtype=x.dtype, device=x.device)
        n_rows = y.numel()
        if n_rows == 0:
            return y
        block_n = min(triton.next_power_of_2(max(n_cols, 1)), MAX_BLOCK)
        rows = max(1, MAX_BLOCK // block_n)      # >= 4096 elements per tile
        num_warps = 8 if rows * block_n >= 4096 else 4
        _mean_rows[(triton.cdiv(n_rows, rows),)](
            x.view(n_rows, n_cols), y, n_rows, n_cols, n_cols,
            ROWS=rows, BLOCK_N=block_n, num_warps=num_warps)
        return y
