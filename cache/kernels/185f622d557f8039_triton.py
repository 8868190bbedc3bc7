"""Curated kernel: residual add + RMSNorm returning both the sum and the normalised tensor.

Subgraph (level2/05_residual_add_rmsnorm):
    v0 = in0 + in1; v1 = pow(v0, 2); v2 = mean(v1, [-1], keepdim); v3 = v2 + 1e-06
    v4 = rsqrt(v3); v5 = v0 * v4; v6 = v5 * in2;  returns (v0, v6)
Inputs in reference order: in0 [..., N], in1 [..., N] (suite: float32 [16, 512, 4096]),
in2 weight [N].

Why it is faster than eager: eager runs seven kernels and materialises v0, v0^2, v5 and v6
(about six reads and four writes of the activation). Here each program loads whole rows of both
inputs once, forms the residual sum in registers, writes it (it is a graph output) and writes the
normalised row from the same registers: two reads and two writes per element, the minimum for
this subgraph. For fp16/bf16 activations every intermediate of the op chain is rounded to that
dtype exactly as eager does (no-ops for fp32). The weight is loaded once per program and reused
for all of its rows. Rows longer than 16384 use a two-pass fallback that re-reads the stored sum.
"""
import torch
import triton
import triton.language as tl

EPS = 1e-06           # the reference's additive constant
MAX_RESIDENT = 16384  # longest row kept in registers
LOOP_BLOCK = 4096     # chunk length of the fallback for longer rows


@triton.jit
def _add_rms_norm_resident(a_ptr, r_ptr, w_ptr, s_ptr, y_ptr, n_rows, n_cols, eps,
                           ROWS: tl.constexpr, BLOCK_N: tl.constexpr, ITERS: tl.constexpr):
    DT: tl.constexpr = s_ptr.dtype.element_ty
    cols = tl.arange(0, BLOCK_N)[None, :]
    col_ok = cols < n_cols
    w = tl.load(w_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)  # [1, BLOCK_N]
    for it in range(ITERS):
        rows = (tl.program_id(0) * ITERS + it) * ROWS + tl.arange(0, ROWS)[:, None]
        mask = (rows < n_rows) & col_ok
        offs = rows.to(tl.int64) * n_cols + cols
        a = tl.load(a_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first")
        r = tl.load(r_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first")
        s = a + r  # v0, in the input dtype
        tl.store(s_ptr + offs, s, mask=mask)
        x = s.to(tl.float32)
        # every intermediate is rounded to the activation dtype DT like the eager op chain
        # (the casts vanish for fp32); sums are accumulated in fp32
        sq = (x * x).to(DT).to(tl.float32)
        mean_sq = (tl.sum(sq, axis=1) / n_cols).to(DT).to(tl.float32)
        rstd = tl.rsqrt((mean_sq + eps).to(DT).to(tl.float32)).to(DT).to(tl.float32)
        y = (x * rstd[:, None]).to(DT).to(tl.float32) * w
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _add_rms_norm_looped(a_ptr, r_ptr, w_ptr, s_ptr, y_ptr, n_cols, eps, BLOCK_N: tl.constexpr):
    DT: tl.constexpr = s_ptr.dtype.element_ty
    row = tl.program_id(0).to(tl.int64)
    a_row = a_ptr + row * n_cols
    r_row = r_ptr + row * n_cols
    s_row = s_ptr + row * n_cols
    y_row = y_ptr + row * n_cols
    cols = tl.arange(0, BLOCK_N)
    acc = tl.zeros([BLOCK_N], tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        s = tl.load(a_row + c, mask=ok, other=0.0) + tl.load(r_row + c, mask=ok, other=0.0)
        tl.store(s_row + c, s, mask=ok)
        x = s.to(tl.float32)
        acc += (x * x).to(DT).to(tl.float32)
    mean_sq = (tl.sum(acc, axis=0) / n_cols).to(DT).to(tl.float32)
    rstd = tl.rsqrt((mean_sq + eps).to(DT).to(tl.float32)).to(DT).to(tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        c = start + cols
        ok = c < n_cols
        # this program wrote s_row above; same-thread ordering makes the re-read safe
        x = tl.load(s_row + c, mask=ok, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + c, mask=ok, other=0.0).to(tl.float32)
        y = (x * rstd).to(DT).to(tl.float32) * w
        tl.store(y_row + c, y.to(y_ptr.dtype.element_ty), mask=ok)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1, in2):
        a = in0 if in0.is_contiguous() else in0.contiguous()
        r = in1 if in1.is_contiguous() else in1.contiguous()
        w = in2 if in2.is_contiguous() else in2.contiguous()
        s = torch.empty(a.shape, dtype=torch.promote_types(a.dtype, r.dtype), device=a.device)
        y = torch.empty(a.shape, dtype=torch.promote_types(s.dtype, w.dtype), device=a.device)
        if a.numel() == 0:
            return s, y
        n_cols = a.shape[-1]
        n_rows = a.numel() // n_cols
        if n_cols <= MAX_RESIDENT:
            block_n = triton.next_power_of_2(n_cols)
            rows = max(1, 2048 // block_n)                       # >= 2048 elements per tile
            num_warps = min(32, max(4, rows * block_n // 512))   # ~16 fp32 values per thread
            n_blocks = triton.cdiv(n_rows, rows)
            iters = max(1, min(4, n_blocks // 2048))             # rows per program share w
            _add_rms_norm_resident[(triton.cdiv(n_blocks, iters),)](
                a, r, w, s, y, n_rows, n_cols, EPS,
                ROWS=rows, BLOCK_N=block_n, ITERS=iters, num_warps=num_warps)
        else:
            _add_rms_norm_looped[(n_rows,)](a, r, w, s, y, n_cols, EPS, BLOCK_N=LOOP_BLOCK, num_warps=8)
        return s, y
