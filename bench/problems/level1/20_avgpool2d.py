"""2x2 average pooling with stride 2 on (32, 256, 56, 56)."""
import torch
import torch.nn as nn

BATCH, CHANNELS, SIZE = 32, 256, 56


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs():
    return [torch.randn(BATCH, CHANNELS, SIZE, SIZE)]


def get_init_inputs():
    return []
