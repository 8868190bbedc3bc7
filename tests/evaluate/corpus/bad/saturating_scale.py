# problem: scale_t
# bug: clamps to the largest finite float32 "to avoid overflow", so +-inf come out finite; right on every finite input
# expect: verify
# reason: NaN, \+inf and -inf planted.*Inf at different places or with the wrong sign: \d+ of 400 elements differ.*expected (-)?inf
import torch
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask) * 2.0
    v = tl.minimum(tl.maximum(v, -3.4e38, propagate_nan=tl.PropagateNan.ALL), 3.4e38, propagate_nan=tl.PropagateNan.ALL)
    tl.store(out_ptr + offs, v, mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        rows, cols = x.shape
        out = torch.empty_strided((cols, rows), (1, cols), device=x.device, dtype=x.dtype)
        scale_kernel[(triton.cdiv(x.numel(), 128),)](x, out, x.numel(), BLOCK=128)
        return out
