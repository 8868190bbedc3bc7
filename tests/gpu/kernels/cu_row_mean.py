"""Mean over the last dimension (aten.mean.dim) in CUDA C++: one block per row, warp shuffles."""
import torch
from torch_llmbackend.targets.cuda_loader import load_cuda

CUDA_SRC = r"""
extern "C" __global__ void row_mean(const float* __restrict__ x, float* __restrict__ out, int n_cols)
{
    const float* row = x + (long long)blockIdx.x * n_cols;
    float acc = 0.f;
    for (int c = threadIdx.x; c < n_cols; c += blockDim.x)
        acc += row[c];
    for (int off = 16; off > 0; off >>= 1)
        acc += __shfl_xor_sync(0xffffffff, acc, off);
    __shared__ float warp_sums[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = acc;
    __syncthreads();
    if (warp == 0) {
        int n_warps = blockDim.x >> 5;
        acc = lane < n_warps ? warp_sums[lane] : 0.f;
        for (int off = 16; off > 0; off >>= 1)
            acc += __shfl_xor_sync(0xffffffff, acc, off);
        if (lane == 0) out[blockIdx.x] = acc / n_cols;
    }
}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.row_mean = load_cuda(CUDA_SRC).kernel("row_mean")

    def forward(self, x):
        n_cols = x.shape[-1]
        rows = x.numel() // n_cols
        out = torch.empty(x.shape[:-1], dtype=x.dtype, device=x.device)
        threads = 256 if n_cols >= 256 else 32 * ((n_cols + 31) // 32)
        self.row_mean((rows,), (threads,), (x, out, n_cols))
        return out
