"""The helper Gemmini candidate modules use to build and call their C code.

A candidate for the gemmini target is one Python module: its C source (which includes
"include/gemmini.h" and defines one function) sits in a string, `GemminiKernel` builds it with
gemmini_runtime for the right configuration, and `forward` allocates outputs and calls it:

    from torch_llmbackend.targets.gemmini_kernel import GemminiKernel
    C_SRC = r'''
    #include "include/gemmini.h"
    void kernel(const elem_t *a, const elem_t *b, elem_t *c) { tiled_matmul_auto(...); }
    '''
    class ModelNew(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = GemminiKernel(C_SRC, "kernel", config="fp32")
        def forward(self, a, b):
            c = torch.empty(a.shape[0], b.shape[1])
            self.k(a.contiguous(), b.contiguous(), c)   # CPU tensors; c is written in place
            return c

Every call returns the simulator's Stats and is also handed to each active `recording()`, so
the target can report cycles, MACs and utilization of one forward (several calls add up).
This module lives under targets/, whose frames the evaluator's run-time guard trusts: the
tensor-to-array conversion gemmini_runtime does here is the launcher's, not the candidate's.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Iterator

# config name per dtype of the data a subgraph computes on
CONFIG_FOR_DTYPE = {"float32": "fp32", "int8": "int8"}

_local = threading.local()


@dataclass
class Recording:
    """The stats of every kernel call made while it was active (in call order)."""

    calls: list = field(default_factory=list)  # (kernel name, gemmini_runtime.Stats)

    @property
    def cycles(self) -> int:
        return sum(s.cycles for _, s in self.calls)

    @property
    def macs(self) -> int:
        return sum(s.macs for _, s in self.calls)

    @property
    def dim(self) -> int:
        return self.calls[0][1].dim if self.calls else 0

    @property
    def utilization(self) -> float:
        """Useful MACs over what the array could do in the cycles of all calls."""
        peak = self.cycles * self.dim * self.dim
        return self.macs / peak if peak else 0.0

    def summary(self) -> dict:
        """A JSON-friendly digest (what report() and the LLM's feedback show)."""
        spad = max((s.spad_rows_used for _, s in self.calls), default=0)
        acc = max((s.acc_rows_used for _, s in self.calls), default=0)
        first = self.calls[0][1] if self.calls else None
        return {
            "cycles": self.cycles, "macs": self.macs, "utilization": round(self.utilization, 4),
            "dim": self.dim, "calls": len(self.calls),
            "instructions": sum(s.instructions for _, s in self.calls),
            "bytes_loaded": sum(s.bytes_loaded for _, s in self.calls),
            "bytes_stored": sum(s.bytes_stored for _, s in self.calls),
            "spad_rows_used": spad, "spad_rows": first.spad_rows if first else 0,
            "acc_rows_used": acc, "acc_rows": first.acc_rows if first else 0,
            "config": first.config if first else "",
            "load_busy": sum(s.load_busy for _, s in self.calls),
            "execute_busy": sum(s.execute_busy for _, s in self.calls),
            "store_busy": sum(s.store_busy for _, s in self.calls),
        }


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Collect the stats of the kernel calls made in this thread inside the block."""
    stack = _stack()
    rec = Recording()
    stack.append(rec)
    try:
        yield rec
    finally:
        stack.remove(rec)


def _stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


class GemminiMemoryError(MemoryError):
    """A buffer of a Gemmini module could not be allocated; says which one and how large."""

    def __init__(self, what: str, nbytes: int, cause: BaseException):
        super().__init__(f"{what}: cannot allocate {nbytes:,} bytes")
        self.what, self.nbytes, self.cause = what, nbytes, cause


def workspace(shape, dtype, what: str):
    """torch.empty(shape, dtype=dtype) for a Gemmini module's buffer (the simulated DRAM it
    computes in); a failed allocation raises GemminiMemoryError naming `what` (the layer)."""
    import math

    import torch

    try:
        return torch.empty(shape, dtype=dtype)
    except (RuntimeError, MemoryError) as e:
        if not isinstance(e, MemoryError) and "allocate" not in str(e):
            raise
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        nbytes = math.prod(dims) * torch.empty((), dtype=dtype).element_size()
        raise GemminiMemoryError(what, nbytes, e) from None


class GemminiKernel:
    """One C function built against gemmini_runtime for a configuration ("fp32" or "int8").

    Calling it runs the function on the simulator, from a reset accelerator, with CPU tensors
    (or numpy arrays) as its pointer arguments and Python numbers as its scalars; pointer
    arguments must be contiguous and of the dtype their C type names (elem_t: float32 in fp32,
    int8 in int8; acc_t: float32 in fp32, int32 in int8). Raises gemmini_runtime's BuildError
    for C that does not compile and GemminiProgramError for an invalid program."""

    def __init__(self, c_source: str, name: str = "kernel", config: str = "fp32"):
        import gemmini_runtime

        # the C is host code that runs in this process: checked here too, wherever the module
        # came from (the static checks of its Python saw the same string)
        from ..evaluate.static_checks_c import check_c_source
        from ..evaluate.violation import format_violations

        violations = check_c_source(c_source, dialect="gemmini") if isinstance(c_source, str) else None
        if violations or violations is None:
            raise ValueError("refused to build the Gemmini C source: " + (format_violations(violations) if violations else "it is not a string"))
        self.name, self.config = name, config
        self._kernel = gemmini_runtime.build_function(c_source, name, config=config)
        self.last_stats = None

    def __call__(self, *args):
        stats = self._kernel(*args)
        self.last_stats = stats
        for rec in _stack():
            rec.calls.append((self.name, stats))
        return stats

    def __repr__(self) -> str:
        return f"GemminiKernel({self.name!r}, config={self.config!r})"
