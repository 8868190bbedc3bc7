"""Bias-free linear layer 4096 -> 11008 on 128 tokens in bfloat16 (an LLM up-projection)."""
import torch
import torch.nn as nn

TOKENS, IN_FEATURES, OUT_FEATURES = 128, 4096, 11008


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.proj = nn.Linear(in_features, out_features, bias=False, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


def get_inputs():
    return [torch.randn(TOKENS, IN_FEATURES, dtype=torch.bfloat16)]


def get_init_inputs():
    return [IN_FEATURES, OUT_FEATURES]
