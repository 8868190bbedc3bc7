"""Kernels across sizes: a winner found at one size is looked up by its structural key at every
other size, proven there in a worker, and stored per shape; a dynamic graph's kernel runs in
the size buckets where it was proven and won, the baseline elsewhere.

    candidates(store, problem)            winners of the same structure, at other sizes
    prove(evaluator, store, problem, e)   verified and timed at problem's sizes -> entry | reason

A proof is stored as an ordinary entry under the concrete key (so the next process hits it with
no worker), a refusal as a note naming the kernel's source, the sizes and why, so that a kernel
that fails at some size is not tried there again on this machine.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging

from .records import Evaluation, Problem
from .store.kernels import KernelEntry, KernelStore

log = logging.getLogger(__name__)

MAX_CANDIDATES = 3  # winners of one structure tried at a new size, newest first


def candidates(store: KernelStore, problem: Problem, use_shipped: bool) -> list[KernelEntry]:
    """Winners of `problem`'s structure found at other sizes, one per distinct source."""
    if not problem.structural_key:
        return []
    found = store.by_structure(problem.structural_key)
    if use_shipped:
        found += shipped_by_structure().get(problem.structural_key, [])
    seen, out = set(), []
    for e in sorted(found, key=lambda e: -e.created):
        if e.key != problem.key and e.source_hash() not in seen and e.target == problem.target:
            seen.add(e.source_hash())
            out.append(e)
    return out[:MAX_CANDIDATES]


def _refusal_name(problem: Problem, entry: KernelEntry, machine: dict[str, str]) -> str:
    ident = hashlib.sha256(json.dumps(machine, sort_keys=True).encode()).hexdigest()[:12]
    return f"refused:{problem.key}:{entry.source_hash()[:16]}:{ident}"


def refusal(store: KernelStore, problem: Problem, entry: KernelEntry, machine: dict[str, str]) -> str | None:
    note = store.get_note(_refusal_name(problem, entry, machine))
    return None if note is None else str(note.get("reason", "refused earlier"))


def prove(evaluator, store: KernelStore, problem: Problem, entry: KernelEntry, machine: dict[str, str]) -> KernelEntry | str:
    """`entry`'s source verified and timed at `problem`'s sizes: the new entry (stored), or why
    not (stored as a refusal). A refusal recorded earlier on this machine is not re-run."""
    earlier = refusal(store, problem, entry, machine)
    if earlier is not None:
        return earlier
    ev: Evaluation = evaluator.evaluate(problem, entry.source)
    if not ev.ok:
        reason = f"{ev.stage}: {_first_line(ev.reason)}"
        log.info("kernel %s is refused at %s: %s", entry.key[:16], problem.shape_text(), reason)
        store.put_note(_refusal_name(problem, entry, machine), {"reason": reason, "sizes": problem.shape_text(),
                                                               "kernel": entry.key})
        return reason
    proven = dataclasses.replace(
        entry, key=problem.key, signature=problem.signature, timings=ev.timings, verification=ev.verification,
        verified_on=[machine], problem=problem.to_json(), trusted=True,  # verified here, just now
        provenance={**entry.provenance, "proven_from": entry.key, "proven_sizes": problem.shape_text()})
    if not store.readonly:
        store.put(proven)
    return proven


@functools.lru_cache(maxsize=1)
def shipped_by_structure() -> dict[str, list[KernelEntry]]:
    """The shipped bundle's kernels by structural key, each rebuilt from its signature alone."""
    from .graph.record import RecordError
    from .graph.render import problem_from_signature
    from .store.bundle import shipped_entries

    out: dict[str, list[KernelEntry]] = {}
    for entry in shipped_entries().values():
        try:
            problem = problem_from_signature(entry.signature)
        except RecordError as e:
            log.warning("shipped kernel %s: %s; it is used at its own sizes only", entry.key[:16], e)
            continue
        if problem.key != entry.key:
            log.warning("shipped kernel %s: its record does not hash to its key; not reused", entry.key[:16])
            continue
        out.setdefault(problem.structural_key, []).append(
            dataclasses.replace(entry, verified_on=[], problem=problem.to_json()))
    return out


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0][:200] if text and text.strip() else ""
