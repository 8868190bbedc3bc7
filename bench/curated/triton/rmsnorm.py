"""Curated kernel: RMSNorm over the last dimension with a weight, one Triton launch.

Subgraph (level1/10_rmsnorm):
    v0 = pow(in0, 2); v1 = mean(v0, [-1], keepdim); v2 = v1 + 1e-06; v3 = rsqrt(v2)
    v4 = in0 * v3; v5 = v4 * in1
Inputs in reference order: in0 [..., N] (suite: float32 [32, 512, 4096]), in1 weight [N].

Why it is faster than eager: eager runs six kernels and materialises x^2, x * rstd and the final
product as full-size tensors (about four reads and three writes of the activation). Here each
program loads whole rows once into registers, reduces sum(x^2) in fp32, and writes
(x * rstd) * w once: one read and one write per element. For fp16/bf16 activations every
intermediate of the op chain is rounded to that dtype exactly as eager does (no-ops for fp32). The weight is loaded once per program
and reused for every row that program normalises. Rows longer than 16384 use a two-pass fallback.
"""
import torch
import triton
import triton.language as tl

EPS = 1e-06           # the reference's additive constant
MAX_RESIDENT = 16384  # longest row kept in registers
LOOP_BLOCK = 4096     # chunk length of the fallback for longer rows


@triton.jit
def _rms_norm_resident(x_ptr, w_ptr, y_ptr, n_rows, n_cols, eps,
                       ROWS: tl.constexpr, BLOCK_N: tl.constexpr, ITERS: tl.constexpr):
    DT: tl.constexpr = x_ptr.dtype.element_ty
    cols = tl.arange(0, BLOCK_N)[None, :]
    col_ok = cols < n_cols
    w = tl.load(w_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)  # [1, BLOCK_N]
    for it in range(ITERS):
        rows = (tl.program_id(0) * ITERS + it) * ROWS + tl.arange(0, ROWS)[:, None]
        mask = (rows < n_rows) & col_ok
        offs = rows.to(tl.int64) * n_cols + cols
        x = tl.load(x_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
        # every intermediate is rounded to the activation dtype DT like the eager op chain
        # (the casts vanish for fp32); sums are accumulated in fp32
        sq = (x * x).to(DT).to(tl.float32)
        mean_sq = (tl.sum(sq, axis=1) / n_cols).to(DT).to(tl.float32)
        rstd = tl.rsqrt((mean_sq + eps).to(DT).to(tl.float32)).to(DT).to(tl.float32)
        y = (x * rstd[:, None]).to(DT).to(tl.float32) * w
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rms_norm_looped(x_ptr, w_ptr, y_ptr, n_cols, eps, BLOCK_N: tl.constexpr):
    DT: tl.constexpr = x_ptr.dtype.element_ty
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * n_cols
    y_row = y_ptr + row * n_cols
    cols = tl.arange(0, BLOCK_N)
    acc = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        x = tl.load(x_row + c, mask=c < n_cols, other=0.0, eviction_policy="evict_last").to(tl.float32)
        acc += (x * x).to(DT).to(tl.float32)
    mean_sq = (tl.sum(acc, axis=0) / n_cols).to(DT).to(tl.float32)
    rstd = tl.rsqrt((mean_sq + eps).to(DT).to(tl.float32)).to(DT).to(tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        x = tl.load(x_row + c, mask=ok, other=0.0, eviction_policy="evict_first").to(tl.float32)
        w = tl.load(w_ptr + c, mask=ok, other=0.0).to(tl.float32)
        y = (x * rstd).to(DT).to(tl.float32) * w
        tl.store(y_row + c, y.to(y_ptr.dtype.element_ty), mask=ok)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        w = in1 if in1.is_contiguous() else in1.contiguous()
        # v5 = v4 * in1 follows type promotion (fp16 activations with an fp32 weight give fp32)
        y = torch.empty(x.shape, dtype=torch.promote_types(x.dtype, w.dtype), device=x.device)
        if x.numel() == 0:
            return y
        n_cols = x.shape[-1]
        n_rows = x.numel() // n_cols
        if n_cols <= MAX_RESIDENT:
            block_n = triton.next_power_of_2(n_cols)
            rows = max(1, 2048 // block_n)                       # >= 2048 elements per tile
            num_warps = min(32, max(4, rows * block_n // 512))   # ~16 fp32 values per thread
            n_blocks = triton.cdiv(n_rows, rows)
            iters = max(1, min(4, n_blocks // 2048))             # rows per program share w
            _rms_norm_resident[(triton.cdiv(n_blocks, iters),)](
                x, w, y, n_rows, n_cols, EPS,
                ROWS=rows, BLOCK_N=block_n, ITERS=iters, num_warps=num_warps)
        else:
            _rms_norm_looped[(n_rows,)](x, w, y, n_cols, EPS, BLOCK_N=LOOP_BLOCK, num_warps=8)
        return y
