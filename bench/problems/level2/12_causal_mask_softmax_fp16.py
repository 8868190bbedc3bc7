"""Scaled, causally masked softmax over attention scores (8, 16, 1024, 1024) in float16."""
import math

import torch
import torch.nn as nn

BATCH, HEADS, SEQ, HEAD_DIM = 8, 16, 1024, 64


class Model(nn.Module):
    def __init__(self, seq: int, head_dim: int):
        super().__init__()
        self.scale = 1.0 / math.sqrt(head_dim)
        self.register_buffer("mask", torch.ones(seq, seq, dtype=torch.bool).tril())

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        scores = (scores * self.scale).masked_fill(~self.mask, float("-inf"))
        return torch.softmax(scores, dim=-1)


def get_inputs():
    return [torch.randn(BATCH, HEADS, SEQ, SEQ, dtype=torch.float16) * 8.0]


def get_init_inputs():
    return [SEQ, HEAD_DIM]
