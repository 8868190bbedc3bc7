"""Post-norm output block LayerNorm(x + Linear(x)), 1024 features on (32, 256, 1024) in bfloat16."""
import torch
import torch.nn as nn

BATCH, SEQ, HIDDEN = 32, 256, 1024


class Model(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden, dtype=torch.bfloat16)
        self.norm = nn.LayerNorm(hidden, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.dense(x))


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN, dtype=torch.bfloat16)]


def get_init_inputs():
    return [HIDDEN]
