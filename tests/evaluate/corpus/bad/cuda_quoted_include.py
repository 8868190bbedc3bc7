# problem: cuda_add_relu
# cheat: includes a file from the machine (NVRTC would read any path it is given)
# expect: static
# reason: `#include "/etc/passwd"` is not allowed
import torch
from torch_llmbackend.targets.cuda_loader import load_cuda

CUDA_SRC = r"""
#include "/etc/passwd"
extern "C" __global__ void add_relu(const float* x, const float* y, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = fmaxf(x[i] + y[i], 0.f);
}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = load_cuda(CUDA_SRC).kernel("add_relu")

    def forward(self, x, y):
        out = torch.empty_like(x)
        n = x.numel()
        self.k(((n + 255) // 256,), (256,), (x, y, out, n))
        return out
