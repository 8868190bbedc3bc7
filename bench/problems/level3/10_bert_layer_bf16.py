"""Post-norm BERT encoder layer (self-attention, add & LayerNorm, GELU FFN, add & LayerNorm), (16, 256, 768) bfloat16."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, SEQ, HIDDEN, HEADS = 16, 256, 768, 12
DTYPE = torch.bfloat16


class Model(nn.Module):
    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden, dtype=DTYPE)
        self.attn_out = nn.Linear(hidden, hidden, dtype=DTYPE)
        self.attn_norm = nn.LayerNorm(hidden, dtype=DTYPE)
        self.ffn_in = nn.Linear(hidden, 4 * hidden, dtype=DTYPE)
        self.ffn_out = nn.Linear(4 * hidden, hidden, dtype=DTYPE)
        self.ffn_norm = nn.LayerNorm(hidden, dtype=DTYPE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, h = x.shape
        d = h // self.heads
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        weights = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(d), dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(b, s, h)
        x = self.attn_norm(x + self.attn_out(context))
        return self.ffn_norm(x + self.ffn_out(F.gelu(self.ffn_in(x))))


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN, dtype=DTYPE)]


def get_init_inputs():
    return [HIDDEN, HEADS]
