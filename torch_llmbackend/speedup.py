"""Speed-ups: how a speed-up is shown (and, below, computed) everywhere."""
from __future__ import annotations


def format_speedup(x: float) -> str:
    """`1.23x`, or two significant digits under 0.1 (`0.0024x`, not `0.00x`) so that a kernel far
    slower than its baseline still shows by how much."""
    return f"{x:.2f}x" if abs(x) >= 0.1 else f"{x:.2g}x"
