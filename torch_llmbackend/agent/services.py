"""What every search of one compile shares, whichever loop runs it (agent/search.py's kernel
search or agent/gemmini_search.py's two-phase workflow): one provider, one warning when the
endpoint dies, the usage of all requests, the evaluator behind one lock, the store, the machine
winners are trusted on, and the knowledge link.

Both loops send their requests through `chat`, so the compile's usage adds up and a dead
endpoint stops every search still running.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from ..options import Options
from ..records import Evaluation, Problem
from .knowledge import KnowledgeLink
from .provider import EndpointUnavailable, Provider, Reply, Usage
from .winners import evaluate_safely

log = logging.getLogger(__name__)


def not_shape_generic(problem: Problem, other: Problem, at: Evaluation) -> Evaluation:
    """A candidate right at the prompt's sizes but not at others: refused, and told why."""
    reason = (f"correct at the prompt's sizes {problem.shape_text()} but not at {other.shape_text()} "
              f"({at.stage}: {at.reason.strip()[:600]}). The kernel must serve every size: read sizes from the "
              "inputs at run time, pass them to the kernel as arguments, mask the tails, and bake no prompt size in.")
    return Evaluation(False, "verify", reason, verification={"shape_generic": False, "other_sizes": other.shape_text()})


class SearchServices:
    def __init__(self, options: Options, evaluator: Any, store: Any, kb: Any = None, *,
                 provider: Provider | None = None, machine: dict[str, str] | None = None) -> None:
        """`machine`: the identity the backend trusts verified kernels under; winners are stored
        as verified on it, so that a fresh process on this machine does not verify them again."""
        self.options = options
        self.machine = machine
        self.evaluator = evaluator
        self.store = store
        self.knowledge = KnowledgeLink(kb, options)
        self.usage = Usage()  # all requests of these searches (one compile)
        self._provider = provider
        self._dead: EndpointUnavailable | None = None
        self._lock = threading.Lock()
        # One evaluation at a time: concurrent timing on one device would make timings lie.
        self._evaluate_lock = threading.Lock()
        # problem key -> the same subgraph at other sizes; a candidate must be right there too
        self.variants: dict[str, list[Problem]] = {}

    @property
    def endpoint_error(self) -> EndpointUnavailable | None:
        return self._dead

    def provider(self) -> Provider:
        with self._lock:
            if self._provider is None:
                self._provider = Provider(self.options)  # raises EndpointUnavailable without a model
            return self._provider

    def endpoint_failed(self, error: EndpointUnavailable) -> None:
        with self._lock:
            first, self._dead = self._dead is None, self._dead or error
        if first:
            log.warning("LLM endpoint unavailable: %s. No more LLM requests in this compile; "
                        "subgraphs without a cached kernel fall back.", error)

    def chat(self, messages: list[dict[str, str]], usage: Usage, deadline: float | None) -> Reply:
        """One request; its usage is added to `usage` (the caller's search) and to the compile's."""
        if self._dead is not None:
            raise self._dead
        try:
            reply = self.provider().chat(messages, deadline=deadline)
        except EndpointUnavailable as e:
            self.endpoint_failed(e)
            raise
        with self._lock:
            usage.add(reply.usage)
            self.usage.add(reply.usage)
        return reply

    def evaluate(self, problem: Problem, source: str) -> Evaluation:
        """The candidate at the problem's sizes, then at the subgraph's other sizes."""
        with self._evaluate_lock:
            ev = evaluate_safely(self.evaluator, problem, source)
            for other in self.variants.get(problem.key, []) if ev.ok else []:
                at = evaluate_safely(self.evaluator, other, source)
                if not at.ok and at.stage != "timing":
                    return not_shape_generic(problem, other, at)
            return ev

    def evaluate_once(self, problem: Problem, source: str) -> Evaluation:
        """The candidate at the problem's sizes only (the Gemmini workflow's yardstick is cycles
        at those sizes)."""
        with self._evaluate_lock:
            return evaluate_safely(self.evaluator, problem, source)

    def baselines(self, problem: Problem) -> dict:
        with self._evaluate_lock:
            try:
                return dict(self.evaluator.baselines(problem))
            except Exception as e:
                log.warning("baseline timing failed for %s: %s", problem.key[:16], e)
                return {}
