"""Curated kernel: residual add followed by LayerNorm (weight and bias), one Triton launch.

Subgraph (level2/04_residual_add_layernorm):
    v0 = aten.add.Tensor(in0, in1); v1 = aten.native_layer_norm(v0, [N], in2, in3, 1e-05); v2 = v1[0]
Inputs in reference order: in0 [..., N], in1 [..., N] (suite: float32 [16, 512, 2048]),
in2 weight [N], in3 bias [N]. Only the normalised output is returned.

Why it is faster than eager: eager writes the sum v0 to HBM and the layer norm reads it back (plus
mean/rstd outputs nobody uses). Here each program loads whole rows of both inputs once, adds them
in registers and normalises from registers (two-pass mean / variance, robust for large-magnitude
inputs), so HBM traffic is two reads and one write per element instead of three reads and two
writes. Weight and bias are loaded once per program and reused for all rows it normalises.
Rows longer than 16384 use a chunked three-pass fallback.
"""
import torch
import triton
import triton.language as tl

EPS = 1e-05           # the reference's eps
MAX_RESIDENT = 16384  # longest row kept in registers
LOOP_BLOCK = 4096     # chunk length of the fallback for longer rows


@triton.jit
def _add_layer_norm_resident(a_ptr, r_ptr, w_ptr, b_ptr, y_ptr, n_rows, n_cols, eps,
                             ROWS: tl.constexpr, BLOCK_N: tl.constexpr, ITERS: tl.constexpr):
    cols = tl.arange(0, BLOCK_N)[None, :]
    col_ok = cols < n_cols
    w = tl.load(w_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)  # [1, BLOCK_N]
    b = tl.load(b_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)
    for it in range(ITERS):
        rows = (tl.program_id(0) * ITERS + it) * ROWS + tl.arange(0, ROWS)[:, None]
        mask = (rows < n_rows) & col_ok
        offs = rows.to(tl.int64) * n_cols + cols
        a = tl.load(a_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first")
        r = tl.load(r_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first")
        # v0 = in0 + in1 in the input dtype (exact for fp32), then fp32 statistics
        x = (a + r).to(tl.float32)
        mean = tl.sum(x, axis=1) / n_cols
        d = tl.where(mask, x - mean[:, None], 0.0)
        var = tl.sum(d * d, axis=1) / n_cols
        rstd = tl.rsqrt(var + eps)
        y = d * rstd[:, None] * w + b
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _add_layer_norm_looped(a_ptr, r_ptr, w_ptr, b_ptr, y_ptr, n_cols, eps, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    a_row = a_ptr + row * n_cols
    r_row = r_ptr + row * n_cols
    y_row = y_ptr + row * n_cols
    cols = tl.arange(0, BLOCK_N)
    acc = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        a = tl.load(a_row + c, mask=ok, other=0.0, eviction_policy="evict_last")
        r = tl.load(r_row + c, mask=ok, other=0.0, eviction_policy="evict_last")
        acc += (a + r).to(tl.float32)
    mean = tl.sum(acc, axis=0) / n_cols
    acc = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        a = tl.load(a_row + c, mask=ok, other=0.0, eviction_policy="evict_last")
        r = tl.load(r_row + c, mask=ok, other=0.0, eviction_policy="evict_last")
        d = tl.where(ok, (a + r).to(tl.float32) - mean, 0.0)
        acc += d * d
    rstd = tl.rsqrt(tl.sum(acc, axis=0) / n_cols + eps)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        a = tl.load(a_row + c, mask=ok, other=0.0, eviction_policy="evict_first")
        r = tl.load(r_row + c, mask=ok, other=0.0, eviction_policy="evict_first")
        w = tl.load(w_ptr + c, mask=ok, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + c, mask=ok, other=0.0).to(tl.float32)
        y = ((a + r).to(tl.float32) - mean) * rstd * w + b
        tl.store(y_row + c, y.to(y_ptr.dtype.element_ty), mask=ok)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2, in3):
        a = in0 if in0.is_contiguous() else in0.contiguous()
        r = in1 if in1.is_contiguous() else in1.contiguous()
        w = in2 if in2.is_contiguous() else in2.contiguous()
        b = in3 if in3.is_contiguous() else in3.contiguous()
        y = torch.empty(a.shape, dtype=a.dtype, device=a.device)
        if a.numel() == 0:
            return y
        n_cols = a.shape[-1]
        n_rows = a.numel() // n_cols
        if n_cols <= MAX_RESIDENT:
            block_n = triton.next_power_of_2(n_cols)
            rows = max(1, 2048 // block_n)                       # >= 2048 elements per tile
            num_warps = min(32, max(4, rows * block_n // 512))   # ~16 fp32 values per thread
            n_blocks = triton.cdiv(n_rows, rows)
            iters = max(1, min(4, n_blocks // 2048))             # rows per program share w, b
            _add_layer_norm_resident[(triton.cdiv(n_blocks, iters),)](
                a, r, w, b, y, n_rows, n_cols, EPS,
                ROWS=rows, BLOCK_N=block_n, ITERS=iters, num_warps=num_warps)
        else:
            _add_layer_norm_looped[(n_rows,)](a, r, w, b, y, n_cols, EPS, BLOCK_N=LOOP_BLOCK, num_warps=8)
        return y
