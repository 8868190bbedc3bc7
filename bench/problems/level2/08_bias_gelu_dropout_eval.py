"""Bias add, tanh-approximated GELU and dropout (eval mode, so an identity) on (16, 512, 4096)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, SEQ, HIDDEN = 16, 512, 4096


class Model(nn.Module):
    def __init__(self, hidden: int, p: float):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(hidden) * 0.1)
        self.dropout = nn.Dropout(p)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(F.gelu(x + self.bias, approximate="tanh"))


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN)]


def get_init_inputs():
    return [HIDDEN, 0.1]
