# problem: add_relu
# cheat: hands the first input back as the output
# expect: verify
# reason: shares memory with input 0
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return x
