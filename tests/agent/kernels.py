"""The problem the agent tests search on (relu(x + y), fp32 4x40: the tail is not a multiple of
the block) and candidate answers for it, as an LLM would write them."""
from __future__ import annotations

import hashlib

from torch_llmbackend.records import Problem, TensorSpec

REFERENCE = '''\
import torch


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        return torch.relu(x + y)


def get_inputs():
    return [torch.randn(4, 40), torch.randn(4, 40)]


def get_init_inputs():
    return []
'''


def add_relu_problem(shape: tuple[int, int] = (4, 40), target: str = "triton") -> Problem:
    spec = TensorSpec(shape, (shape[1], 1), "float32", "cpu")
    reference = REFERENCE.replace("(4, 40)", f"({shape[0]}, {shape[1]})")
    signature = f"aten.add.Tensor, aten.relu.default; float32{list(shape)} x2 -> float32{list(shape)}; {target}"
    n = shape[0] * shape[1]
    return Problem(
        key=hashlib.sha256(signature.encode()).hexdigest(), signature=signature, target=target,
        ops=("aten.add.Tensor", "aten.relu.default"), inputs=(spec, spec), outputs=(spec,),
        reference_source=reference, flops=2 * n, bytes_moved=12 * n,
    )


_MODULE = '''\
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    {BODY}
    tl.store(out_ptr + offsets, out, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        out = torch.empty_like(x)
        n = x.numel()
        add_relu_kernel[(triton.cdiv(n, 64),)](x, y, out, n, BLOCK=64)
        return out
'''

GOOD = _MODULE.replace("{BODY}", "out = tl.maximum(x + y, 0.0, propagate_nan=tl.PropagateNan.ALL)")
# Forgets the relu: right wherever x + y >= 0, wrong elsewhere.
WRONG = _MODULE.replace("{BODY}", "out = x + y")
# Calls a function triton.language does not have: fails when Triton compiles the kernel.
BROKEN = _MODULE.replace("{BODY}", "out = tl.relu_that_does_not_exist(x + y)")


def answer(source: str, prose: str = "Here is the kernel.") -> str:
    """A chat reply as models write them: some prose, then the module in a fenced block."""
    return f"{prose}\n\n```python\n{source}```\n"
