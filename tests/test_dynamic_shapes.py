"""Kernels that serve every shape: a dynamic graph keeps its kernel across sizes, a kernel found at
one size is proven and reused at others (in this process and the next), and a kernel that only
works at the prompt's sizes is refused. CPU, Triton interpreter, a scripted OpenAI-protocol server."""
import json
import os
import subprocess
import sys
import textwrap

import torch

import torch_llmbackend
from tests.agent.kernels import answer

# relu(x + y) for any number of elements; NaN stays NaN, as in eager's relu
GENERIC = '''\
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    s = tl.load(x_ptr + offsets, mask=mask) + tl.load(y_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, tl.where(s < 0, 0.0, s), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        out = torch.empty_like(x)
        n = x.numel()
        add_relu_kernel[(triton.cdiv(n, 1024),)](x, y, out, n, BLOCK=1024)
        return out
'''

# The same kernel with the prompt's size baked in: right at 3000 elements only.
HARDCODED = GENERIC.replace("n = x.numel()", "n = 3000").replace("triton.cdiv(n, 1024)", "3")


class AddRelu(torch.nn.Module):
    def forward(self, x, y):
        return torch.relu(x + y)


def options(server, cache_dir):
    return {"target": "triton", "base_url": server.base_url, "model": "scripted", "cache_dir": cache_dir,
            "fallback": "eager", "prefer": "kernel", "baselines": "eager", "max_rounds": 2,
            "use_knowledge": False, "progress": False, "request_timeout_s": 30.0}
