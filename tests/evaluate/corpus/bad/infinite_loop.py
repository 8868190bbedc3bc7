# problem: add_relu
# bug: never returns (a host loop waiting for a condition that never comes)
# expect: crash
# reason: timed out
# timeout: 4
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        done = False
        while not done:
            pass
        return torch.empty_like(x)
