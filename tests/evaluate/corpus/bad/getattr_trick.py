# problem: add_relu
# cheat: builds the name of a torch compute op at run time and calls it through getattr
# expect: static
# reason: `getattr` is not allowed
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return getattr(torch, "ad" + "d")(x, y).clamp(min=0)
