"""Problems built by hand (no graph code) and a fresh knowledge base per test."""
from __future__ import annotations

import pytest

from torch_llmbackend.records import Problem, TensorSpec
from torch_llmbackend.store.knowledge import KnowledgeBase


def spec(*shape: int, dtype: str = "float32", device: str = "cuda") -> TensorSpec:
    stride, step = [], 1
    for s in reversed(shape):
        stride.append(step)
        step *= s
    return TensorSpec(tuple(shape), tuple(reversed(stride)), dtype, device)


def problem(key: str, ops: tuple[str, ...], inputs, outputs, target: str = "triton", flops: int = 0) -> Problem:
    src = "import torch\nclass Model(torch.nn.Module):\n    def forward(self, *xs):\n        return xs[0]\n" \
          "def get_inputs():\n    return []\ndef get_init_inputs():\n    return []\n"
    return Problem(key, f"sig-{key}", target, ops, tuple(inputs), tuple(outputs), src, flops=flops)


def softmax_problem(rows: int = 4096, cols: int = 4096, key: str = "softmax") -> Problem:
    return problem(key, ("aten._softmax.default",), [spec(rows, cols)], [spec(rows, cols)])


def decomposed_softmax_problem() -> Problem:
    """What AOTAutograd may hand over for x.softmax(-1) * scale: no _softmax op in sight."""
    ops = ("aten.amax.default", "aten.sub.Tensor", "aten.exp.default", "aten.sum.dim_IntList", "aten.div.Tensor",
           "aten.mul.Tensor")
    return problem("new-softmax", ops, [spec(2048, 8192)], [spec(2048, 8192)])


def conv_problem() -> Problem:
    return problem("conv", ("aten.convolution.default", "aten.relu.default"), [spec(32, 64, 56, 56), spec(64, 64, 3, 3)],
                   [spec(32, 64, 56, 56)], flops=2 * 32 * 64 * 56 * 56 * 64 * 9)


def matmul_problem(m: int = 4096, n: int = 4096, k: int = 4096, dtype: str = "float16", target: str = "triton") -> Problem:
    return problem(f"mm{m}x{n}x{k}{dtype}{target}", ("aten.mm.default",), [spec(m, k, dtype=dtype), spec(k, n, dtype=dtype)],
                   [spec(m, n, dtype=dtype)], target=target, flops=2 * m * n * k)


def layernorm_problem() -> Problem:
    return problem("layernorm", ("aten.native_layer_norm.default",), [spec(8192, 1024), spec(1024), spec(1024)],
                   [spec(8192, 1024), spec(8192, 1), spec(8192, 1)])


@pytest.fixture
def kb(tmp_path) -> KnowledgeBase:
    return KnowledgeBase(str(tmp_path / "cache"))
