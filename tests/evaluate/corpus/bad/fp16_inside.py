# problem: add_relu
# bug: rounds through fp16 inside the kernel (about 1e-3 relative error, too much for fp32)
# expect: verify
# reason: outside atol=0\.0001 rtol=0\.0001
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask).to(tl.float16) + tl.load(y_ptr + offs, mask=mask).to(tl.float16)
    tl.store(out_ptr + offs, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL).to(tl.float32), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        add_relu_kernel[(triton.cdiv(x.numel(), 128),)](x, y, out, x.numel(), BLOCK=128)
        return out
