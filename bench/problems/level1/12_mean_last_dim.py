"""Mean over the last dimension of a (128, 2048, 512) tensor."""
import torch
import torch.nn as nn

A, B, C = 128, 2048, 512


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-1)


def get_inputs():
    return [torch.randn(A, B, C)]


def get_init_inputs():
    return []
