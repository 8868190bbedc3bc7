"""LayerNorm(x + residual) over the last dimension (eps 1e-5) in CUDA C++: one block per row;
the sum stays in shared memory so the row is read from global memory once, and the variance
is taken around the mean (two passes) so large offsets do not cancel."""
import torch
from torch_llmbackend.targets.cuda_loader import load_cuda

CUDA_SRC = r"""
__device__ float block_sum(float v, float* scratch)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffff, v, off);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < n_warps ? scratch[lane] : 0.f;
        for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffff, v, off);
        if (lane == 0) scratch[32] = v;
    }
    __syncthreads();
    float r = scratch[32];
    __syncthreads();
    return r;
}

extern "C" __global__ void add_layernorm(const float* __restrict__ x, const float* __restrict__ res,
                                         const float* __restrict__ w, const float* __restrict__ b,
                                         float* __restrict__ out, int n_cols, float eps)
{
    extern __shared__ float row[];  // n_cols floats
    __shared__ float scratch[33];
    long long base = (long long)blockIdx.x * n_cols;
    float s = 0.f;
    for (int c = threadIdx.x; c < n_cols; c += blockDim.x) {
        float v = x[base + c] + res[base + c];
        row[c] = v;
        s += v;
    }
    float mean = block_sum(s, scratch) / n_cols;
    float q = 0.f;
    for (int c = threadIdx.x; c < n_cols; c += blockDim.x) {
        float d = row[c] - mean;
        q += d * d;
    }
    float rstd = rsqrtf(block_sum(q, scratch) / n_cols + eps);
    for (int c = threadIdx.x; c < n_cols; c += blockDim.x)
        out[base + c] = (row[c] - mean) * rstd * w[c] + b[c];
}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.kernel = load_cuda(CUDA_SRC).kernel("add_layernorm")

    def forward(self, x, residual, weight, bias):
        n_cols = x.shape[-1]
        rows = x.numel() // n_cols
        out = torch.empty_like(x)
        threads = 256 if n_cols >= 256 else 32 * ((n_cols + 31) // 32)
        self.kernel((rows,), (threads,), (x, residual, weight, bias, out, n_cols, 1e-5), shared_mem=4 * n_cols)
        return out
