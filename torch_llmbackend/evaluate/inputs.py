"""Verification inputs with the problem's exact shapes, strides and dtypes (runs in the worker).

Inputs have exactly the problem's shapes and strides and their whole extent is filled (gaps
between strided rows and broadcast storage included), so a kernel sees the layout the model will
hand it. Each input sits between two guard zones in its storage, filled with NaN (floats) or a
sentinel: an unmasked load past either end pulls NaN into the result, and a store past either
end changes the zone, which the verifier sees because it compares the whole storage. Values come from a CPU generator seeded per trial, so a trial is reproducible on any
device. Non-float inputs (indices, masks) take their values from the trusted reference's own
`get_inputs()`, which knows their valid range.

One trial plants NaN, +inf and -inf among normal values in every float input: users' data has
them, eager propagates them by IEEE rules, and a kernel that drops them (a relu written as
`tl.maximum(x, 0)` or `x > 0 ? x : 0` turns NaN into 0) computes something else. Where eager
itself has no single answer on such inputs the trial is left out (see `nonfinite_applies`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..records import TensorSpec

FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


@dataclass(frozen=True)
class Trial:
    distribution: str  # "normal", "uniform", "large", "integer", "nonfinite"
    seed: int

    def label(self) -> str:
        if self.distribution == "nonfinite":
            return f"normal inputs with NaN, +inf and -inf planted, seed {self.seed}"
        return f"{self.distribution} inputs, seed {self.seed}"


# Before timing: several seeds and value ranges. After timing: new seeds (so a cached output
# from the timing runs cannot match).
NONFINITE_TRIAL = Trial("nonfinite", 5)
VERIFY_TRIALS = (Trial("normal", 0), Trial("normal", 1), Trial("uniform", 2), Trial("large", 3), Trial("integer", 4), NONFINITE_TRIAL)
POST_TIMING_TRIALS = (Trial("normal", 1000), Trial("uniform", 1001))
TIMING_TRIAL = Trial("normal", 7)

GUARD_ELEMENTS = 256  # more than any sensible block overruns
NONFINITE_EVERY = 32  # one element in this many of a float input is NaN, +inf or -inf (at least 3)

# Ops for which eager has no one answer on NaN/inf inputs, so a kernel cannot be held to it:
# which element a NaN displaces in a sort or a selection is a convention of each implementation
# (eager's own CPU and CUDA kernels have disagreed on median and topk), and histograms and
# sampling refuse non-finite values outright.
NONFINITE_CONVENTION_OPS = frozenset(
    {
        "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique", "_unique2",
        "unique_consecutive", "unique_dim", "searchsorted", "bucketize", "histc", "histogram", "multinomial",
        "nanquantile", "quantile",
    }
)
LARGE_SCALE = {torch.float32: 1e3, torch.float64: 1e3, torch.float16: 30.0, torch.bfloat16: 30.0}


def torch_dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"unknown dtype {name!r}")
    return dtype


def storage_view(t: torch.Tensor) -> torch.Tensor:
    """A flat 1-D view of all of `t`'s storage (what a kernel with raw pointers can touch)."""
    n = t.untyped_storage().nbytes() // t.element_size()
    return t.as_strided((n,), (1,), 0)


def extent(shape: tuple[int, ...], stride: tuple[int, ...]) -> int:
    """Elements a strided tensor spans (0 when empty)."""
    if any(s == 0 for s in shape):
        return 0
    return 1 + sum((n - 1) * st for n, st in zip(shape, stride))


def guarded_empty(shape, stride, dtype: torch.dtype, device) -> torch.Tensor:
    """An uninitialised tensor with guard zones of GUARD_ELEMENTS on both sides, filled."""
    n = extent(tuple(shape), tuple(stride))
    buf = torch.empty(n + 2 * GUARD_ELEMENTS, dtype=dtype, device=device)
    fill = float("nan") if dtype.is_floating_point else (True if dtype == torch.bool else 0x5A)
    buf[:GUARD_ELEMENTS].fill_(fill)
    buf[GUARD_ELEMENTS + n :].fill_(fill)
    return buf.as_strided(tuple(shape), tuple(stride), GUARD_ELEMENTS)


def make_input(spec: TensorSpec, trial: Trial, reference_value: torch.Tensor | None = None, index: int = 0) -> torch.Tensor:
    """Input number `index` of a trial: each input has values of its own (with equal values a
    kernel that reads x twice instead of x and y would pass)."""
    dtype = torch_dtype(spec.dtype)
    t = guarded_empty(spec.shape, spec.stride, dtype, spec.device)
    flat = t.as_strided((extent(spec.shape, spec.stride),), (1,))
    gen = torch.Generator().manual_seed(trial.seed * 7919 + 104729 * index + len(spec.shape))
    n = flat.numel()
    if dtype in FLOAT_DTYPES:
        if trial.distribution == "uniform":
            values = torch.rand(n, generator=gen)
        elif trial.distribution == "large":
            values = torch.randn(n, generator=gen) * LARGE_SCALE[dtype]
        elif trial.distribution == "integer":
            values = torch.randint(-4, 5, (n,), generator=gen).float()
        elif trial.distribution == "nonfinite":
            values = _with_nonfinite(torch.randn(n, generator=gen), gen)
        else:
            values = torch.randn(n, generator=gen)
    elif dtype == torch.bool:
        values = torch.rand(n, generator=gen) < 0.5
    elif reference_value is not None and reference_value.numel() == t.numel():
        # indices and other integers: the reference knows their valid range
        t.copy_(reference_value.reshape(t.shape).to(device=t.device, dtype=dtype))
        return t
    else:
        values = torch.randint(0, 8, (n,), generator=gen)
    flat.copy_(values.to(dtype))
    return t


def _with_nonfinite(values: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """`values` with NaN, +inf and -inf at random places, the three in equal numbers."""
    n = values.numel()
    places = torch.randperm(n, generator=gen)[: min(n, max(3, n // NONFINITE_EVERY))]
    values[places[0::3]] = float("nan")
    values[places[1::3]] = float("inf")
    values[places[2::3]] = float("-inf")
    return values


def nonfinite_applies(ops: tuple[str, ...], inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...]) -> str | None:
    """None when the NaN/inf trial holds a kernel to eager's answer, else why it is left out.
    Integer outputs are left out too: from NaN or inf they come either from a float-to-integer
    conversion, which C++ leaves undefined (eager's CPU and CUDA results differ), or from an
    index among NaNs (argmax, max.dim), whose tie rule is again each implementation's own."""
    if not any(torch_dtype(s.dtype) in FLOAT_DTYPES for s in inputs):
        return "no float input"
    short = {name.split(".")[1] if name.startswith("aten.") and "." in name else name.split(".")[0] for name in ops}
    convention = sorted(short & NONFINITE_CONVENTION_OPS)
    if convention:
        return f"eager has no one answer on NaN/inf for {', '.join(convention)}"
    if any(not torch_dtype(s.dtype).is_floating_point and torch_dtype(s.dtype) != torch.bool for s in outputs):
        return "an integer output (undefined conversion or index from NaN/inf)"
    return None


def make_inputs(specs: tuple[TensorSpec, ...], trial: Trial, reference_inputs: list | None = None) -> list[torch.Tensor]:
    refs = reference_inputs or []
    return [make_input(s, trial, refs[i] if i < len(refs) and isinstance(refs[i], torch.Tensor) else None, index=i)
            for i, s in enumerate(specs)]


def clone_exact(t: torch.Tensor) -> torch.Tensor:
    """Same shape, strides, storage offset, dtype, device and storage bytes (guard zones
    included), in a new storage."""
    buf = torch.empty(t.untyped_storage().nbytes() // t.element_size(), dtype=t.dtype, device=t.device)
    buf.copy_(storage_view(t))
    return buf.as_strided(t.shape, t.stride(), t.storage_offset())


def same_bytes(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bitwise equality of two tensors' whole storages (NaNs included)."""
    fa, fb = storage_view(a), storage_view(b)
    return fa.shape == fb.shape and torch.equal(fa.view(torch.uint8), fb.view(torch.uint8))
