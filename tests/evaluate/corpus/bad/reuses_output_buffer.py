# problem: add_relu
# bug: writes every result into one buffer allocated in __init__, so a caller's earlier output
#      changes under it on the next call
# expect: verify
# reason: same memory on two calls
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
    def __init__(self):
        super().__init__()
        self.out = torch.empty(4, 100)

    def forward(self, x, y):
        add_relu_kernel[(triton.cdiv(x.numel(), 128),)](x, y, self.out, x.numel(), BLOCK=128)
        return self.out
