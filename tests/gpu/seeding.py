"""Compile a function with backend="llm" against a temporary store seeded with our kernels, the
way a user's cache would hold them: a first offline compile queues each subgraph's Problem with
the backend's own key; the kernel whose ops match is stored (not marked verified, so the backend
verifies it through the Evaluator on first use); the second compile resolves from the store."""
from __future__ import annotations

from typing import Callable

import torch

import torch_llmbackend
from torch_llmbackend.store.kernels import KernelEntry, KernelStore


def seed_and_compile(fn: Callable, inputs: list, target: str, cache_dir: str, pick_source: Callable, **options):
    """Returns (compiled, output of the second compile's first call, report rows, seeded keys).
    `pick_source(problem)` gives the kernel source for a queued Problem, or None to leave it."""
    opts = {"target": target, "cache_dir": cache_dir, "mode": "offline", "use_shipped_bundle": False}
    torch._dynamo.reset()
    torch.compile(fn, backend="llm", options=opts)(*inputs)
    seeded = []
    with KernelStore(cache_dir) as store:
        for problem in store.pending():
            source = pick_source(problem)
            if source is None:
                continue
            store.put(KernelEntry(key=problem.key, target=problem.target, signature=problem.signature, source=source,
                                  provenance={"author": "curated"}, problem=problem.to_json()))
            store.clear_pending(problem.key)
            seeded.append(problem.key)
    torch._dynamo.reset()
    compiled = torch.compile(fn, backend="llm", options={**opts, **options})
    out = compiled(*inputs)
    return compiled, out, torch_llmbackend.report(), seeded
