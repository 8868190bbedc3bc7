"""Maximum over the first dimension of a (512, 1024, 256) tensor."""
import torch
import torch.nn as nn

A, B, C = 512, 1024, 256


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.amax(x, dim=0)


def get_inputs():
    return [torch.randn(A, B, C)]


def get_init_inputs():
    return []
