# problem: add_relu
# unusual: host views (.view, .reshape, .contiguous on contiguous input), an output made with
#          new_empty then zero_() before the kernel overwrites it, strides read on the host
# expect: ok
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_2d(x_ptr, y_ptr, out_ptr, rows, cols, stride_r, BLOCK: tl.constexpr):
    r = tl.program_id(0)
    c = tl.arange(0, BLOCK)
    mask = c < cols
    v = tl.load(x_ptr + r * stride_r + c, mask=mask) + tl.load(y_ptr + r * stride_r + c, mask=mask)
    tl.store(out_ptr + r * stride_r + c, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        x2 = x.contiguous().view(x.shape[0], -1)
        y2 = y.reshape(x2.shape)
        out = x2.new_empty(x2.shape)
        out.zero_()
        add_relu_2d[(x2.shape[0],)](x2, y2, out, x2.shape[0], x2.shape[1], x2.stride(0), BLOCK=triton.next_power_of_2(x2.shape[1]))
        return out.view(x.shape)
