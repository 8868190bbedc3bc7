"""3x3 max pooling with stride 2 and padding 1 on (32, 64, 112, 112), as in a ResNet stem."""
import torch
import torch.nn as nn

BATCH, CHANNELS, SIZE = 32, 64, 112


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs():
    return [torch.randn(BATCH, CHANNELS, SIZE, SIZE)]


def get_init_inputs():
    return []
