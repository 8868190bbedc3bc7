"""Curated kernel: sum over the middle dimension of a 3-D tensor, keepdim.

Subgraph (level1/11_sum_middle_dim): v0 = aten.sum.dim_IntList(in0, [1], True)
Inputs in reference order: in0 [A, R, C] (suite: float32 [128, 2048, 512]) -> [A, 1, C].

Why it is faster than eager: this is a pure streaming reduction (512 MB in, 256 KB out), so the
only thing that matters is keeping HBM busy. Each program owns a [BLOCK_C]-wide column strip of
one slab a and walks down the R rows with a [BLOCK_R, BLOCK_C] register tile (every load is a
set of contiguous row segments, BLOCK_R rows in flight per iteration), accumulating in fp32 and
reducing the tile once at the end: the input is read exactly once, with no atomics and no
intermediate tensor. Strip width is chosen so there are ~1000+ programs (64 columns, i.e. 1024
programs at the suite shape). When A * C is too small to fill the GPU the R axis is split across
programs and a tiny second kernel adds the partial sums (deterministic, no atomics).
"""
import torch
import triton
import triton.language as tl

TARGET_PROGRAMS = 1024  # enough independent strips to fill 132 SMs several times over


@triton.jit
def _sum_mid_partial(x_ptr, out_ptr, R, C, rows_per_split, stride_a, stride_r, stride_c,
                     out_stride_a, out_stride_s,
                     BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    n_cblk = tl.cdiv(C, BLOCK_C)
    pid_a = tl.program_id(0) // n_cblk  # column strips of one slab are adjacent in launch order
    pid_c = tl.program_id(0) % n_cblk
    pid_s = tl.program_id(1)
    cols = pid_c * BLOCK_C + tl.arange(0, BLOCK_C)
    col_ok = cols < C
    r_lo = pid_s * rows_per_split
    r_hi = tl.minimum(r_lo + rows_per_split, R)
    base = x_ptr + pid_a.to(tl.int64) * stride_a + cols[None, :] * stride_c
    acc = tl.zeros([BLOCK_R, BLOCK_C], tl.float32)
    for r0 in range(r_lo, r_hi, BLOCK_R):
        r = r0 + tl.arange(0, BLOCK_R)
        mask = (r < r_hi)[:, None] & col_ok[None, :]
        acc += tl.load(base + r.to(tl.int64)[:, None] * stride_r, mask=mask, other=0.0,
                       eviction_policy="evict_first").to(tl.float32)
    total = tl.sum(acc, axis=0)
    out = out_ptr + pid_a.to(tl.int64) * out_stride_a + pid_s * out_stride_s + cols
    tl.store(out, total.to(out_ptr.dtype.element_ty), mask=col_ok)


@triton.jit
def _sum_splits(p_ptr, out_ptr, n_splits, C, total, BLOCK: tl.constexpr):
    # p is [A, S, C] fp32 partial sums; out is [A, 1, C]
    idx = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = idx < total
    a = idx // C
    c = idx % C
    base = p_ptr + a.to(tl.int64) * n_splits * C + c
    acc = tl.zeros([BLOCK], tl.float32)
    for s in range(0, n_splits):
        acc += tl.load(base + s * C, mask=ok, other=0.0)
    tl.store(out_ptr + idx, acc.to(out_ptr.dtype.element_ty), mask=ok)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0):
        A, R, C = in0.shape
        out = torch.empty((A, 1, C), dtype=in0.dtype, device=in0.device)
        if out.numel() == 0:
            return out
        block_c = min(triton.next_power_of_2(C), 256)
        while block_c > 32 and A * triton.cdiv(C, block_c) < TARGET_PROGRAMS:
            block_c //= 2
        block_r = max(1, min(2048 // block_c, triton.next_power_of_2(max(R, 1))))
        strips = A * triton.cdiv(C, block_c)
        splits = 1
        if strips < TARGET_PROGRAMS // 2 and R >= 8 * block_r:
            splits = min(triton.cdiv(TARGET_PROGRAMS, strips), triton.cdiv(R, 4 * block_r))
        rows_per_split = triton.cdiv(max(R, 1), splits)
        rows_per_split = triton.cdiv(rows_per_split, block_r) * block_r
        splits = triton.cdiv(max(R, 1), rows_per_split)
        sa, sr, sc = in0.stride()
        grid = (A * triton.cdiv(C, block_c), splits)
        if splits == 1:
            _sum_mid_partial[grid](in0, out, R, C, rows_per_split, sa, sr, sc, C, 0,
                                   BLOCK_R=block_r, BLOCK_C=block_c, num_warps=4)
        else:
            part = torch.empty((A, splits, C), dtype=torch.float32, device=in0.device)
            _sum_mid_partial[grid](in0, part, R, C, rows_per_split, sa, sr, sc, splits * C, C,
                                   BLOCK_R=block_r, BLOCK_C=block_c, num_warps=4)
            _sum_splits[(triton.cdiv(A * C, 1024),)](part, out, splits, C, A * C, BLOCK=1024, num_warps=4)
        return out
