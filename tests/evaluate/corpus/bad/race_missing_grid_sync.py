# problem: center
# bug: a race: each program publishes its partial sum and immediately reads everyone else's,
#      with no grid-wide barrier (on a GPU it depends on scheduling; the interpreter runs the
#      programs in order, so early programs always read partials not yet written)
# expect: verify
# reason: differs from eager
import torch
import triton
import triton.language as tl


@triton.jit
def center_kernel(x_ptr, partial_ptr, out_ptr, n, NUM_BLOCKS: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    tl.store(partial_ptr + pid, tl.sum(x, axis=0))
    total = tl.sum(tl.load(partial_ptr + tl.arange(0, NUM_BLOCKS)), axis=0)
    tl.store(out_ptr + offs, x - total / n, mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        partial = torch.zeros(4, device=x.device, dtype=torch.float32)
        center_kernel[(4,)](x, partial, out, x.numel(), NUM_BLOCKS=4, BLOCK=128)
        return out
