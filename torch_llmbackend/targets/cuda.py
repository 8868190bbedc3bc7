"""The CUDA C++ target: kernels written as CUDA source strings, built at run time with NVRTC by
our loader (targets/cuda_loader.py) and launched from ModelNew.forward on torch's stream.

A candidate may import torch, math and our loader module, nothing else; the loader is part of
this package, so what it does (compile with NVRTC, load a cubin, launch with checked
arguments) is trusted code, and the candidate's own Python stays a thin launcher.
"""
from __future__ import annotations

import torch

from .base import GPU_DTYPES, Availability, Target, cuda_capability
from .gpu_ops import GPU_OPS

LOADER_MODULE = "torch_llmbackend.targets.cuda_loader"

GUIDE = """\
Write the kernel in CUDA C++. Answer with ONE fenced ```python block holding a complete module:
- Imports: `import torch`, `import math` (if needed) and
  `from torch_llmbackend.targets.cuda_loader import load_cuda`; nothing else.
- The CUDA source in a module-level string (e.g. `CUDA_SRC = r\"\"\"...\"\"\"`). Declare every kernel
  `extern "C" __global__` so its name is not mangled. Only toolkit headers may be included
  (`#include <cuda_fp16.h>` for __half, `<cuda_bf16.h>` for __nv_bfloat16); no quoted includes.
  The source is compiled with NVRTC for this GPU's architecture, C++17; there is no host code.
- `class ModelNew(torch.nn.Module)`: `__init__(self)` takes no arguments and builds the kernels:
  `self.k = load_cuda(CUDA_SRC).kernel("my_kernel")` (optional: `load_cuda(src, options=("-use_fast_math",))`).
  `forward(self, *inputs)` takes the same inputs as the reference `Model.forward` and returns the
  same thing (one tensor, or a tuple in the same order) with the same shapes, dtypes and strides.
- Launch: `self.k(grid, block, (arg0, arg1, ...), shared_mem=0)`; grid and block are int or
  tuples of up to 3 ints (block at most 1024 threads). Tensors pass their data pointer and must
  be CUDA tensors whose dtype matches the pointer type (float* float32, __half* float16,
  __nv_bfloat16* bfloat16); Python ints and floats take the C type the kernel declares
  (int, long long, float, double; or pass `types="ppi"`: p pointer, i int32, q int64, f float,
  d double). Launches are asynchronous on torch's current stream; do not synchronize.
  Dynamic shared memory above 48 KB is enabled for you (up to 227 KB per block on H100).
- Inputs arrive with the shapes and strides listed in the reference; when they are not
  contiguous, pass `x.stride(d)` as ints and index with them (or `x = x.contiguous()`, a
  layout copy, which costs a pass over memory). Use 64-bit index arithmetic
  (long long) where sizes can pass 2^31 elements.
- Serve every size: read sizes from the inputs at run time (x.shape, x.numel()) and pass them
  as kernel arguments; never hard-code a size from the prompt (it is verified at other sizes too).
- Outputs: allocate with torch.empty / torch.empty_like / torch.empty_strided on the input's
  device, then fill them in a kernel. Host code may only allocate, take views (.view, .shape,
  .stride(), .numel()) and launch; torch compute ops (torch.matmul, x + y, .sum(),
  F.*) are rejected, and so are cuBLAS, cuDNN, CUTLASS and ATen calls inside the CUDA source.
- Size the grid from the shapes at run time; guard every tail (`if (i < n)`), and every
  reduction must handle rows whose length is not a multiple of the block size.
- Accumulate in float for float16/bfloat16 inputs; convert with __half2float/__float2half,
  __bfloat162float/__float2bfloat16. Warp reductions: `__shfl_xor_sync(0xffffffff, v, offset)`.
  NVRTC has no C standard headers: INFINITY and FLT_MAX are undefined (use
  `__int_as_float(0x7f800000)` and 3.402823466e38f); math functions (expf, __expf, rsqrtf,
  erff, tanhf, fmaxf) are built in.
- No file, network, process or environment access; no state kept between calls.
"""


class CudaTarget(Target):
    name = "cuda"
    allowed_imports = frozenset({"torch", "math", LOADER_MODULE})
    ops = GPU_OPS
    dtypes = GPU_DTYPES

    def availability(self, device_type: str) -> Availability:
        if device_type != "cuda":
            return Availability(False, f"CUDA C++ kernels need a CUDA device, inputs are on {device_type}")
        if not torch.cuda.is_available():
            return Availability(False, "torch reports no usable CUDA device")
        from .cuda_loader import toolchain_status

        ok, why = toolchain_status()
        return Availability(True) if ok else Availability(False, why)

    def capability(self, device_type: str) -> str:
        return (device_type == "cuda" and cuda_capability()) or "no-cuda-device"

    def key_versions(self) -> dict[str, str]:
        cuda = torch.version.cuda or "none"
        return {**super().key_versions(), "cuda": cuda.split(".")[0]}

    def guide(self) -> str:
        return GUIDE
