"""Plans: what a compile decided for one Dynamo graph, kept so the next process on this machine
compiles it without repeating the work.

A plan is kept for a graph none of our kernels applies to: it names what ran the graph whole
(Inductor, exactly as torch.compile(backend="inductor") runs it, or Dynamo's graph run eagerly)
and every subgraph key that was looked up and missed. A later compile of the same graph, same
options, device and versions goes straight to that choice: no AOTAutograd trace of ours, no
partition, no worker, no timing. A plan whose inputs changed is ignored: its key covers the
graph's code, its inputs' shapes and dtypes, the device, the versions and the options that
change a choice, and before use every subgraph key it lists is looked up again, so a kernel
stored since (by a search, a batch import or a bundle) makes the plan stale.

Plans live in the kernel store as sealed notes (`llmbackend cache plans` lists and clears them).
Only offline compiles use them: in search mode a miss is the searcher's to try again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from .options import Options
from .store.kernels import KernelStore

log = logging.getLogger(__name__)

PREFIX = "plan:"
FORMAT = 1
# Options that change what a compile decides for a graph (cache_dir, budgets and logging do not).
_CHOICE_OPTIONS = ("target", "fallback", "prefer", "cuda_graphs", "min_subgraph_ops", "use_shipped_bundle",
                   "baselines", "allow_libraries")


@dataclass
class Plan:
    runs: str  # "inductor" or "eager": what runs the whole graph
    why: str  # the compile's reason, for the report
    looked_up: list[str] = field(default_factory=list)  # concrete subgraph keys that missed
    structures: list[str] = field(default_factory=list)  # their structural keys
    replay: str = ""  # "inductor" or "eager": that one is replayed as CUDA graphs
    created: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "runs": self.runs, "why": self.why, "looked_up": self.looked_up,
                "structures": self.structures, "replay": self.replay, "created": self.created}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Plan | None":
        if d.get("format") != FORMAT or d.get("runs") not in ("inductor", "eager"):
            return None
        replay = d.get("replay", "")
        return Plan(str(d["runs"]), str(d.get("why", "")), [str(k) for k in d.get("looked_up", [])],
                    [str(k) for k in d.get("structures", [])], replay if replay in ("inductor", "eager") else "",
                    float(d.get("created", 0.0)))


def plan_key(gm: torch.fx.GraphModule, example_inputs, opts: Options) -> str:
    """The identity of one compile's inputs: graph code, input specs, device, versions, options."""
    parts = [gm.code, _package_version(), torch.__version__, _triton_version(),
             json.dumps({k: getattr(opts, k, None) for k in _CHOICE_OPTIONS}, sort_keys=True, default=str),
             f"grad={torch.is_grad_enabled()}", f"tf32={torch.backends.cuda.matmul.allow_tf32}"]
    for t in example_inputs:
        if isinstance(t, torch.Tensor):
            parts.append(f"{t.dtype}{tuple(map(str, t.shape))}{tuple(map(str, t.stride()))}{t.device.type}"
                         f"{t.requires_grad}")
        else:
            parts.append(f"{type(t).__name__}:{t}")
    devices = {t.device.type for t in example_inputs if isinstance(t, torch.Tensor)}
    if "cuda" in devices and torch.cuda.is_available():
        parts.append(torch.cuda.get_device_name())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load(store: KernelStore, key: str) -> Plan | None:
    """The plan for `key`, or None when absent, unreadable or stale (a kernel for one of its
    subgraphs has been stored since it was made)."""
    note = store.get_note(PREFIX + key)
    plan = Plan.from_json(note) if note is not None else None
    if plan is None:
        return None
    for k in plan.looked_up:
        if store.get(k) is not None:
            log.info("plan %s is stale: a kernel for subgraph %s was stored since", key[:12], k[:12])
            return None
    for s in plan.structures:
        if store.by_structure(s):
            log.info("plan %s is stale: a kernel of structure %s was stored since", key[:12], s[:12])
            return None
    return plan


def save(store: KernelStore, key: str, plan: Plan) -> None:
    try:
        store.put_note(PREFIX + key, plan.to_json())
    except Exception as e:  # a plan only saves time; failing to keep one costs nothing else
        log.warning("could not save the compile plan (%s: %s)", type(e).__name__, e)


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("torch-llmbackend")
    except Exception:
        return "source"


def _triton_version() -> str:
    try:
        import triton

        return triton.__version__
    except ImportError:
        return "none"
