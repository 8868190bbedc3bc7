"""Verification inputs with the problem's exact shapes, strides and dtypes (runs in the worker).

Inputs have exactly the problem's shapes and strides and their whole extent is filled (gaps
between strided rows and broadcast storage included), so a kernel sees the layout the model will
hand it. Each input sits between two guard zones in its storage, filled with NaN (floats) or a
sentinel: an unmasked load past either end pulls NaN into the result, and a store past either
end changes the zone, which the verifier sees because it compares the whole storage. Values come from a CPU generator seeded per trial, so a trial is reproducible on any
device. Non-float inputs (indices, masks) take their values from the trusted reference's own
`get_inputs()`, which knows their valid range.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..records import TensorSpec

FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


@dataclass(frozen=True)
class Trial:
    distribution: str  # "normal", "uniform", "large", "integer"
    seed: int

    def label(self) -> str:
        return f"{self.distribution} inputs, seed {self.seed}"


# Before timing: several seeds and value ranges. After timing: new seeds (so a cached output
# from the timing runs cannot match).
VERIFY_TRIALS = (Trial("normal", 0), Trial("normal", 1), Trial("uniform", 2), Trial("large", 3), Trial("integer", 4))
POST_TIMING_TRIALS = (Trial("normal", 1000), Trial("uniform", 1001))
TIMING_TRIAL = Trial("normal", 7)

GUARD_ELEMENTS = 256  # more than any sensible block overruns
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


def make_input(spec: TensorSpec, trial: Trial, reference_value: torch.Tensor | None = None) -> torch.Tensor:
    dtype = torch_dtype(spec.dtype)
    t = guarded_empty(spec.shape, spec.stride, dtype, spec.device)
    flat = t.as_strided((extent(spec.shape, spec.stride),), (1,))
    gen = torch.Generator().manual_seed(trial.seed * 7919 + len(spec.shape))
    n = flat.numel()
    if dtype in FLOAT_DTYPES:
        if trial.distribution == "uniform":
            values = torch.rand(n, generator=gen)
        elif trial.distribution == "large":
            values = torch.randn(n, generator=gen) * LARGE_SCALE[dtype]
        elif trial.distribution == "integer":
            values = torch.randint(-4, 5, (n,), generator=gen).float()
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


def make_inputs(specs: tuple[TensorSpec, ...], trial: Trial, reference_inputs: list | None = None) -> list[torch.Tensor]:
    refs = reference_inputs or []
    return [make_input(s, trial, refs[i] if i < len(refs) and isinstance(refs[i], torch.Tensor) else None) for i, s in enumerate(specs)]


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
