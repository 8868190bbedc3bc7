"""Targets by name, in one table (as Triton's backends/ names its backends): options, the
backend and every error message read the names from `TARGET_CLASSES`. A target is imported
lazily, when first looked up, so that importing the package (or options.py, which needs only
the names) never imports torch or an optional toolchain (triton, gemmini_runtime) that the
user's target does not need."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Availability, Target

# name -> "module:class" under this package
TARGET_CLASSES = {
    "cuda": "cuda:CudaTarget",
    "triton": "triton:TritonTarget",
    "gemmini": "gemmini:GemminiTarget",
}


def get_target(name: str) -> "Target":
    try:
        module, cls = TARGET_CLASSES[name].split(":")
    except KeyError:
        raise ValueError(f"unknown target {name!r}; targets: {', '.join(TARGET_CLASSES)}") from None
    return getattr(importlib.import_module(f".{module}", __name__), cls)()


def __getattr__(name: str) -> Any:  # Availability and Target, without importing torch up front
    if name in ("Availability", "Target"):
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Availability", "TARGET_CLASSES", "Target", "get_target"]
