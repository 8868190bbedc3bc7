"""One search per subgraph key across the processes that share a cache folder.

Eight processes compiling the same model at once would otherwise each search every subgraph
(eight times the requests, for one winner). The searcher takes an exclusive flock on
`<cache_dir>/locks/<key>.lock` before it searches; a process that finds the lock taken waits
for it (up to a bound: the search budget) and then takes the winner from the store. The kernel
releases a flock when its holder dies, however it dies, so a crashed search never blocks the
others for longer than it ran.

The holder writes how its search ended into the lock file before it lets go, so that a waiter
can tell "searched, found nothing" (do not repeat it) from "died mid-search" (search here).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import time
from typing import Any

log = logging.getLogger(__name__)

POLL_S = 0.2
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")


class SearchLock:
    """The inter-process lock of one key. Not reentrant; one holder per open()."""

    def __init__(self, path: str, fd: int):
        self.path = path
        self._fd = fd
        self.held = False

    @staticmethod
    def open(cache_dir: str, key: str) -> "SearchLock | None":
        """The lock for `key`, or None where the cache folder cannot hold one (read-only)."""
        name = key if _SAFE_NAME.fullmatch(key) else hashlib.sha256(key.encode()).hexdigest()
        folder = os.path.join(cache_dir, "locks")
        path = os.path.join(folder, name + ".lock")
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as e:
            log.info("no search lock under %s (%s): concurrent processes may search %s more than once",
                     folder, e.strerror or e, key[:16])
            return None
        return SearchLock(path, fd)

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        return True

    def acquire(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the lock; True once held. Polls rather than blocks, so
        that the wait has a bound and an interrupt ends it."""
        deadline = time.monotonic() + timeout_s
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)
        return True

    def record(self, outcome: dict[str, Any]) -> None:
        """What the search that holds the lock came to, for the processes waiting on it."""
        data = json.dumps({**outcome, "finished": time.time(), "pid": os.getpid()}).encode()
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)
        except OSError as e:  # a waiter then searches again: wasteful, not wrong
            log.debug("could not record the search outcome in %s: %s", self.path, e)

    def outcome(self) -> dict[str, Any]:
        """The last recorded outcome ({} if none or unreadable)."""
        try:
            size = os.fstat(self._fd).st_size
            value = json.loads(os.pread(self._fd, size, 0).decode()) if size else {}
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    def release(self) -> None:
        if self.held:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        self.release()
        os.close(self._fd)

    def __enter__(self) -> "SearchLock":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
