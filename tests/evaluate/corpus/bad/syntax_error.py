# problem: add_relu
# bug: the reply was cut off mid-statement
# expect: static
# reason: SyntaxError
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x
