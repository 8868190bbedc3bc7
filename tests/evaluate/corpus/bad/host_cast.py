# problem: add_relu
# bug: converts the inputs to fp16 on the host (a cast is arithmetic; it also loses precision)
# expect: guard
# reason: converts torch\.float32 to torch\.float16
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
        xh, yh = x.to(torch.float16), y.to(torch.float16)
        out = torch.empty_like(xh)
        add_relu_kernel[(triton.cdiv(x.numel(), 128),)](xh, yh, out, x.numel(), BLOCK=128)
        return out.to(torch.float32)
