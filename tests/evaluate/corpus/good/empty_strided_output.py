# problem: scale_t
# unusual: the output is a transposed layout allocated with torch.empty_strided
# expect: ok
import torch
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2.0, mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        rows, cols = x.shape
        # out[c, r] = 2 * x[r, c], stored at r * cols + c: the same order as x
        out = torch.empty_strided((cols, rows), (1, cols), device=x.device, dtype=x.dtype)
        scale_kernel[(triton.cdiv(x.numel(), 128),)](x, out, x.numel(), BLOCK=128)
        return out
