"""A stand-in evaluator for tests of the search loop's control flow (retries, budgets, beams,
stopping), where what matters is the verdict, not how it is reached. It only parses the
candidate; the end-to-end tests use the real evaluator."""
from __future__ import annotations

import ast
import threading
from typing import Callable

from torch_llmbackend.records import Evaluation, Problem


def timed(candidate_us: float, eager_us: float = 10.0, inductor_us: float = 8.0) -> Evaluation:
    t = lambda m: {"median": m, "p20": m, "p80": m, "runs": 10, "unit": "us"}  # noqa: E731
    return Evaluation(True, "ok", "", verification={"seeds": 3},
                      timings={"candidate": t(candidate_us), "eager": t(eager_us), "inductor": t(inductor_us), "device": "test"})


class JudgeEvaluator:
    """evaluate() -> a syntax check, then judge(source) for parseable modules."""

    def __init__(self, judge: Callable[[str], Evaluation] = lambda source: timed(10.0)) -> None:
        self.judge = judge
        self.sources: list[str] = []
        self._lock = threading.Lock()

    def evaluate(self, problem: Problem, source: str) -> Evaluation:
        with self._lock:
            self.sources.append(source)
        try:
            ast.parse(source)
        except SyntaxError as e:
            return Evaluation(False, "static", f"SyntaxError: {e.msg} (line {e.lineno})")
        return self.judge(source)

    def baselines(self, problem: Problem) -> dict:
        return {}

    def close(self) -> None:
        pass
