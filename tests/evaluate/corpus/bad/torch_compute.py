# problem: add_relu
# cheat: PyTorch does the work in host code, no kernel at all
# expect: static
# reason: line 12: `\.clamp` is not an allowed attribute
# unchecked-expect: guard
# unchecked-reason: aten\.add\.Tensor.*line 12
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return (x + y).clamp(min=0)
