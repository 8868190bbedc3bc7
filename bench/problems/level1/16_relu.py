"""ReLU applied elementwise to a (4096, 16384) tensor."""
import torch
import torch.nn as nn

ROWS, COLS = 4096, 16384


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs():
    return [torch.randn(ROWS, COLS)]


def get_init_inputs():
    return []
