# problem: add_relu
# bug: relu as tl.maximum(v, 0.0), which returns 0 for NaN where eager's clamp keeps NaN; right on every finite input
# expect: verify
# reason: NaN, \+inf and -inf planted.*NaN at different places: \d+ of 400 elements differ.*first at index \(\d+, \d+\): got 0.0, expected nan.*propagate_nan
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.maximum(v, 0.0), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        add_relu_kernel[(triton.cdiv(x.numel(), 128),)](x, y, out, x.numel(), BLOCK=128)
        return out
