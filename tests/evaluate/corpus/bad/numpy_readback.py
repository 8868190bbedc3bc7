# problem: add_relu
# cheat: computes in numpy on the host and wraps the result back into a tensor
# expect: static
# reason: `\.numpy\(\)` reads tensor data into Python
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        s = x.numpy() + y.numpy()
        return torch.tensor(s * (s > 0))
