"""The agent's link to the knowledge base (store/knowledge/): experience in, lessons out.

The link reads a finished search only through its `SearchOutcome` (agent/outcome.py) and asks
for a lesson only through the `ask` function the search loop hands it, so that the request
counts against that search's budget and usage.

The knowledge base is optional and advisory: no KB, a KB that fails, or a KB module that is
not installed costs the prompt its experience section and nothing else; it never fails a search.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..options import Options
from ..records import Problem
from .outcome import SearchOutcome, device_name
from .provider import Usage

log = logging.getLogger(__name__)

KNOWLEDGE_TOKENS = 1500  # share of the prompt the experience section may take
CONSOLIDATE_AFTER = 10  # lessons recorded since the last consolidation

__all__ = ["CONSOLIDATE_AFTER", "KNOWLEDGE_TOKENS", "KnowledgeLink", "device_name"]


class KnowledgeLink:
    def __init__(self, kb: Any, options: Options) -> None:
        self.kb = kb
        self.options = options

    def retrieve(self, problem: Problem) -> str:
        if self.kb is None or not self.options.use_knowledge:
            return ""
        try:
            return self.kb.retrieve(problem, device_name(problem), KNOWLEDGE_TOKENS) or ""
        except Exception as e:
            log.warning("knowledge base: retrieval failed (%s: %s); searching without experience", type(e).__name__, e)
            return ""

    def record(self, outcome: SearchOutcome, ask: Callable[[str, list[dict[str, str]]], str]) -> None:
        """Record what the search tried and what it gained, with a lesson from the LLM.
        `ask(label, messages)` sends one request within the search's budget (it raises once
        the budget is spent)."""
        if self.kb is None or not outcome.attempts:
            return
        try:
            lesson = self._lesson(outcome, ask)
            self.kb.record_search(outcome.problem, outcome.device, outcome.problem.target, outcome.attempts, lesson,
                                  self.options.model)
        except Exception as e:
            log.warning("knowledge base: could not record the search for %s (%s: %s)",
                        outcome.problem.key[:16], type(e).__name__, e)

    def _lesson(self, outcome: SearchOutcome, ask: Callable[[str, list[dict[str, str]]], str]) -> str:
        """One more request: what should the next search of a similar subgraph know?"""
        if not outcome.lesson_request:
            return ""
        from ..store.knowledge.prompts import clean_lesson

        try:
            return clean_lesson(ask("lesson", outcome.lesson_request))
        except Exception as e:  # a lesson is a bonus; the search result stands without it
            log.info("no lesson for %s: %s", outcome.problem.key[:16], e)
            return ""

    def consolidate_if_due(self, ask: Callable[[str], str], usage: Usage) -> None:
        """Fold the lessons of recent searches into the KB's technique notes once enough have
        piled up: one request now and then, not one per search. `ask(prompt)` answers one
        request (the caller skips this when its endpoint is dead) and counts it in `usage`."""
        kb = self.kb
        if kb is None or not hasattr(kb, "consolidate"):
            return
        try:
            if kb.pending_lessons() < CONSOLIDATE_AFTER:
                return
            version = kb.consolidate(ask)
            log.info("knowledge base: consolidated lessons into notes version %s (%d tokens)", version,
                     usage.total_tokens)
        except Exception as e:  # the notes stay as they were; the next compile tries again
            log.warning("knowledge base: consolidation failed (%s: %s)", type(e).__name__, e)
