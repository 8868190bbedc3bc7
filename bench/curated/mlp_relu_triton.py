"""Curated kernel: two linear layers with a ReLU between them, fused into one Triton launch.

Subgraph (AOTAutograd inference graph of Linear -> ReLU -> Linear):
    v1 = addmm(b1, x, w1.T); v2 = relu(v1); v4 = addmm(b2, v2, w2.T)
Inputs in reference order: w1 [H, D], b1 [H], x [M, D], w2 [O, H], b2 [O].
Each program owns BLOCK_M rows of x and keeps the hidden activations in registers, so the
hidden layer never goes to memory and the three eager launches become one.
"""
import torch
import triton
import triton.language as tl


@triton.jit
def _mlp_relu(x_ptr, w1_ptr, b1_ptr, w2_ptr, b2_ptr, y_ptr, M,
              D: tl.constexpr, H: tl.constexpr, O: tl.constexpr, BLOCK_M: tl.constexpr):
    pid = tl.program_id(0)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < M
    d = tl.arange(0, D)
    h = tl.arange(0, H)
    o = tl.arange(0, O)
    x = tl.load(x_ptr + rows[:, None] * D + d[None, :], mask=row_ok[:, None], other=0.0)
    w1t = tl.load(w1_ptr + h[None, :] * D + d[:, None])  # [D, H] view of w1 [H, D]
    hidden = tl.dot(x, w1t, input_precision="ieee") + tl.load(b1_ptr + h)[None, :]
    hidden = tl.where(hidden < 0.0, 0.0, hidden)  # NaN stays NaN, as in eager's relu
    w2t = tl.load(w2_ptr + o[None, :] * H + h[:, None])  # [H, O] view of w2 [O, H]
    y = tl.dot(hidden, w2t, input_precision="ieee") + tl.load(b2_ptr + o)[None, :]
    tl.store(y_ptr + rows[:, None] * O + o[None, :], y, mask=row_ok[:, None])


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, w1, b1, x, w2, b2):
        m, d = x.shape
        hid, out_dim = w1.shape[0], w2.shape[0]
        x, w1, w2 = x.contiguous(), w1.contiguous(), w2.contiguous()
        y = torch.empty((m, out_dim), dtype=x.dtype, device=x.device)
        block_m = 16
        _mlp_relu[(triton.cdiv(m, block_m),)](x, w1, b1, w2, b2, y, m, D=d, H=hid, O=out_dim, BLOCK_M=block_m)
        return y
