"""ResNet bottleneck block (1x1, 3x3, 1x1 conv with eval BatchNorm, identity shortcut) on (32, 256, 56, 56)."""
import torch
import torch.nn as nn

BATCH, CHANNELS, WIDTH, SIZE = 32, 256, 64, 56


def conv_bn(in_ch: int, out_ch: int, kernel: int) -> nn.Sequential:
    bn = nn.BatchNorm2d(out_ch)
    with torch.no_grad():  # statistics that make eval-mode normalization a real computation
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=False), bn)


class Model(nn.Module):
    def __init__(self, channels: int, width: int):
        super().__init__()
        self.reduce = conv_bn(channels, width, 1)
        self.spatial = conv_bn(width, width, 3)
        self.expand = conv_bn(width, channels, 1)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.reduce(x))
        out = torch.relu(self.spatial(out))
        return torch.relu(self.expand(out) + x)


def get_inputs():
    return [torch.randn(BATCH, CHANNELS, SIZE, SIZE)]


def get_init_inputs():
    return [CHANNELS, WIDTH]
