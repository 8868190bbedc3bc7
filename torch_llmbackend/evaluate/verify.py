"""Candidate outputs against eager, one trial at a time (runs in the worker).

A trial makes fresh inputs, gives the reference and the candidate each their own exact clone, and
then demands: the same output structure; per output the same shape, dtype, device and strides
(dims of size 1 excepted); no output sharing storage with an input or with another output (unless
the reference's does); inputs left exactly as the reference left them; values within the dtype's
tolerance with NaN at the same places and inf at the same places with the same sign (one trial
feeds NaN and +-inf in: see inputs.py); and a magnitude check so that a zero, constant or
copied-input output cannot slip through where the reference is not like that.

Tolerances follow torch.testing's allclose semantics, |got - want| <= atol + rtol * |want|:
fp32 1e-4/1e-4, fp16/bf16 1e-2/1e-2, integers and bools exact. With integer-valued float inputs
and only exactly-representable arithmetic in the graph (adds, products, max, matmul of small
integers), fp32 results must match exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from .inputs import Trial, same_bytes

TOLERANCES = {
    torch.float32: (1e-4, 1e-4),
    torch.float64: (1e-7, 1e-7),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (1e-2, 1e-2),
}
# Relative L2 error above which the output's overall magnitude is wrong, even if every element
# is within atol (a tiny-valued reference against an all-zero output).
NORM_TOLERANCE = {torch.float32: 1e-2, torch.float64: 1e-4, torch.float16: 5e-2, torch.bfloat16: 5e-2}

# What the LLM can do about a NaN or inf that eager keeps and the kernel lost.
NONFINITE_HINT = (". Eager keeps NaN and +-inf from the inputs by IEEE rules; a max/min, comparison or select that "
                  "drops them differs (tl.maximum(x, 0.0) and x > 0 ? x : 0 turn NaN into 0: use "
                  "tl.maximum(x, 0.0, propagate_nan=tl.PropagateNan.ALL), or tl.where(x < 0, 0, x))")

# aten ops whose results are exact on small integer-valued floats (no rounding involved).
EXACT_OPS = frozenset(
    {
        "add", "sub", "mul", "neg", "relu", "abs", "maximum", "minimum", "clamp", "clamp_min", "clamp_max",
        "where", "cat", "stack", "mm", "bmm", "addmm", "matmul", "sum", "amax", "amin", "max", "min", "copy",
        "clone", "view", "_unsafe_view", "reshape", "permute", "transpose", "t", "expand", "unsqueeze", "squeeze",
        "slice", "select", "alias", "_to_copy", "constant_pad_nd", "sign", "square", "fill", "zeros_like",
        "full", "le", "lt", "ge", "gt", "eq", "ne", "logical_and", "logical_or", "logical_not",
    }
)


class CandidateFailure(Exception):
    """A verification failure: `stage` ("verify" or "guard") and text for the LLM."""

    def __init__(self, stage: str, reason: str, healthy: bool = True):
        super().__init__(reason)
        self.stage = stage
        self.reason = reason
        # False when the process is known to be damaged (a CUDA error poisons the context):
        # the worker is replaced. Wrong values, writes into inputs or a refused allocation keep
        # it: damage a survivor might carry could only fail later candidates (the reference
        # runs in the same process), never pass a wrong one, and heap corruption in the CPU
        # interpreter aborts the process, which is a crash anyway.
        self.healthy = healthy


@dataclass
class TrialStats:
    """The worst agreement seen so far, over all trials and outputs (for the report)."""

    trials: list[str] = field(default_factory=list)
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    rule: str = ""  # the loosest rule that passed an output (float64 arbitration), for the report

    def to_json(self) -> dict[str, Any]:
        return {"trials": self.trials, "max_abs_err": self.max_abs_err, "max_rel_err": self.max_rel_err, "rule": self.rule}

    def passed_by(self, rule: str) -> None:
        if _looseness(rule) >= _looseness(self.rule):
            self.rule = rule


def _looseness(rule: str) -> int:
    """Order of the float64 arbitration's rules, strictest first (a target's own rule last)."""
    if not rule:
        return -1
    return 0 if rule.startswith("within tolerance") else 1 if rule.startswith("no worse than eager") else 2


def exact_checkable(op_names: Sequence[str]) -> bool:
    """True when every op of the graph keeps integer-valued floats exact."""
    def short(name: str) -> str:
        parts = name.split(".")
        return parts[1] if len(parts) > 1 and parts[0] == "aten" else parts[0]

    return bool(op_names) and all(short(n) in EXACT_OPS for n in op_names)


def as_outputs(value: Any) -> tuple[list[Any], bool]:
    """(list of outputs, was a single tensor)."""
    if isinstance(value, torch.Tensor):
        return [value], True
    if isinstance(value, (tuple, list)):
        return list(value), False
    return [value], True


def check_trial(
    got_value: Any,
    want_value: Any,
    cand_inputs: Sequence[torch.Tensor],
    ref_inputs_after: Sequence[torch.Tensor],
    ref_inputs_before: Sequence[torch.Tensor],
    trial: Trial,
    stats: TrialStats,
    exact_ops: bool = False,
    exact_reference=None,
    arbiter=None,
) -> None:
    """Raise CandidateFailure at the first problem with this trial's outputs or inputs.
    `exact_reference()`, when given, returns the reference's outputs computed in float64; it is
    asked only when a floating output misses the tolerance, and `arbiter(got, want, exact64)`
    (default no_worse_than_eager) says whether the candidate is still as exact as eager."""
    where = f"on {trial.label()}"
    got, got_single = as_outputs(got_value)
    want, want_single = as_outputs(want_value)
    if got_single != want_single or len(got) != len(want):
        raise CandidateFailure("verify", f"forward returned {_shape_of_result(got_value)}, the reference returns {_shape_of_result(want_value)}")
    for i, (g, w) in enumerate(zip(got, want)):
        _check_layout(i, g, w)
    _check_aliasing(got, want, cand_inputs, ref_inputs_after)
    for i, (a, r) in enumerate(zip(cand_inputs, ref_inputs_after)):
        if not same_bytes(a, r):
            changed = "changed" if same_bytes(r, ref_inputs_before[i]) else "changed differently from the reference"
            raise CandidateFailure("verify", f"input {i} was {changed} by forward {where}; inputs must be left as the reference leaves them (no in-place writes)")
    exact = exact_ops and trial.distribution == "integer"
    for i, (g, w) in enumerate(zip(got, want)):
        label = f"output {i}" if len(got) > 1 or not got_single else "the output"
        problem = compare_values(g, w, exact=exact, stats=stats)
        numeric = w.is_floating_point() and not exact and problem is not None and "NaN" not in problem and "Inf" not in problem
        if numeric and exact_reference is not None:
            exact64 = exact_reference()
            if exact64 is not None:
                ok, detail = (arbiter or no_worse_than_eager)(g, w, as_outputs(exact64)[0][i])
                problem = None if ok else f"{problem} ({detail})"
                if ok:
                    stats.passed_by(f"{detail} ({trial.label()})")
        if problem is not None:
            raise CandidateFailure("verify", f"{label} ({_describe(w)}) differs from eager {where}: {problem}")
        problem = magnitude_problem(g, w, cand_inputs)
        if problem is not None:
            raise CandidateFailure("verify", f"{label} ({_describe(w)}) differs from eager {where}: {problem}")
    stats.trials.append(trial.label())


def no_worse_than_eager(got: torch.Tensor, want: torch.Tensor, exact64: torch.Tensor, factor: float = 1.0,
                        rule: str = "no worse than eager") -> tuple[bool, str]:
    """Arbitrate a float mismatch with a float64 reference. Eager is itself rounded: on long
    reductions or large-magnitude inputs a correct kernel that sums in another order can differ
    from eager by more than the tolerance while being as close to the exact answer. It passes
    when its error against float64 is within the tolerance, or at most twice eager's own error
    (overall, in the L2 norm) and nowhere more than four times eager's worst error plus the
    tolerance. `factor` widens both bounds (evaluate/reduction_error.py: long fp32 reductions)."""
    g, w, x = got.detach().double(), want.detach().double(), exact64.detach().double().to(got.device)
    atol, rtol = TOLERANCES.get(want.dtype, (1e-4, 1e-4))
    finite = torch.isfinite(x) & torch.isfinite(w)
    cand_err = torch.where(finite, (g - x).abs(), torch.zeros_like(g))
    eager_err = torch.where(finite, (w - x).abs(), torch.zeros_like(w))
    if bool((cand_err <= atol + rtol * x.abs()).all()):
        return True, "within tolerance of a float64 reference"
    norm_ok = float(cand_err.norm()) <= 2.0 * factor * float(eager_err.norm())
    worst_ok = float(cand_err.max()) <= 4.0 * factor * float(eager_err.max()) + atol
    detail = (f"{rule}: against a float64 reference, candidate error {float(cand_err.norm()):.3g} (L2), "
              f"{float(cand_err.max()):.3g} (max); eager's {float(eager_err.norm()):.3g}, {float(eager_err.max()):.3g}; "
              f"allowed {2.0 * factor:.3g}x eager's L2 and {4.0 * factor:.3g}x its max")
    return norm_ok and worst_ok, detail


def _shape_of_result(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "one tensor"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


def _describe(t: torch.Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')}, shape {tuple(t.shape)}"


def _check_layout(i: int, g: Any, w: torch.Tensor) -> None:
    if not isinstance(g, torch.Tensor):
        raise CandidateFailure("verify", f"output {i} is a {type(g).__name__}, not a tensor")
    if tuple(g.shape) != tuple(w.shape):
        raise CandidateFailure("verify", f"output {i} has shape {tuple(g.shape)}, expected {tuple(w.shape)}")
    if g.dtype != w.dtype:
        raise CandidateFailure("verify", f"output {i} has dtype {str(g.dtype).removeprefix('torch.')}, expected {str(w.dtype).removeprefix('torch.')}")
    if g.device.type != w.device.type:
        raise CandidateFailure("verify", f"output {i} is on {g.device.type}, expected {w.device.type}")
    dims = [d for d in range(w.dim()) if w.shape[d] > 1]
    if any(g.stride(d) != w.stride(d) for d in dims):
        raise CandidateFailure("verify", f"output {i} has strides {tuple(g.stride())}, expected {tuple(w.stride())} (allocate it with torch.empty_strided or like the reference)")


def _storage(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def _check_aliasing(got: list, want: list, cand_inputs: Sequence[torch.Tensor], ref_inputs: Sequence[torch.Tensor]) -> None:
    ref_in = {_storage(t): j for j, t in enumerate(ref_inputs)}
    cand_in = {_storage(t): j for j, t in enumerate(cand_inputs)}
    for i, (g, w) in enumerate(zip(got, want)):
        if g.numel() == 0:
            continue
        j = cand_in.get(_storage(g))
        if j is not None and ref_in.get(_storage(w)) != j:
            raise CandidateFailure("verify", f"output {i} shares memory with input {j}; allocate a new output tensor")
        for k in range(i):
            if got[k].numel() and _storage(got[k]) == _storage(g) and _storage(want[k]) != _storage(w):
                raise CandidateFailure("verify", f"outputs {k} and {i} share memory; each output needs its own tensor")


def compare_values(got: torch.Tensor, want: torch.Tensor, *, exact: bool, stats: TrialStats | None = None) -> str | None:
    """None when `got` matches `want` for its dtype, else what is wrong, with the first bad index."""
    if not want.is_floating_point():
        bad = got != want
        if not bool(bad.any()):
            return None
        idx = _first(bad)
        return f"{int(bad.sum())} of {want.numel()} elements differ (exact match required); first at index {idx}: got {got[idx].item()}, expected {want[idx].item()}"
    g, w = got.detach().double(), want.detach().double()
    g_nan, w_nan = torch.isnan(g), torch.isnan(w)
    if not torch.equal(g_nan, w_nan):
        nan_bad = g_nan != w_nan
        idx = _first(nan_bad)
        return (f"NaN at different places: {int(nan_bad.sum())} of {want.numel()} elements differ ({int(g_nan.sum())} NaN in "
                f"the output, {int(w_nan.sum())} expected); first at index {idx}: got {g[idx].item()}, expected {w[idx].item()}"
                f"{NONFINITE_HINT if bool((w_nan & ~g_nan).any()) else ''}")
    g_inf, w_inf = torch.isinf(g), torch.isinf(w)
    inf_bad = (g_inf | w_inf) & (g != w)
    if bool(inf_bad.any()):
        idx = _first(inf_bad)
        return (f"Inf at different places or with the wrong sign: {int(inf_bad.sum())} of {want.numel()} elements differ "
                f"({int(g_inf.sum())} inf in the output, {int(w_inf.sum())} expected); first at index {idx}: got {g[idx].item()}, "
                f"expected {w[idx].item()}{NONFINITE_HINT if bool((w_inf & ~g_inf).any()) else ''}")
    finite = ~(w_nan | w_inf | g_inf)
    atol, rtol = (0.0, 0.0) if exact else TOLERANCES.get(want.dtype, (1e-4, 1e-4))
    err = torch.where(finite, (g - w).abs(), torch.zeros_like(g))
    rel = err / w.abs().clamp_min(1e-12)
    max_abs = float(err.max()) if err.numel() else 0.0
    max_rel = float(torch.where(err > 0, rel, torch.zeros_like(rel)).max()) if err.numel() else 0.0
    if stats is not None:
        stats.max_abs_err = max(stats.max_abs_err, max_abs)
        stats.max_rel_err = max(stats.max_rel_err, max_rel)
    bad = err > atol + rtol * w.abs()
    if not bool(bad.any()):
        return None
    idx = _first(bad)
    tol = "exact match required (integer-valued inputs, exact arithmetic)" if exact else f"atol={atol:g} rtol={rtol:g}"
    hint = _content_hint(got, want)
    return (
        f"max abs error {max_abs:.3g}, max rel error {max_rel:.3g}; {int(bad.sum())} of {want.numel()} elements outside "
        f"{tol}; first bad index {idx}: got {g[idx].item():.6g}, expected {w[idx].item():.6g}{hint}"
    )


def magnitude_problem(got: torch.Tensor, want: torch.Tensor, inputs: Sequence[torch.Tensor]) -> str | None:
    """Catches outputs that are within elementwise tolerance only because the reference is tiny,
    and outputs that are an input copied through where the reference differs from that input."""
    if not want.is_floating_point() or want.numel() == 0:
        return None
    g, w = got.detach().double(), want.detach().double()
    finite = torch.isfinite(w)
    if not bool(finite.any()):
        return None
    gf, wf = g[finite], w[finite]
    w_norm = float(wf.norm())
    if w_norm > 0:
        rel = float((gf - wf).norm()) / w_norm
        if rel > NORM_TOLERANCE.get(want.dtype, 1e-2):
            return f"relative L2 error {rel:.3g} (output norm {float(gf.norm()):.3g}, expected {w_norm:.3g}){_content_hint(got, want)}"
    for j, x in enumerate(inputs):
        if x.shape == got.shape and x.dtype == got.dtype and torch.equal(got, x) and not torch.equal(want, x):
            return f"the output is a copy of input {j}, the reference's is not"
    return None


def _content_hint(got: torch.Tensor, want: torch.Tensor) -> str:
    if got.numel() == 0:
        return ""
    if not bool((got != 0).any()) and bool((want != 0).any()):
        return " (the output is all zeros)"
    flat = got.reshape(-1)
    if bool((flat == flat[0]).all()) and not bool((want.reshape(-1) == want.reshape(-1)[0]).all()):
        return f" (the output is constant {flat[0].item():.6g})"
    return ""


def _first(mask: torch.Tensor) -> tuple[int, ...]:
    flat = int(mask.reshape(-1).nonzero()[0, 0])
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), mask.shape))
