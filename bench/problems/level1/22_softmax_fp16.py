"""Softmax over the last dimension of a (1024, 8192) tensor in float16."""
import torch
import torch.nn as nn

ROWS, COLS = 1024, 8192


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


def get_inputs():
    return [torch.randn(ROWS, COLS, dtype=torch.float16)]


def get_init_inputs():
    return []
