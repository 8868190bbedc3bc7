"""MLP-Mixer block: token-mixing and channel-mixing GELU MLPs with pre-LayerNorm and residuals, (32, 196, 768)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, TOKENS, HIDDEN, TOKEN_MLP, CHANNEL_MLP = 32, 196, 768, 384, 3072


class Model(nn.Module):
    def __init__(self, tokens: int, hidden: int, token_mlp: int, channel_mlp: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden)
        self.token_fc1 = nn.Linear(tokens, token_mlp)
        self.token_fc2 = nn.Linear(token_mlp, tokens)
        self.norm2 = nn.LayerNorm(hidden)
        self.channel_fc1 = nn.Linear(hidden, channel_mlp)
        self.channel_fc2 = nn.Linear(channel_mlp, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x).transpose(1, 2)
        x = x + self.token_fc2(F.gelu(self.token_fc1(y))).transpose(1, 2)
        return x + self.channel_fc2(F.gelu(self.channel_fc1(self.norm2(x))))


def get_inputs():
    return [torch.randn(BATCH, TOKENS, HIDDEN)]


def get_init_inputs():
    return [TOKENS, HIDDEN, TOKEN_MLP, CHANNEL_MLP]
