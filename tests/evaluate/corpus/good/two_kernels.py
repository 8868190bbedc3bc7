# problem: add_relu
# unusual: two kernels and an intermediate buffer (sum, then relu)
# expect: ok
import torch
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0, propagate_nan=tl.PropagateNan.ALL), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        n = x.numel()
        tmp = torch.empty_like(x)
        out = torch.empty_like(x)
        grid = (triton.cdiv(n, 256),)
        add_kernel[grid](x, y, tmp, n, BLOCK=256)
        relu_kernel[grid](tmp, out, n, BLOCK=256)
        return out
