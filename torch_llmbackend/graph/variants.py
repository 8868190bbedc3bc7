"""The same subgraph at other sizes: where a kernel must also be right before it is trusted.

A dynamic subgraph is concretized at a spread of its guarded range: the smallest size, a prime,
a power of two, Dynamo's example and a larger one (`spread`). A static subgraph has no symbols,
so `resized` drafts it at another leading size: every size that is the first input's first
dim, or a multiple of it, is scaled to a prime just above it, and the draft is kept only if it
replays on fake tensors (a view whose sizes no longer fit is dropped). A draft that scales a
size which only happened to be a multiple is still a valid graph of the same structure, and a
kernel that reads its sizes from its inputs is right on it too.
"""
from __future__ import annotations

import logging

from ..records import Problem
from .record import RecordError, rebuild
from .render import make_problem, problem_from_signature
from .signature import signature
from .subgraph import Subgraph

log = logging.getLogger(__name__)

PRIME = 7
POWER_OF_TWO = 64
MAX_GROWTH = 16  # a variant's largest input holds at most this many times the example's elements
SMALL_NUMEL = 1 << 16  # ... or this many, whichever is more


def next_prime(n: int) -> int:
    k = n + 1
    while any(k % p == 0 for p in range(2, int(k ** 0.5) + 1)):
        k += 1
    return k


def spread(sub: Subgraph) -> list[dict[str, int]]:
    """Assignments of a dynamic subgraph's size symbols to verify a kernel at, the example last."""
    sizes = sub.sizes
    hints = dict(sizes.hints)
    first = next(iter(hints))
    points = [{k: max(sizes.lower[k], 2) for k in hints}, {k: PRIME for k in hints}, {k: POWER_OF_TWO for k in hints},
              {**hints, first: 4 * hints[first] + 1}]
    out: list[dict[str, int]] = []
    limit = max(MAX_GROWTH * _largest(sub, hints), SMALL_NUMEL)
    for p in points:
        p = {k: max(sizes.lower[k], v if sizes.upper[k] is None else min(v, sizes.upper[k])) for k, v in p.items()}
        if p != hints and p not in out and _largest(sub, p) <= limit:
            out.append(p)
    return out + [hints]


def _largest(sub: Subgraph, values: dict[str, int]) -> int:
    ins, _ = sub.specs_at(values)
    return max((s.numel for s in ins), default=0)


def problems_at(sub: Subgraph, points: list[dict[str, int]], target: str, capability: str,
                versions: dict[str, str], allow_tf32: bool) -> list[Problem]:
    """The concrete problem at each point; a point where the graph does not hold is skipped."""
    out = []
    for values in points:
        try:
            out.append(make_problem(sub, target, capability, versions, allow_tf32, values))
        except (RecordError, ValueError) as e:
            log.debug("sizes %s skipped: %s", values, e)
    return out


def resized(sub: Subgraph, target: str, capability: str, versions: dict[str, str], allow_tf32: bool) -> Problem | None:
    """A static subgraph at another leading size (see the module docstring), or None."""
    if sub.dynamic or not sub.input_specs or not sub.input_specs[0].shape:
        return None
    old = sub.input_specs[0].shape[0]
    if old < 2:
        return None
    new = next_prime(old)

    def resize(v: int) -> int:
        return v // old * new if v >= old and v % old == 0 else v

    draft = signature(sub, target, capability, versions, resize=resize)
    if allow_tf32:
        draft += "\nallow_tf32"
    try:
        again = rebuild(draft, canonical=False)  # our own draft: its outputs are recomputed
        text = signature(again, target, capability, versions) + ("\nallow_tf32" if allow_tf32 else "")
        problem = problem_from_signature(text)
    except RecordError as e:
        log.debug("no resized draft of %s: %s", sub.input_specs[0], e)
        return None
    if max(s.numel for s in problem.inputs) > max(MAX_GROWTH * max(s.numel for s in sub.input_specs), SMALL_NUMEL):
        return None
    return problem
