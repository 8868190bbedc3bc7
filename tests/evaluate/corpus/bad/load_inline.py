# problem: add_relu
# cheat: compiles arbitrary C++ that calls ATen through torch's extension loader
# expect: static
# reason: torch\.utils\.cpp_extension
from torch.utils.cpp_extension import load_inline

import torch

_SRC = """
#include <torch/extension.h>
torch::Tensor add_relu(torch::Tensor x, torch::Tensor y) { return at::relu(x + y); }
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ext = load_inline("add_relu", _SRC, functions=["add_relu"])

    def forward(self, x, y):
        return self.ext.add_relu(x, y)
