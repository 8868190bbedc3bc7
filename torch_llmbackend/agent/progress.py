"""Progress bars for searches (rich), shown only on a terminal: logs and CI output stay clean."""
from __future__ import annotations

import sys
import threading
from typing import Any


class SearchProgress:
    """One bar per subgraph, advanced per round. A no-op when stderr is not a TTY or the user
    switched progress off."""

    def __init__(self, enabled: bool) -> None:
        self._bar = None
        self._lock = threading.Lock()
        self._users = 0
        self._totals: dict[Any, int] = {}
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                console=Console(stderr=True), transient=False,
            )

    def __enter__(self) -> "SearchProgress":
        with self._lock:
            if self._bar is not None and self._users == 0:
                self._bar.start()
            self._users += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self._users -= 1
            if self._bar is not None and self._users == 0:
                self._bar.stop()

    def task(self, description: str, total: int) -> Any:
        if self._bar is None:
            return None
        task = self._bar.add_task(description, total=total, status="")
        self._totals[task] = total
        return task

    def update(self, task: Any, advance: int = 0, status: str = "") -> None:
        if self._bar is not None and task is not None:
            self._bar.update(task, advance=advance, status=status)

    def finish(self, task: Any, status: str) -> None:
        if self._bar is not None and task is not None:
            self._bar.update(task, completed=self._totals[task], status=status)
