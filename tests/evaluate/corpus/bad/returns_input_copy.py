# problem: add_relu
# cheat: returns a copy of an input (a layout copy is allowed, so only the values can tell)
# expect: verify
# reason: differs from eager
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return x.clone()
