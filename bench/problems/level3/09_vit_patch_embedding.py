"""ViT input stage: 16x16 patch convolution, class token, position embedding and LayerNorm, on (32, 3, 224, 224)."""
import torch
import torch.nn as nn

BATCH, IN_CH, IMAGE, PATCH, HIDDEN = 32, 3, 224, 16, 768


class Model(nn.Module):
    def __init__(self, in_channels: int, image: int, patch: int, hidden: int):
        super().__init__()
        patches = (image // patch) ** 2
        self.embed = nn.Conv2d(in_channels, hidden, kernel_size=patch, stride=patch)
        self.cls = nn.Parameter(torch.randn(1, 1, hidden) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, patches + 1, hidden) * 0.02)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(x.shape[0], -1, -1), tokens], dim=1)
        return self.norm(tokens + self.pos)


def get_inputs():
    return [torch.randn(BATCH, IN_CH, IMAGE, IMAGE)]


def get_init_inputs():
    return [IN_CH, IMAGE, PATCH, HIDDEN]
