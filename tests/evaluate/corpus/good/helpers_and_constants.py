# problem: add_relu
# unusual: module constants (ints, a tuple), helper functions for the grid and the launch
# expect: ok
import math

import torch
import triton
import triton.language as tl

BLOCK_SIZE = 64
NUM_WARPS = 4
SUPPORTED_DTYPES = (torch.float32, torch.float16)


def _grid(n: int) -> tuple[int]:
    return (math.ceil(n / BLOCK_SIZE),)


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL), mask=mask)


def _launch(x, y, out):
    assert x.dtype in SUPPORTED_DTYPES
    add_relu_kernel[_grid(out.numel())](x, y, out, out.numel(), BLOCK=BLOCK_SIZE, num_warps=NUM_WARPS)
    return out


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return _launch(x, y, torch.empty_like(x))
