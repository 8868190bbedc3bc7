"""avg_pool2d(x, 2) on NCHW float32 in CUDA C++ (stride 2, no padding, floor mode): one thread
per output element."""
import torch
from torch_llmbackend.targets.cuda_loader import load_cuda

CUDA_SRC = r"""
extern "C" __global__ void avgpool2x2(const float* __restrict__ x, float* __restrict__ out,
                                      long long planes, int h, int w, int oh, int ow)
{
    long long total = planes * oh * ow;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        int ox = i % ow;
        int oy = (i / ow) % oh;
        long long p = i / ((long long)ow * oh);
        const float* src = x + p * h * w + (long long)(2 * oy) * w + 2 * ox;
        out[i] = 0.25f * (src[0] + src[1] + src[w] + src[w + 1]);
    }
}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = load_cuda(CUDA_SRC).kernel("avgpool2x2")

    def forward(self, x):
        n, c, h, w = x.shape
        oh, ow = h // 2, w // 2
        out = torch.empty((n, c, oh, ow), dtype=x.dtype, device=x.device)
        total = n * c * oh * ow
        blocks = min((total + 255) // 256, 132 * 32)
        self.pool((blocks,), (256,), (x, out, n * c, h, w, oh, ow))
        return out
