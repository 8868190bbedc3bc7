"""Matrix-vector product (8192 x 8192) @ (8192 x 1), float32."""
import torch
import torch.nn as nn

N = 8192


class Model(nn.Module):
    def forward(self, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, x)


def get_inputs():
    return [torch.randn(N, N), torch.randn(N, 1)]


def get_init_inputs():
    return []
