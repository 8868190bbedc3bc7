"""What a search of one subgraph hands on: a plain record, built by either search loop.

Like Inductor's BenchmarkRequest (torch/_inductor/autotune_process.py), the record is what
crosses the boundary: the kernel search (agent/search.py) and the Gemmini workflow
(agent/gemmini_search.py) each fill one `SearchOutcome`, the knowledge link (agent/knowledge.py)
reads only that, and the compile gets its `SearchResult`. Nothing outside a loop reaches into it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..records import Evaluation, Problem
from . import prompts
from .provider import Usage


@dataclass
class SearchResult:
    key: str
    entry: Any  # store.kernels.KernelEntry of the winner, or None
    best: Evaluation | None  # the best verified evaluation, else the furthest-reaching failure
    reason: str  # why the search stopped, in words for the compile report
    rounds: int
    usage: dict[str, Any]  # Usage.to_json(): requests, prompt/completion/total tokens, cost
    transcript_path: str | None = None
    speedup: float | None = None  # the winner's speed-up over the faster baseline

    @property
    def ok(self) -> bool:
        return self.entry is not None


@dataclass
class SearchOutcome:
    """One finished search: what it found, why it stopped, and what the knowledge base learns."""

    problem: Problem
    reason: str
    rounds: int
    usage: Usage  # live: a lesson asked after the outcome is built still counts
    entry: Any = None
    best: Evaluation | None = None
    speedup: float | None = None
    transcript_path: str | None = None
    device: str = ""  # the device as the knowledge base's rooflines name it
    attempts: list = field(default_factory=list)  # store.knowledge.records.Attempt, one per evaluated reply
    lesson_request: list[dict[str, str]] = field(default_factory=list)  # the conversation a lesson is asked on

    def result(self) -> SearchResult:
        return SearchResult(key=self.problem.key, entry=self.entry, best=self.best, reason=self.reason,
                            rounds=self.rounds, usage=self.usage.to_json(), transcript_path=self.transcript_path,
                            speedup=self.speedup)


def knowledge_attempt(evaluation: Evaluation, text: str, target: str, *, won: bool, technique: str | None = None,
                      **speedups: float | None) -> Any:
    """The knowledge base's record of one evaluated reply: its techniques (classified from
    `text`, else the named `technique`), whether it verified or why not, and its speed-ups."""
    from ..store.knowledge.records import Attempt
    from ..store.knowledge.taxonomy import classify_techniques

    techniques = classify_techniques(text, target) or ([technique] if technique else [])
    return Attempt(techniques=techniques, verified=evaluation.ok,
                   reason="ok" if evaluation.ok else f"{evaluation.stage}: {prompts.first_line(evaluation.reason)}",
                   won=won, **speedups)


def device_name(problem: Problem) -> str:
    """The device the problem runs on, named as the knowledge base's rooflines expect it."""
    if problem.target == "gemmini":
        return "gemmini"
    device = problem.inputs[0].device if problem.inputs else "cpu"
    if device == "cuda":
        try:
            import torch

            if torch.cuda.is_available():
                return torch.cuda.get_device_name()
        except Exception:
            pass
    return device
