# problem: add_relu
# bug: computes in place into the first input and returns it (the output aliases an input)
# expect: verify
# reason: output 0 shares memory with input 0
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        add_relu_kernel[(triton.cdiv(x.numel(), 128),)](x, y, x, x.numel(), BLOCK=128)
        return x
