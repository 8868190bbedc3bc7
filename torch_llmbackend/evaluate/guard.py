"""Run-time recorder of the PyTorch ops a candidate's host code calls (runs in the worker).

A kernel module's forward may allocate outputs, take views, copy for layout and launch kernels;
if it calls `x + y`, `torch.softmax` or `F.linear`, PyTorch is doing the work, not the kernel.
Static checks cannot see that (`x + y` is just Python), so a TorchDispatchMode watches every
aten op while forward runs and records those outside the allowed set.

Who called an op matters: the Triton interpreter itself allocates and copies tensors while it
launches a kernel, and a target's loader (ours) may too. Each op is attributed to the innermost
Python frame outside torch and the standard library; ops attributed to a trusted package
(Triton, torch_llmbackend's targets, gemmini_runtime) are the launcher's, everything else is the
candidate's. Triton launches on the GPU do not go through the dispatcher at all.

Copies: `copy_`, `clone`, `contiguous` and `_to_copy` are allowed only when they keep the dtype
and the device (a layout change). A dtype conversion is arithmetic and belongs in the kernel.
`fill_`/`zero_` with a scalar and `zeros`/`full` count as allocation (initialising an
accumulator for atomics is legitimate). `.item()` is not allowed: reading values back lets the
host compute.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# aten overload packets a candidate's host code may call.
ALLOCATION_OPS = frozenset(
    {
        "empty", "empty_like", "empty_strided", "empty_permuted", "new_empty", "new_empty_strided",
        "zeros", "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full",
        "zero_", "lift_fresh", "lift_fresh_copy", "record_stream",
    }
)
VIEW_OPS = frozenset(
    {
        "view", "_unsafe_view", "reshape", "_reshape_alias", "as_strided", "expand", "unsqueeze", "squeeze",
        "select", "slice", "t", "transpose", "permute", "detach", "alias", "split", "split_with_sizes",
        "unbind", "chunk", "narrow", "diagonal", "unfold", "view_as_real", "view_as_complex", "movedim",
        "sym_size", "sym_stride", "sym_numel", "sym_storage_offset", "is_contiguous",
        "is_non_overlapping_and_dense", "is_same_size", "dim", "size", "stride", "numel",
        # dtype arithmetic for allocating outputs (no tensor data is read or computed)
        "promote_types", "result_type", "can_cast",
    }
)
LAYOUT_COPY_OPS = frozenset({"copy_", "clone", "contiguous", "_to_copy"})

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
# The real stdlib (where os.py lives); in a venv "platstdlib" would also cover site-packages.
_STDLIB_DIR = os.path.dirname(os.__file__) + os.sep
_THIS_FILE = __file__


def _package_dir(name: str) -> str | None:
    """Where a package lives, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.abspath(list(spec.submodule_search_locations)[0]) + os.sep


def trusted_launcher_dirs() -> tuple[str, ...]:
    """Code allowed to call any op while forward runs: Triton, our target loaders, and
    gemmini_runtime."""
    dirs = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "targets" + os.sep]
    # All of Triton: its launcher, interpreter and autotuner allocate and copy while launching.
    # The parts a candidate could call from host code to compute (triton.testing, ...) are
    # rejected by the static checks.
    # gemmini_runtime is ours too: the Gemmini target's loader converts and copies tensors.
    found = [_package_dir(name) for name in ("triton", "gemmini_runtime")]
    return tuple(dirs + [d for d in found if d])


def is_library_frame(filename: str) -> bool:
    """Frames skipped when looking for who asked for an op: torch itself and the stdlib."""
    if filename.startswith(_TORCH_DIR) or filename.startswith("<frozen") or filename == _THIS_FILE:
        return True
    return filename.startswith(_STDLIB_DIR) and "-packages" + os.sep not in filename


def origin_frame(start):
    """The innermost frame outside torch and the standard library, or None."""
    frame = start
    while frame is not None and is_library_frame(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


@dataclass(frozen=True)
class GuardHit:
    op: str  # e.g. "aten.add.Tensor"
    file: str
    line: int
    detail: str = ""

    def describe(self) -> str:
        where = f"{os.path.basename(self.file)} line {self.line}"
        return f"{self.op} ({where}){': ' + self.detail if self.detail else ''}"


class ComputeGuard(TorchDispatchMode):
    """Records compute ops called by untrusted host code while active. It never changes what
    runs: the candidate's forward completes, and the caller decides from `hits`."""

    def __init__(self, trusted_dirs: tuple[str, ...] | None = None):
        super().__init__()
        self.trusted = trusted_dirs if trusted_dirs is not None else trusted_launcher_dirs()
        self.hits: list[GuardHit] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        detail = _disallowed(func, args, kwargs)
        if detail is not None:
            frame = origin_frame(sys._getframe(1))
            if frame is not None and not frame.f_code.co_filename.startswith(self.trusted):
                self.hits.append(GuardHit(_op_label(func), frame.f_code.co_filename, frame.f_lineno, detail))
        return func(*args, **kwargs)

    def summary(self, limit: int = 6) -> str:
        seen: dict[tuple[str, int], GuardHit] = {}
        for h in self.hits:
            seen.setdefault((h.op, h.line), h)
        parts = [h.describe() for h in list(seen.values())[:limit]]
        more = f" and {len(seen) - limit} more" if len(seen) > limit else ""
        return ", ".join(parts) + more


def _op_label(func) -> str:
    return "aten." + str(func.name()).split("::", 1)[-1] if hasattr(func, "name") else str(func)


def _disallowed(func, args, kwargs) -> str | None:
    """None when the op is allocation, a view or a layout copy; else "" or a short reason."""
    packet = func.overloadpacket.__name__ if hasattr(func, "overloadpacket") else str(func)
    if packet in VIEW_OPS:
        return None
    if packet in ALLOCATION_OPS:
        return None
    if packet == "fill_":
        return None if func._overloadname == "Scalar" else "fill_ with a tensor value"
    if packet in LAYOUT_COPY_OPS:
        return _layout_copy_problem(packet, args, kwargs)
    return ""


def _layout_copy_problem(packet: str, args, kwargs) -> str | None:
    src = args[1] if packet == "copy_" else args[0]
    if not isinstance(src, torch.Tensor):
        return "copy from a non-tensor"
    if packet == "copy_":
        dst = args[0]
        dtype, device = dst.dtype, dst.device
    else:
        dtype, device = kwargs.get("dtype") or src.dtype, kwargs.get("device") or src.device
    if dtype != src.dtype:
        return f"converts {src.dtype} to {dtype} (a cast is arithmetic; do it in the kernel)"
    if torch.device(device).type != src.device.type:
        return f"moves data from {src.device.type} to {torch.device(device).type}"
    return None
