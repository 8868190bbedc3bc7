"""Curated kernel: LayerNorm over the last dimension with weight and bias, one Triton launch.

Subgraph: v0 = aten.native_layer_norm(in0, [N], in1, in2, 1e-05); v1 = v0[0]
Inputs in reference order: in0 [..., N] (suite: float32 [32, 512, 4096], level1/09),
in1 weight [N], in2 bias [N]. Only the normalised output is returned (mean/rstd are unused).

Why it is faster than eager: each row (up to 16384 elements) is loaded once into registers and the
mean, the variance (two-pass, sum((x - mean)^2), which is exact for large-magnitude inputs where a
one-pass E[x^2] - E[x]^2 would cancel) and the output are all computed from registers, so HBM sees
one read and one write per element. Eager also writes the mean/rstd tensors the graph discards.
Weight and bias are loaded once per program and reused for the several rows that program
normalises, which keeps them out of the load path. Longer rows use a chunked three-pass fallback.
"""
import torch
import triton
import triton.language as tl

EPS = 1e-05           # the reference's eps
MAX_RESIDENT = 16384  # longest row kept in registers (row, weight and bias are all resident)
LOOP_BLOCK = 4096     # chunk length of the fallback for longer rows


@triton.jit
def _layer_norm_resident(x_ptr, w_ptr, b_ptr, y_ptr, n_rows, n_cols, eps,
                         ROWS: tl.constexpr, BLOCK_N: tl.constexpr, ITERS: tl.constexpr):
    cols = tl.arange(0, BLOCK_N)[None, :]
    col_ok = cols < n_cols
    w = tl.load(w_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)  # [1, BLOCK_N]
    b = tl.load(b_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)
    for it in range(ITERS):
        rows = (tl.program_id(0) * ITERS + it) * ROWS + tl.arange(0, ROWS)[:, None]
        mask = (rows < n_rows) & col_ok
        offs = rows.to(tl.int64) * n_cols + cols
        x = tl.load(x_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
        mean = tl.sum(x, axis=1) / n_cols
        d = tl.where(mask, x - mean[:, None], 0.0)
        var = tl.sum(d * d, axis=1) / n_cols
        rstd = tl.rsqrt(var + eps)
        y = d * rstd[:, None] * w + b
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _layer_norm_looped(x_ptr, w_ptr, b_ptr, y_ptr, n_cols, eps, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * n_cols
    y_row = y_ptr + row * n_cols
    cols = tl.arange(0, BLOCK_N)
    acc = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        acc += tl.load(x_row + c, mask=c < n_cols, other=0.0, eviction_policy="evict_last").to(tl.float32)
    mean = tl.sum(acc, axis=0) / n_cols
    acc = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        x = tl.load(x_row + c, mask=c < n_cols, other=0.0, eviction_policy="evict_last").to(tl.float32)
        d = tl.where(c < n_cols, x - mean, 0.0)
        acc += d * d
    rstd = tl.rsqrt(tl.sum(acc, axis=0) / n_cols + eps)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        x = tl.load(x_row + c, mask=ok, other=0.0, eviction_policy="evict_first").to(tl.float32)
        w = tl.load(w_ptr + c, mask=ok, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + c, mask=ok, other=0.0).to(tl.float32)
        tl.store(y_row + c, ((x - mean) * rstd * w + b).to(y_ptr.dtype.element_ty), mask=ok)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        w = in1 if in1.is_contiguous() else in1.contiguous()
        b = in2 if in2.is_contiguous() else in2.contiguous()
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        n_cols = x.shape[-1]
        if x.numel() == 0:
            return y
        n_rows = x.numel() // n_cols
        if n_cols <= MAX_RESIDENT:
            block_n = triton.next_power_of_2(n_cols)
            rows = max(1, 2048 // block_n)                       # >= 2048 elements per tile
            num_warps = min(32, max(4, rows * block_n // 512))   # ~16 fp32 values per thread
            n_blocks = triton.cdiv(n_rows, rows)
            iters = max(1, min(4, n_blocks // 2048))             # rows per program share w, b
            _layer_norm_resident[(triton.cdiv(n_blocks, iters),)](
                x, w, b, y, n_rows, n_cols, EPS,
                ROWS=rows, BLOCK_N=block_n, ITERS=iters, num_warps=num_warps)
        else:
            _layer_norm_looped[(n_rows,)](x, w, b, y, n_cols, EPS, BLOCK_N=LOOP_BLOCK, num_warps=8)
        return y
