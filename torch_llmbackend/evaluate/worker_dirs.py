"""Worker folders, and removing the ones whose processes are gone however they ended.

A worker folder holds the candidates' files and the worker's log. The caller removes it when it
retires the worker; the worker removes it itself when it sees its caller gone (see
worker_process.py). Neither runs if both are killed (SIGKILL, OOM killer, a lost machine), so
each folder also carries a lock file, locked with flock by the caller and, through the inherited
descriptor, by its worker. The kernel drops a flock when the last process holding that open file
ends, whatever ends it, and the lock cannot be taken while either lives: a folder whose lock can
be taken belongs to nobody, and the next worker started on this machine removes it (`reap`).
No pids are compared, so a reused pid cannot keep a dead folder or doom a live one.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import tempfile

log = logging.getLogger(__name__)

PREFIX = "llmbackend-worker-"
LOCK = "owner.lock"


def create(root: str | None = None) -> tuple[str, int]:
    """A new private folder and the descriptor that holds its lock (pass it to the worker)."""
    path = tempfile.mkdtemp(prefix=PREFIX, dir=root)
    # locked under a temporary name, then renamed: `reap` only looks at LOCK, so it never sees
    # the lock file of a folder being created before that file is locked
    fresh = os.path.join(path, LOCK + ".new")
    fd = os.open(fresh, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(fresh, os.path.join(path, LOCK))
    return path, fd


def reap(root: str | None = None) -> list[str]:
    """Remove this user's worker folders under `root` (the temp folder) that nobody holds."""
    root = root or tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(root) if n.startswith(PREFIX)]
    except OSError:
        return []
    removed = []
    for name in names:
        path = os.path.join(root, name)
        if _stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.debug("removed %d folder(s) of worker processes that are gone: %s", len(removed), ", ".join(removed))
    return removed


def _stale(path: str) -> bool:
    try:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            return False  # a link, or another user's: not ours to remove
        fd = os.open(os.path.join(path, LOCK), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False  # no lock file: being created, or not a worker folder of this version
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False  # its caller or its worker still lives
    finally:
        os.close(fd)  # removing the folder under our own lock is fine; closing drops the lock
