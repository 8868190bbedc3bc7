"""gelu(x + bias) with the exact (erf) GELU; bias broadcasts over the last dimension."""
import torch
import triton
import triton.language as tl


@triton.jit
def bias_gelu(x_ptr, b_ptr, out_ptr, n, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + offs % n_cols, mask=mask, other=0.0).to(tl.float32)
    v = x + b
    y = 0.5 * v * (1.0 + tl.erf(v * 0.7071067811865476))
    tl.store(out_ptr + offs, y.to(out_ptr.dtype.element_ty), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, bias):
        out = torch.empty_like(x)
        n = x.numel()
        block = 1024
        bias_gelu[(triton.cdiv(n, block),)](x, bias, out, n, bias.numel(), BLOCK=block, num_warps=4)
        return out
