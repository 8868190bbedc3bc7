# problem: add_relu
# cheat: hides the torch computation in a string run by eval
# expect: static
# reason: `eval` is not allowed
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return eval("(x + y).clamp(min=0)")
