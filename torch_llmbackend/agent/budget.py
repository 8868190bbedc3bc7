"""One search's budget: tokens, wall time, and an endpoint that died for the whole compile.

Both search loops (agent/search.py and the Gemmini workflow in agent/gemmini_search.py) check
the same Budget before each request, so the two stop for the same reasons, in the same words.
"""
from __future__ import annotations

import time
from typing import Callable

from ..options import Options
from .provider import Usage


class BudgetSpent(Exception):
    """A budget ran out (or the endpoint died) before a request; the message says which."""


class Budget:
    def __init__(self, options: Options, usage: Usage, endpoint_error: Callable[[], Exception | None] = lambda: None,
                 started: float | None = None) -> None:
        """`usage`: the requests of this search, which the token budget counts; `endpoint_error`:
        the compile's dead-endpoint error, if any (it ends every search still running)."""
        self.max_tokens = options.max_search_tokens
        self.max_seconds = options.max_search_seconds
        self.usage = usage
        self.started = time.monotonic() if started is None else started
        self._endpoint_error = endpoint_error

    @property
    def deadline(self) -> float:
        """The time.monotonic() by which the search's requests must be answered."""
        return self.started + self.max_seconds

    def spent(self) -> str:
        """Why no further request may be sent, in words for the compile report; "" while it may."""
        error = self._endpoint_error()
        if error is not None:
            return f"LLM endpoint unavailable: {error}"
        if self.usage.total_tokens >= self.max_tokens:
            return f"token budget spent ({self.usage.total_tokens:,} of {self.max_tokens:,} tokens)"
        elapsed = time.monotonic() - self.started
        if elapsed >= self.max_seconds:
            return f"time budget spent ({elapsed:.0f}s of {self.max_seconds:g}s)"
        return ""

    def check(self) -> None:
        reason = self.spent()
        if reason:
            raise BudgetSpent(reason)
