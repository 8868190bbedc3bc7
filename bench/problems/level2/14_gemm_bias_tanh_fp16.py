"""Linear 4096 -> 4096 with bias, then tanh, on (16, 128, 4096) tokens in float16."""
import torch
import torch.nn as nn

BATCH, SEQ, HIDDEN = 16, 128, 4096


class Model(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.linear = nn.Linear(hidden, hidden, dtype=torch.float16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.linear(x))


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN, dtype=torch.float16)]


def get_init_inputs():
    return [HIDDEN]
