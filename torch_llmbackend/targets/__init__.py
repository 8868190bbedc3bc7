"""Targets by name. A target is looked up lazily so that importing the package never imports
an optional toolchain (triton, gemmini_runtime) that the user's target does not need."""
from __future__ import annotations

from .base import Availability, Target


def get_target(name: str) -> Target:
    if name == "triton":
        from .triton import TritonTarget

        return TritonTarget()
    if name == "cuda":
        from .cuda import CudaTarget

        return CudaTarget()
    if name == "gemmini":
        from .gemmini import GemminiTarget

        return GemminiTarget()
    raise ValueError(f"unknown target {name!r}; targets: triton, cuda, gemmini")


__all__ = ["Availability", "Target", "get_target"]
