# problem: add_relu
# cheat: PyTorch does the work in host code, no kernel at all
# expect: guard
# reason: aten\.add\.Tensor.*line 10
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return (x + y).clamp(min=0)
