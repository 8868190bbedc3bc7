"""The Gemmini benchmark problems: ResNet-50's GEMM and convolution shapes (batch 1) and the demo MLP.

Each is a small model whose one Gemmini subgraph is that shape, so that
torch.compile(model, backend="llm", options={"target": "gemmini"}) times exactly it:
- GEMMs: an int8 linear layer as the int8 path runs it (torch._int_mm, then the requantize
  chain with ReLU, which Gemmini fuses into the mvout scale), I x J x K;
- convolutions: Conv2d (bias, stride 1, "same" padding) + ReLU on float32 NCHW input, which runs
  on the FP32 configuration (int8 convolutions have no PyTorch CPU reference);
- demo: the CLI demo's MLP (torch_llmbackend.demo.DemoMLP).
`PROBLEMS[name]()` returns (model, inputs), seeded, in eval mode, on the CPU.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

GEMMS = [(12544, 64, 256), (3136, 128, 512), (784, 256, 1024), (512, 512, 512)]  # I x J x K
CONVS = [(56, 64, 64, 3), (56, 64, 256, 1), (56, 256, 64, 1), (28, 128, 128, 3), (28, 512, 128, 1), (14, 256, 256, 3)]  # side, cin, cout, k
SCALE = 0.05


class Int8LinearRelu(nn.Module):
    def __init__(self, k: int, j: int):
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.register_buffer("w", torch.randint(-8, 8, (k, j), dtype=torch.int8, generator=g))

    def forward(self, x):
        acc = torch._int_mm(x, self.w)
        return torch.relu(torch.clamp(torch.round(acc.float() * SCALE), -128, 127).to(torch.int8))


class ConvRelu(nn.Module):
    def __init__(self, cin: int, cout: int, k: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2)

    def forward(self, x):
        return torch.relu(self.conv(x))


def gemm(i: int, j: int, k: int) -> Callable:
    def make():
        torch.manual_seed(0)
        return Int8LinearRelu(k, j).eval(), (torch.randint(-8, 8, (i, k), dtype=torch.int8),)
    return make


def conv(side: int, cin: int, cout: int, k: int) -> Callable:
    def make():
        torch.manual_seed(0)
        return ConvRelu(cin, cout, k).eval(), (torch.randn(1, cin, side, side),)
    return make


def demo():
    from torch_llmbackend.demo import DemoMLP

    torch.manual_seed(0)
    return DemoMLP().eval(), (torch.randn(16, 64),)


PROBLEMS: dict[str, Callable] = {
    **{f"gemm_{i}x{j}x{k}": gemm(i, j, k) for i, j, k in GEMMS},
    **{f"conv{k}x{k}_{side}x{side}_{cin}-{cout}": conv(side, cin, cout, k) for side, cin, cout, k in CONVS},
    "demo_mlp": demo,
}
