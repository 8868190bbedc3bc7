# problem: add_relu
# cheat: a class attribute dict shared by all calls and all instances
# expect: static
# reason: class attribute memo is a mutable object
import torch


class ModelNew(torch.nn.Module):
    memo = {}

    def forward(self, x, y):
        return self.memo.get("out", torch.empty_like(x))
