"""Speed-ups: baseline time / candidate time, computed and shown the same way everywhere."""
from __future__ import annotations

from typing import Any


def speedup(base: float | None, cand: float | None) -> float | None:
    """base / cand, or None unless both were measured (a missing or zero time has no ratio)."""
    if not base or not cand or base <= 0 or cand <= 0:
        return None
    return base / cand


def median_of(timings: dict[str, Any], name: str) -> float | None:
    """The median of `timings[name]` (a Timing's JSON), or None when it was not timed."""
    t = timings.get(name)
    return t.get("median") if isinstance(t, dict) else None


def speedup_of(timings: dict[str, Any], baseline: str, candidate: str = "candidate") -> float | None:
    """How much faster `candidate` ran than `baseline` in a timings record (name -> Timing JSON)."""
    return speedup(median_of(timings, baseline), median_of(timings, candidate))


def speedups(timings: dict[str, Any], names: tuple[str, ...]) -> list[float]:
    """The speed-ups of the candidate over those of `names` that were timed."""
    return [s for s in (speedup_of(timings, n) for n in names) if s is not None]


def format_speedup(x: float) -> str:
    """`1.23x`, or two significant digits under 0.1 (`0.0024x`, not `0.00x`) so that a kernel far
    slower than its baseline still shows by how much."""
    return f"{x:.2f}x" if abs(x) >= 0.1 else f"{x:.2g}x"
