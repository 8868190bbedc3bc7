# problem: add_relu
# bug: hard-codes the shape of an example it saw, (4, 64), instead of reading the inputs'
# expect: verify
# reason: differs from eager
import torch
import triton
import triton.language as tl

N = 4 * 64


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        add_relu_kernel[(triton.cdiv(N, 128),)](x, y, out, N, BLOCK=128)
        return out
