"""The Gemmini target, one package: target.py (GemminiTarget: capability, prompt guide, build,
timing in simulated cycles), graph.py (a subgraph's signature replayed as a small graph),
lower.py (the library lowering, the yardstick) and reduce.py (the same structure at reduced
sizes, for verification).

The module Gemmini kernels import, torch_llmbackend.targets.gemmini_kernel, stays outside the
package, as targets/cuda_loader.py does for CUDA: every kernel's source (the shipped bundle's,
sealed, included) and the static checks' allowlist name it by that path.
"""
from .target import NO_GEMMINI_WORK, GemminiTarget

__all__ = ["NO_GEMMINI_WORK", "GemminiTarget"]
