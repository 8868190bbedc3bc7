# problem: scale_t
# bug: right values, but a contiguous (100, 4) output where the reference returns a transposed
#      view with strides (1, 100)
# expect: verify
# reason: strides \(4, 1\), expected \(1, 100\)
import torch
import triton
import triton.language as tl


@triton.jit
def scale_t_kernel(x_ptr, out_ptr, rows, cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < rows * cols
    r, c = offs // cols, offs % cols
    tl.store(out_ptr + c * rows + r, tl.load(x_ptr + offs, mask=mask) * 2.0, mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        rows, cols = x.shape
        out = torch.empty((cols, rows), device=x.device, dtype=x.dtype)
        scale_t_kernel[(triton.cdiv(x.numel(), 128),)](x, out, rows, cols, BLOCK=128)
        return out
