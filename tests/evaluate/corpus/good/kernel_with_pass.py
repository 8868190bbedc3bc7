# problem: add_relu
# unusual: `pass` statements in host code and a no-op branch, settings kept on self from __init__
# expect: ok
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.where(v < 0.0, 0.0, v), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.block = 128

    def forward(self, x, y):
        if not x.is_contiguous():
            pass  # inputs arrive contiguous for this graph
        out = torch.empty_like(x)
        add_relu_kernel[(triton.cdiv(x.numel(), self.block),)](x, y, out, x.numel(), BLOCK=self.block)
        return out
