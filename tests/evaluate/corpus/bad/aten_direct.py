# problem: add_relu
# cheat: calls the aten op directly and launches a real kernel only for the relu half
# expect: static
# reason: `torch\.ops\.aten\.add\.Tensor` is not allowed
# unchecked-expect: guard
# unchecked-reason: aten\.add\.Tensor
import torch
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0, propagate_nan=tl.PropagateNan.ALL), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        s = torch.ops.aten.add.Tensor(x, y)
        out = torch.empty_like(x)
        relu_kernel[(triton.cdiv(s.numel(), 128),)](s, out, s.numel(), BLOCK=128)
        return out
