"""Sum over the middle dimension of a (128, 2048, 512) tensor, keeping the dimension."""
import torch
import torch.nn as nn

A, B, C = 128, 2048, 512


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x, dim=1, keepdim=True)


def get_inputs():
    return [torch.randn(A, B, C)]


def get_init_inputs():
    return []
