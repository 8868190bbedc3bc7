"""LayerNorm over 1024 features followed by a linear 1024 -> 4096, on (32, 256, 1024)."""
import torch
import torch.nn as nn

BATCH, SEQ, HIDDEN, OUT = 32, 256, 1024, 4096


class Model(nn.Module):
    def __init__(self, hidden: int, out_features: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.linear = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.norm(x))


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN)]


def get_init_inputs():
    return [HIDDEN, OUT]
