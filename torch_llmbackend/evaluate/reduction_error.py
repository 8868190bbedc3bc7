"""A fair judgement of long float32 reductions (the Gemmini target's arbiter; runs in the worker).

Gemmini accumulates a product in order over K, DIM terms at a time, as its hardware does. Eager's
CPU library sums in blocks, whose rounding error grows more slowly with K. Against a float64
reference (measured on this project's fp32 library matmul, WS, 64x32 outputs, three seeds per
distribution; the figures are in DESIGN.md) the in-order sum's error is eager's at K <= 256 and
grows to about sqrt(K/256) times eager's: L2 ratios 0.7-1.0 at K = 256, 1.1-2.2 at 1024, 2.1-5.4
at 4096, 3.7-6.7 at 16384, 5.3-7.1 at 65536 (worst max-error ratio 9.3, at 16384). Both sums are
correct float32 arithmetic; neither is 'the' answer.

So for a subgraph whose longest reduction is K, the float64 arbitration of verify.py
(no_worse_than_eager: L2 within 2x eager's, max within 4x) is widened by sqrt(K / 256): at
K = 16384 the bounds are 16x eager's L2 and 32x its max, at least 2.4x above what a correct
in-order schedule measured there. What is not float32 arithmetic still fails by orders of
magnitude (at K = 16384, L2 error over eager's: the result rounded to bfloat16 5.4e3, one element
off by 1e4 times eager's max error 1.5e3, a dropped K tile 6.2e4). The bounds stay eager's
(factor 1) up to K = 256. The report names this rule only where eager's own bounds did not pass.
"""
from __future__ import annotations

import functools
import math

from .verify import no_worse_than_eager

SHORT_REDUCTION = 256  # up to this K an in-order sum measured as exact as eager's


def reduction_factor(k: int) -> float:
    return max(1.0, math.sqrt(k / SHORT_REDUCTION))


def reduction_arbiter(k: int):
    """The float64 arbiter for a subgraph whose longest reduction has length `k` (None: the
    default one, for short reductions)."""
    factor = reduction_factor(k)
    if factor == 1.0:
        return None
    return functools.partial(_judge, k=k, factor=factor)


def _judge(got, want, exact64, k: int, factor: float) -> tuple[bool, str]:
    """Eager's own bounds first, so that the report names the rule that was needed."""
    ok, detail = no_worse_than_eager(got, want, exact64)
    if ok:
        return ok, detail
    rule = f"reduction rule (K={k}: eager's bounds x sqrt(K/{SHORT_REDUCTION}) = x{factor:.3g})"
    return no_worse_than_eager(got, want, exact64, factor=factor, rule=rule)
