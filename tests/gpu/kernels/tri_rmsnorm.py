"""RMSNorm: x * rsqrt(mean(x^2, -1) + 1e-6) * weight, one program per row."""
import torch
import triton
import triton.language as tl


@triton.jit
def rmsnorm_rows(x_ptr, w_ptr, out_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
    r = tl.rsqrt(tl.sum(x * x, axis=0) / n_cols + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + row * n_cols + cols, (x * r * w).to(out_ptr.dtype.element_ty), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, weight):
        n_cols = x.shape[-1]
        rows = x.numel() // n_cols
        out = torch.empty_like(x)
        block = triton.next_power_of_2(n_cols)
        rmsnorm_rows[(rows,)](x, weight, out, n_cols, 1e-6, BLOCK=block, num_warps=4 if block <= 2048 else 8)
        return out
