"""Causal self-attention with a fused qkv projection and scaled_dot_product_attention, (8, 512, 2048) float16."""
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, SEQ, HIDDEN, HEADS = 8, 512, 2048, 16


class Model(nn.Module):
    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden, dtype=torch.float16)
        self.out = nn.Linear(hidden, hidden, dtype=torch.float16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, h = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        context = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(context.transpose(1, 2).reshape(b, s, h))


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN, dtype=torch.float16)]


def get_init_inputs():
    return [HIDDEN, HEADS]
