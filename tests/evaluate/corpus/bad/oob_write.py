# problem: add_relu
# bug: no mask at all: the last program reads and writes 112 elements past the end of the
#      tensors (heap corruption in the interpreter, silent corruption or a fault on a GPU)
# expect: crash | verify
# reason: .
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    v = tl.load(x_ptr + offs) + tl.load(y_ptr + offs)
    tl.store(out_ptr + offs, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL))


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        add_relu_kernel[(triton.cdiv(x.numel(), 128),)](x, y, out, BLOCK=128)
        return out
