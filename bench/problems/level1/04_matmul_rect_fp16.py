"""Rectangular matrix product (8192 x 4096) @ (4096 x 8192) in float16."""
import torch
import torch.nn as nn

M, K, N = 8192, 4096, 8192


class Model(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b


def get_inputs():
    return [torch.randn(M, K, dtype=torch.float16), torch.randn(K, N, dtype=torch.float16)]


def get_init_inputs():
    return []
