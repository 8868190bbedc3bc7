"""The record of one search, next to the cache: every prompt, every reply and what became of
each candidate, so that a user can see why a kernel looks the way it does.

Markdown, appended as the search goes (a crash or a Ctrl-C leaves everything up to that point).
Messages already written are not repeated: a request shows only what is new since the last
one, unless the head of the conversation changed.
"""
from __future__ import annotations

import os
import threading
import time

from .prompts import fence


class Transcript:
    def __init__(self, cache_dir: str, key: str, title: str) -> None:
        folder = os.path.join(cache_dir, "transcripts", key)
        os.makedirs(folder, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
        self.path = os.path.join(folder, f"{stamp}.md")
        self._lock = threading.Lock()
        self._head: list[dict[str, str]] | None = None
        self._write(f"# {title}\n\n")

    def note(self, text: str) -> None:
        self._write(text.rstrip() + "\n\n")

    def request(self, label: str, messages: list[dict[str, str]]) -> None:
        with self._lock:
            head = messages[:2]
            if head != self._head:
                self._head, new = head, messages
            else:
                new = messages[-1:]
            parts = [f"## {label}: request ({len(messages)} messages, {len(new)} shown)\n"]
            parts += [f"### {m['role']}\n\n{fence(m['content'], 'text')}\n" for m in new]
            self._append("\n".join(parts) + "\n")

    def reply(self, label: str, text: str, meta: str = "") -> None:
        self._write(f"## {label}: reply{' (' + meta + ')' if meta else ''}\n\n{fence(text, 'text')}\n\n")

    def _write(self, text: str) -> None:
        with self._lock:
            self._append(text)

    def _append(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text)
