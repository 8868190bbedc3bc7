"""Batched matrix product: 32 x (1024 x 512) @ (512 x 1024), float32."""
import torch
import torch.nn as nn

BATCH, M, K, N = 32, 1024, 512, 1024


class Model(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.bmm(a, b)


def get_inputs():
    return [torch.randn(BATCH, M, K), torch.randn(BATCH, K, N)]


def get_init_inputs():
    return []
