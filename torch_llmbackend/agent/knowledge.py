"""The agent's link to the knowledge base (store/knowledge.py): experience in, lessons out.

The knowledge base is optional and advisory: no KB, a KB that fails, or a KB module that is
not installed costs the prompt its experience section and nothing else; it never fails a search.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..options import Options
from ..records import Evaluation, Problem
from . import prompts
from .provider import Usage

if TYPE_CHECKING:
    from .search import Searcher, _ProblemSearch

log = logging.getLogger(__name__)

KNOWLEDGE_TOKENS = 1500  # share of the prompt the experience section may take
CONSOLIDATE_AFTER = 10  # lessons recorded since the last consolidation


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

    def record(self, search: "_ProblemSearch", outcome: str) -> None:
        """Record what the search tried and what it gained, with a lesson from the LLM."""
        if self.kb is None:
            return
        try:
            attempts = self.attempts(search)
            if not attempts:
                return
            device = device_name(search.problem)
            lesson = self._lesson(search, attempts, device)
            self.kb.record_search(search.problem, device, search.problem.target, attempts, lesson, self.options.model)
        except Exception as e:
            log.warning("knowledge base: could not record the search for %s (%s: %s)",
                        search.problem.key[:16], type(e).__name__, e)

    def attempts(self, search: "_ProblemSearch") -> list:
        from ..store.knowledge_records import Attempt
        from ..store.knowledge_taxonomy import classify_techniques

        winner = search.best.sample if search.best else None
        out = []
        for s in search.samples:
            e = s.evaluation
            if e is None:
                continue
            baselines = search._baselines
            out.append(Attempt(
                techniques=classify_techniques("\n".join((s.plan, s.source or s.reply or "")), search.problem.target),
                verified=e.ok,
                reason="ok" if e.ok else f"{e.stage}: {prompts.first_line(e.reason)}",
                speedup_vs_eager=_speedup(e, "eager", baselines),
                speedup_vs_inductor=_speedup(e, "inductor", baselines),
                won=s is winner and (search._speedup() or 0.0) > 1.0,
            ))
        return out

    def _lesson(self, search: "_ProblemSearch", attempts: list, device: str) -> str:
        """One more request: what should the next search of a similar subgraph know?"""
        if search.s.endpoint_error is not None or search._budget_reason():
            return ""
        from ..store.knowledge_prompts import clean_lesson, lesson_prompt

        messages = prompts.build_messages(search.problem, "", search.history)
        messages = prompts.append_request(messages, lesson_prompt(search.problem, attempts, device))
        try:
            return clean_lesson(search._ask("lesson", messages).text)
        except Exception as e:  # a lesson is a bonus; the search result stands without it
            log.info("no lesson for %s: %s", search.problem.key[:16], e)
            return ""


def _speedup(evaluation, baseline: str, baselines: dict | None) -> float | None:
    if not evaluation.ok:
        return None
    merged = Evaluation(True, "ok", "", timings={**(baselines or {}), **evaluation.timings})
    return merged.speedup(baseline)


def consolidate_if_due(searcher: "Searcher") -> None:
    """Fold the lessons of recent searches into the KB's technique notes once enough have
    piled up: one request now and then, not one per search."""
    kb = searcher.knowledge.kb
    if kb is None or searcher.endpoint_error is not None or not hasattr(kb, "consolidate"):
        return
    try:
        if kb.pending_lessons() < CONSOLIDATE_AFTER:
            return
        usage = Usage()

        def ask(prompt: str) -> str:
            return searcher.chat([{"role": "user", "content": prompt}], usage, deadline=None).text

        version = kb.consolidate(ask)
        log.info("knowledge base: consolidated lessons into notes version %s (%d tokens)", version, usage.total_tokens)
    except Exception as e:  # the notes stay as they were; the next compile tries again
        log.warning("knowledge base: consolidation failed (%s: %s)", type(e).__name__, e)
