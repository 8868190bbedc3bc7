"""3x3 convolution 32 -> 64 channels, ReLU and 2x2 max pooling on (32, 32, 112, 112)."""
import torch
import torch.nn as nn

BATCH, IN_CH, OUT_CH, SIZE = 32, 32, 64, 112


class Model(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.conv(x)))


def get_inputs():
    return [torch.randn(BATCH, IN_CH, SIZE, SIZE)]


def get_init_inputs():
    return [IN_CH, OUT_CH]
