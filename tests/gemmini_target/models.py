"""Small models for the Gemmini target (shapes kept small: the simulator is exact, not fast)."""
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(32, 64), nn.Linear(64, 16)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class SmallCNN(nn.Module):
    """conv + relu + max pool + flatten + linear: one Gemmini subgraph (conv with fused relu
    and pooling, NHWC back to NCHW order, then the linear)."""

    def __init__(self):
        super().__init__()
        self.conv, self.pool, self.fc = nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2), nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))


def requantize(acc: torch.Tensor, scale: float) -> torch.Tensor:
    """int32 accumulator -> int8: float32 multiply, round half to even, saturate."""
    return torch.clamp(torch.round(acc.float() * scale), -128, 127).to(torch.int8)


class Int8MLP(nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.register_buffer("w1", torch.randint(-8, 8, (32, 48), dtype=torch.int8, generator=g))
        self.register_buffer("w2", torch.randint(-8, 8, (48, 32), dtype=torch.int8, generator=g))

    def forward(self, x):
        h = torch.relu(requantize(torch._int_mm(x, self.w1), 0.05))
        return requantize(torch._int_mm(h, self.w2), 0.02)


class Int8Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("w", torch.randint(-8, 8, (64, 64), dtype=torch.int8, generator=torch.Generator().manual_seed(3)))

    def forward(self, x):
        return requantize(torch._int_mm(x, self.w), 0.05)


class WithSigmoid(nn.Module):
    """A linear Gemmini runs, and a sigmoid it cannot."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))
