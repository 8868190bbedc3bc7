# problem: center
# unusual: a zeroed accumulator (torch.zeros), atomic adds, then a second kernel
# expect: ok
import torch
import triton
import triton.language as tl


@triton.jit
def partial_sum_kernel(x_ptr, total_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    tl.atomic_add(total_ptr, tl.sum(x, axis=0))


@triton.jit
def subtract_kernel(x_ptr, total_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    mean = tl.load(total_ptr) / n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) - mean, mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        n = x.numel()
        total = torch.zeros(1, device=x.device, dtype=torch.float32)
        out = torch.empty_like(x)
        grid = (triton.cdiv(n, 128),)
        partial_sum_kernel[grid](x, total, n, BLOCK=128)
        subtract_kernel[grid](x, total, out, n, BLOCK=128)
        return out
