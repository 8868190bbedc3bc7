"""softmax(x * 0.125) over the last dimension in float16, computed in float32 in one pass."""
import torch
import triton
import triton.language as tl


@triton.jit
def scale_softmax_rows(x_ptr, out_ptr, n_cols, scale, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    # the reference rounds x * scale to float16 before the softmax; 0.125 is exact either way
    s = (x * scale).to(tl.float32)
    s = tl.where(mask, s, -float("inf"))
    e = tl.exp(s - tl.max(s, axis=0))
    e = tl.where(mask, e, 0.0)
    y = e / tl.sum(e, axis=0)
    tl.store(out_ptr + row * n_cols + cols, y.to(tl.float16), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        n_cols = x.shape[-1]
        rows = x.numel() // n_cols
        out = torch.empty_like(x)
        block = triton.next_power_of_2(n_cols)
        scale_softmax_rows[(rows,)](x, out, n_cols, 0.125, BLOCK=block, num_warps=4 if block <= 2048 else 8)
        return out
