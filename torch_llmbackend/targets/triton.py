"""The Triton target: kernels written with triton.jit, launched from ModelNew.forward.

On a CUDA device Triton compiles for the GPU. With TRITON_INTERPRET=1 Triton's interpreter runs
the same kernels on CPU tensors (slowly, in numpy); the target accepts CPU tensors in that mode,
which is how the CPU test suite exercises the real path.
"""
from __future__ import annotations

import importlib.util
import os


from .base import GPU_DTYPES, Availability, Target, cuda_capability
from .gpu_ops import GPU_OPS

GUIDE = """\
Write the kernel in Triton. Answer with ONE fenced ```python block holding a complete module:
- `import torch`, `import triton`, `import triton.language as tl` (and `math` if needed); nothing else.
- One or more `@triton.jit` kernels doing ALL the arithmetic of the reference forward.
- `class ModelNew(torch.nn.Module)` with `__init__(self)` taking no arguments and
  `forward(self, *inputs)` taking the same inputs as the reference `Model.forward` and returning
  the same thing (one tensor, or a tuple in the same order), with the same shapes, dtypes and
  strides (allocate outputs with torch.empty / torch.empty_strided on the input's device).
- Host code may only allocate outputs, take views (.view, .stride(), .shape) and launch kernels.
  Calling torch compute ops (torch.matmul, x + y, torch.softmax, .sum(), F.*) is rejected.
- Handle every element: mask the tails (shapes need not be multiples of your block sizes).
- Serve every size: read sizes from the inputs at run time and pass them as kernel arguments;
  never hard-code a size from the prompt (it is verified at other sizes too).
- No file, network, process or environment access; no global state kept between calls.
"""


class TritonTarget(Target):
    name = "triton"
    allowed_imports = frozenset({"torch", "triton", "math"})
    ops = GPU_OPS
    dtypes = GPU_DTYPES

    def availability(self, device_type: str) -> Availability:
        if importlib.util.find_spec("triton") is None:
            return Availability(False, "triton is not installed (pip install triton)")
        if device_type == "cuda":
            import torch

            return Availability(True) if torch.cuda.is_available() else Availability(False, "no CUDA device here")
        if device_type == "cpu" and os.environ.get("TRITON_INTERPRET") == "1":
            return Availability(True)
        return Availability(False, f"Triton kernels need a CUDA device (or TRITON_INTERPRET=1 for CPU tensors), inputs are on {device_type}")

    def capability(self, device_type: str) -> str:
        return (device_type == "cuda" and cuda_capability()) or "cpu-interpreter"

    def key_versions(self) -> dict[str, str]:
        import triton

        return {**super().key_versions(), "triton": triton.__version__.split(".")[0]}

    def guide(self) -> str:
        return GUIDE

    def load_unchecked(self, source: str, workdir: str):
        # the worker verifies and times a candidate loaded this way, and a cache hit loads it
        # the same way after the checks (Target.load), so what is verified is exactly what runs
        # in the model, fast launch path included
        from .triton_launch import enable_fast_launch

        module = super().load_unchecked(source, workdir)
        enable_fast_launch(module)
        return module
