"""Curated kernel: bias add + tanh-approximate GELU (+ the clone of eval-mode dropout), one launch.

Subgraph (level2/08_bias_gelu_dropout_eval):
    v0 = aten.add.Tensor(in0, in1); v1 = aten.gelu(v0, approximate='tanh'); v2 = aten.clone(v1)
Inputs in reference order: in0 [..., N] (suite: float32 [16, 512, 4096]), in1 bias [N].

Why it is faster than eager: eager runs three full-size kernels (add, gelu, clone), i.e. three
reads and three writes of the activation. Here each program loads a [BLOCK_M, BLOCK_N] tile of
the activation once (16-byte vector loads) and its BLOCK_N bias values once for all BLOCK_M rows,
computes add + GELU in fp32 registers and writes the result once: one read and one write.
GELU-tanh is evaluated as x * sigmoid(2u) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3),
which is algebraically identical to 0.5 x (1 + tanh(u)), needs one exp, and saturates exactly
like eager for huge |x| (x for x -> +inf, -0 for x -> -inf).
"""
import torch
import triton
import triton.language as tl


@triton.jit
def _bias_gelu_tanh(x_ptr, b_ptr, y_ptr, n_rows, n_cols,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)[:, None]
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)[None, :]
    col_ok = cols < n_cols
    mask = (rows < n_rows) & col_ok
    offs = rows.to(tl.int64) * n_cols + cols
    x = tl.load(x_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first")
    b = tl.load(b_ptr + cols, mask=col_ok, other=0.0)
    v = (x + b).to(tl.float32)  # v0 in the promoted input dtype, then fp32 math
    u = 0.7978845608028654 * (v + 0.044715 * (v * v * v))  # sqrt(2/pi) (v + kappa v^3)
    y = v / (1.0 + tl.exp(-2.0 * u))  # 0.5 v (1 + tanh(u))
    tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, in0, in1):
        x = in0 if in0.is_contiguous() else in0.contiguous()
        b = in1 if in1.is_contiguous() else in1.contiguous()
        y = torch.empty(x.shape, dtype=torch.promote_types(x.dtype, b.dtype), device=x.device)
        if x.numel() == 0:
            return y
        n_cols = x.shape[-1]
        n_rows = x.numel() // n_cols
        block_n = min(triton.next_power_of_2(n_cols), 1024)
        block_m = max(1, 4096 // block_n)  # 4096-element tiles, 32 values per thread
        grid = (triton.cdiv(n_rows, block_m), triton.cdiv(n_cols, block_n))
        _bias_gelu_tanh[grid](x, b, y, n_rows, n_cols, BLOCK_M=block_m, BLOCK_N=block_n, num_warps=4)
        return y
