"""Where the store's rows live: diskcache for a folder the user can write, SQLite read-only for one
they cannot, and nothing at all for one that cannot be opened.

Never pickles. diskcache unpickles any row whose mode says "pickle", so whoever can write the
cache folder could run code in every process that reads it; `JsonOnlyDisk` refuses such rows and
hands back `PICKLED_KEY` in place of a pickled key, so that one planted row cannot stop a listing.
"""
from __future__ import annotations

import os
import sqlite3
import urllib.parse
from typing import Iterator

import diskcache


class RefusedRow(RuntimeError):
    """A row the store never decodes (a pickled value)."""


PICKLED_KEY = object()  # what a listing yields for a row whose key is pickled


class JsonOnlyDisk(diskcache.Disk):
    """A diskcache Disk that stores only bytes/str/numbers and refuses pickled rows on read."""

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        if not read and not isinstance(value, (bytes, str, int, float)):
            raise TypeError(f"the kernel store holds bytes only, not {type(value).__name__}")
        return super().store(value, read, key=key)

    def fetch(self, mode, filename, value, read):
        if mode == diskcache.core.MODE_PICKLE:
            raise RefusedRow("refused a pickled value in the kernel store (only JSON is written)")
        return super().fetch(mode, filename, value, read)

    def put(self, key):
        if not isinstance(key, str):
            raise TypeError("kernel store keys are strings")
        return super().put(key)

    def get(self, key, raw):
        return super().get(key, raw) if raw else PICKLED_KEY


def writable_rows(directory: str) -> diskcache.Cache:
    # eviction off: a winner is never dropped behind the user's back
    return diskcache.Cache(directory, disk=JsonOnlyDisk, eviction_policy="none", timeout=60)


class ReadOnlyRows:
    """diskcache's table read through SQLite's read-only mode: diskcache itself writes its settings
    on opening, so it cannot open a folder the user may only read."""

    def __init__(self, directory: str):
        db = os.path.join(directory, diskcache.core.DBNAME)
        if not os.path.isfile(db):
            raise FileNotFoundError(f"no {db}")
        self._disk = JsonOnlyDisk(directory)
        self._uri = "file:" + urllib.parse.quote(db)
        self._con: sqlite3.Connection | None = None
        self._connection()  # a corrupt or unreadable file fails here, when the store is opened

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:  # reopened on demand after close(), as diskcache does
            try:
                self._con = _connect(self._uri + "?mode=ro")
            except sqlite3.OperationalError:
                # a WAL database in a folder nobody may write: SQLite cannot make its -shm file,
                # but then the folder cannot change under us either, so it may be read as immutable
                self._con = _connect(self._uri + "?immutable=1")
        return self._con

    def get(self, key: str):
        row = self._connection().execute("SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1",
                                         (key,)).fetchone()
        return None if row is None else self._disk.fetch(row[0], row[1], row[2], False)

    def iterkeys(self) -> Iterator[object]:
        for key, raw in self._connection().execute("SELECT key, raw FROM Cache ORDER BY rowid").fetchall():
            yield key if raw else PICKLED_KEY

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _connect(uri: str) -> sqlite3.Connection:
    con = sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)
    try:
        con.execute("SELECT count(*) FROM Cache").fetchone()
    except sqlite3.Error:
        con.close()
        raise
    return con


class NoRows:
    """The rows of a store that could not be opened: none, and nothing is kept."""

    def get(self, key: str):
        return None

    def iterkeys(self) -> Iterator[object]:
        return iter(())

    def close(self) -> None:
        pass
