"""Curated kernel: 2x2 average pooling with stride 2 (no padding, floor mode), NCHW.

Subgraph (level1/20_avgpool2d): v0 = aten.avg_pool2d(in0, [2, 2], [2, 2])
Inputs in reference order: in0 [N, C, H, W] (suite: float32 [32, 256, 56, 56]) -> [N, C, H//2, W//2].

Why it is faster than eager: pooling is pure bandwidth (read 4 values, write 1). Flatten the
output to rows (n, c, oh), each of which needs two full input rows 2*oh and 2*oh+1. A program
loads a [ROWS, 2*BLOCK_OW] tile of each of those rows with contiguous 16-byte vector loads (every
input byte is read once and only once), splits the even/odd columns in registers (reshape +
split, no shared memory), and writes [ROWS, BLOCK_OW] outputs. Eager's kernel computes each
output with four scalar, stride-2 loads. The sum is formed in eager's order
((x00 + x01) + x10) + x11 and divided by 4, so results are bit-identical to eager.
"""
import torch
import triton
import triton.language as tl

KERNEL = 2  # the reference's kernel_size == stride, padding 0, ceil_mode False


@triton.jit
def _avg_pool_2x2(x_ptr, y_ptr, n_out_rows,
                  OH: tl.constexpr, OW: tl.constexpr, H: tl.constexpr, W: tl.constexpr,
                  ROWS: tl.constexpr, BLOCK_OW: tl.constexpr):
    # spatial sizes are compile-time constants: r // OH becomes a multiply-shift and the
    # compiler can prove 16-byte alignment of both input rows (e.g. W = 56) and vectorise
    plane_in: tl.constexpr = H * W
    plane_out: tl.constexpr = OH * OW
    r = tl.program_id(0) * ROWS + tl.arange(0, ROWS)   # output row index over (n, c, oh)
    row_ok = r < n_out_rows
    plane = r // OH
    oh = r % OH
    top = plane.to(tl.int64) * plane_in + (2 * oh) * W  # input row 2*oh of that plane
    ow0 = tl.program_id(1) * BLOCK_OW                   # first output column of this tile
    cols = 2 * ow0 + tl.arange(0, 2 * BLOCK_OW)         # its 2*BLOCK_OW input columns
    mask = row_ok[:, None] & (cols < 2 * OW)[None, :]   # an odd trailing column is dropped
    p = x_ptr + top[:, None] + cols[None, :]
    t = tl.load(p, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    b = tl.load(p + W, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    t0, t1 = tl.split(tl.reshape(t, (ROWS, BLOCK_OW, 2)))  # even / odd columns
    b0, b1 = tl.split(tl.reshape(b, (ROWS, BLOCK_OW, 2)))
    y = (((t0 + t1) + b0) + b1) / 4.0
    ow = ow0 + tl.arange(0, BLOCK_OW)
    out = y_ptr + (plane.to(tl.int64) * plane_out + oh * OW)[:, None] + ow[None, :]
    tl.store(out, y.to(y_ptr.dtype.element_ty), mask=row_ok[:, None] & (ow < OW)[None, :])


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        N, C, H, W = x.shape
        OH = (H - KERNEL) // KERNEL + 1 if H >= KERNEL else 0
        OW = (W - KERNEL) // KERNEL + 1 if W >= KERNEL else 0
        y = torch.empty((N, C, OH, OW), dtype=x.dtype, device=x.device)
        n_out_rows = N * C * OH
        if n_out_rows == 0 or OW == 0:
            return y
        block_ow = min(triton.next_power_of_2(OW), 1024)
        rows = max(1, 1024 // block_ow)  # 1024 outputs (4096 inputs) per program
        _avg_pool_2x2[(triton.cdiv(n_out_rows, rows), triton.cdiv(OW, block_ow))](
            x, y, n_out_rows, OH=OH, OW=OW, H=H, W=W,
            ROWS=rows, BLOCK_OW=block_ow, num_warps=4)
        return y
