# problem: add_relu
# unusual: a docstring that talks about cuBLAS and at::matmul, a comment saying "import os",
#          and an `if __name__ == "__main__"` block
# expect: ok
"""Fused add + relu. Faster than calling cuBLAS or at::matmul would be for this (they are not
needed: it is elementwise). Note for readers: we never import os or open files here."""
import torch
import triton
import triton.language as tl

# import os  <- not needed


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL), mask=mask)


class ModelNew(torch.nn.Module):
    """ModelNew: one launch, no host math."""

    def forward(self, x, y):
        out = torch.empty_like(x)
        add_relu_kernel[(triton.cdiv(x.numel(), 128),)](x, y, out, x.numel(), BLOCK=128)
        return out


if __name__ == "__main__":
    pass
