"""One finding of the static checks, and how a list of them is shown to the LLM or the user."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Violation:
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message} [{self.rule}]"


def format_violations(violations: Iterable[Violation], limit: int = 12) -> str:
    vs = list(violations)
    text = "\n".join(str(v) for v in vs[:limit])
    if len(vs) > limit:
        text += f"\n... and {len(vs) - limit} more"
    return text
