"""Tall-skinny matrix product: (32768 x 1024) @ (1024 x 64), float32."""
import torch
import torch.nn as nn

M, K, N = 32768, 1024, 64


class Model(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


def get_inputs():
    return [torch.randn(M, K), torch.randn(K, N)]


def get_init_inputs():
    return []
