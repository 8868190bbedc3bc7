# problem: add_relu
# bug: the reply repeats the reference Model and never defines ModelNew
# expect: static
# reason: must define `class ModelNew
import torch


class Model(torch.nn.Module):
    def forward(self, x, y):
        return torch.empty_like(x)
