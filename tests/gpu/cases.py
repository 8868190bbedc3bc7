"""The subgraph kernels written by us (tests/gpu/kernels/*.py), each with the PyTorch function
whose subgraph it implements and inputs at two sizes: realistic ones for the GPU, tiny ones for
the Triton interpreter on the CPU. Shapes are deliberately not multiples of the block sizes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

KERNELS = Path(__file__).parent / "kernels"


@dataclass(frozen=True)
class KernelCase:
    name: str  # file stem in kernels/
    target: str  # "triton" or "cuda"
    fn: Callable
    gpu_shapes: tuple  # one entry per input: (shape, dtype)
    cpu_shapes: tuple

    @property
    def source(self) -> str:
        return (KERNELS / f"{self.name}.py").read_text()

    def inputs(self, device: str, seed: int = 0) -> list[torch.Tensor]:
        shapes = self.gpu_shapes if device == "cuda" else self.cpu_shapes
        g = torch.Generator().manual_seed(seed)
        return [torch.randn(shape, generator=g, dtype=torch.float32).to(dtype=dtype, device=device) for shape, dtype in shapes]


f32, f16 = torch.float32, torch.float16


def _layer_norm(x, w, b):
    return F.layer_norm(x, (x.shape[-1],), w, b, 1e-5)


def _add_layer_norm(x, r, w, b):
    return F.layer_norm(x + r, (x.shape[-1],), w, b, 1e-5)


def _rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


CASES = (
    KernelCase("tri_softmax", "triton", lambda x: torch.softmax(x, -1),
               (((4096, 1000), f32),), (((4, 40), f32),)),
    KernelCase("tri_scale_softmax", "triton", lambda x: torch.softmax(x * 0.125, -1),
               (((4096, 1000), f16),), (((4, 40), f16),)),
    KernelCase("tri_layernorm", "triton", _layer_norm,
               (((4096, 1024), f32), ((1024,), f32), ((1024,), f32)), (((4, 40), f32), ((40,), f32), ((40,), f32))),
    KernelCase("tri_rmsnorm", "triton", _rms_norm,
               (((4096, 1000), f32), ((1000,), f32)), (((4, 40), f32), ((40,), f32))),
    KernelCase("tri_bias_gelu", "triton", lambda x, b: F.gelu(x + b),
               (((2048, 3000), f32), ((3000,), f32)), (((4, 40), f32), ((40,), f32))),
    KernelCase("tri_linear_relu", "triton", lambda x, w, b: F.relu(F.linear(x, w, b)),
               (((1024, 1000), f16), ((768, 1000), f16), ((768,), f16)), (((8, 40), f16), ((24, 40), f16), ((24,), f16))),
    KernelCase("cu_row_mean", "cuda", lambda x: x.mean(-1),
               (((4096, 1000), f32),), (((4, 40), f32),)),
    KernelCase("cu_softmax", "cuda", lambda x: torch.softmax(x, -1),
               (((4096, 1000), f32),), (((4, 40), f32),)),
    KernelCase("cu_add_layernorm", "cuda", _add_layer_norm,
               (((4096, 1000), f32), ((4096, 1000), f32), ((1000,), f32), ((1000,), f32)),
               (((4, 40), f32), ((4, 40), f32), ((40,), f32), ((40,), f32))),
    KernelCase("cu_swiglu", "cuda", lambda a, b: F.silu(a) * b,
               (((4096, 2816), f16), ((4096, 2816), f16)), (((4, 40), f16), ((4, 40), f16))),
    KernelCase("cu_avgpool2d", "cuda", lambda x: F.avg_pool2d(x, 2),
               (((8, 64, 57, 57), f32),), (((2, 3, 9, 9), f32),)),
)

TRITON_CASES = tuple(c for c in CASES if c.target == "triton")
CUDA_CASES = tuple(c for c in CASES if c.target == "cuda")


def case_named(name: str) -> KernelCase:
    return next(c for c in CASES if c.name == name)
