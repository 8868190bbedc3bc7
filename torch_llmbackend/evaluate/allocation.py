"""Allocations that fail in the worker: one clear line, no traceback (runs in the worker).

A subgraph too large for this machine's memory is not a broken candidate: its evaluation stops
(stage "crash", as any out-of-memory) with one line saying what asked for how many bytes, the
worker stays in service, and the caller falls back for that subgraph (the backend logs one
warning with this text).
"""
from __future__ import annotations

import re

from .verify import CandidateFailure

_TORCH = re.compile(r"tried to allocate (\d+) bytes")
_NUMPY = re.compile(r"Unable to allocate ([\d.]+) ([KMGTP]?i?B)")
_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


def is_allocation_failure(e: BaseException) -> bool:
    if isinstance(e, MemoryError):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and ("can't allocate memory" in text or "DefaultCPUAllocator" in text
                                            or "out of memory" in text.lower())


def requested_bytes(e: BaseException) -> int | None:
    """The bytes the failed request asked for, where the allocator's message says."""
    nbytes = getattr(e, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    text = str(e)
    if m := _TORCH.search(text):
        return int(m.group(1))
    if m := _NUMPY.search(text):
        return int(float(m.group(1)) * _UNITS.get(m.group(2), 1))
    return None


def memory_failure(e: BaseException, where: str, frames: str = "") -> CandidateFailure:
    """The failure naming the layer (the one a GemminiMemoryError names, else `where`) and the
    bytes asked for; `frames` (the candidate's lines) only when the error names no layer."""
    what = getattr(e, "what", None) or where
    nbytes = requested_bytes(e)
    asked = f"{nbytes:,} bytes" if nbytes is not None else "memory"
    cause = str(getattr(e, "cause", "") or e).strip().splitlines()
    cause_text = f" ({cause[0][:200]})" if cause and not getattr(e, "what", None) else ""
    text = f"out of memory: {what} asked for {asked}, which could not be allocated{cause_text}"
    return CandidateFailure("crash", text + (f"\n{frames}" if frames and not getattr(e, "what", None) else ""))


def subgraph_name(problem) -> str:
    """'the subgraph 1a2b3c4d5e6f (addmm, relu, addmm) on float32[64, 512], ...' for messages."""
    ops = list(dict.fromkeys(op.split(".")[1] if op.startswith("aten.") else op for op in problem.ops))
    shown = ", ".join(ops[:6]) + (", ..." if len(ops) > 6 else "")
    inputs = ", ".join(f"{s.dtype}{list(s.shape)}" for s in problem.inputs[:3]) + (", ..." if len(problem.inputs) > 3 else "")
    return f"the subgraph {problem.key[:12]} ({shown}) on {inputs}"
