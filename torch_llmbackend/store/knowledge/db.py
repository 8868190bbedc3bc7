"""The SQLite file behind the knowledge base: schema, connections and write transactions.

Several processes (parallel compiles, batch workers) may record searches at once. SQLite in WAL
mode lets readers run while one writer commits; every write takes the write lock up front
(BEGIN IMMEDIATE) so two writers queue on the busy timeout instead of failing halfway through a
read-then-write. One short-lived connection per operation keeps the store safe across fork and
threads without any shared handle.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from typing import Iterator

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    problem_key TEXT NOT NULL,
    device TEXT NOT NULL,
    target TEXT NOT NULL,
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    family TEXT NOT NULL,
    features TEXT NOT NULL,          -- Features as JSON
    best_gain REAL,                  -- best verified speed-up vs the better baseline
    lesson TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_state ON searches(state);
CREATE INDEX IF NOT EXISTS searches_family ON searches(family);
CREATE TABLE IF NOT EXISTS attempts (
    search_id INTEGER NOT NULL REFERENCES searches(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    techniques TEXT NOT NULL,        -- JSON list of names
    verified INTEGER NOT NULL,
    reason TEXT NOT NULL,
    speedup_eager REAL,
    speedup_inductor REAL,
    won INTEGER NOT NULL,
    speedup_library REAL,
    PRIMARY KEY (search_id, idx)
);
CREATE TABLE IF NOT EXISTS technique_stats (
    state TEXT NOT NULL,
    technique TEXT NOT NULL,
    tried INTEGER NOT NULL,
    won INTEGER NOT NULL,
    verified INTEGER NOT NULL,
    log_gain_sum REAL NOT NULL,      -- sum of ln(gain) over verified attempts with a timing
    gain_n INTEGER NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (state, technique)
);
CREATE TABLE IF NOT EXISTS note_versions (
    version INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    source TEXT NOT NULL,
    parent INTEGER,
    lessons_through INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    version INTEGER NOT NULL REFERENCES note_versions(version),
    note_id TEXT NOT NULL,
    technique TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    targets TEXT NOT NULL,
    families TEXT NOT NULL,
    bounds TEXT NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (version, note_id)
);
"""


def _open(path: str) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; writes say BEGIN IMMEDIATE themselves.
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA synchronous = NORMAL")  # durable enough in WAL mode, much faster
    return con


def initialize(path: str) -> None:
    """Create the file, switch it to WAL and create the tables; safe to race."""
    # the cache folder, when the knowledge base is first to make it: private, as the kernel store
    # requires (under umask 002 the default would leave it group-writable, and then refused)
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        con = _open(path)
        try:
            # Setting WAL needs a moment of exclusive access; a racing process may hold the lock
            # while it does the same, so retry until one of us has done it.
            con.execute("PRAGMA journal_mode = WAL")
            # One script, one transaction: executescript would commit a transaction opened
            # outside it, so BEGIN and COMMIT are part of the script.
            con.executescript(
                "BEGIN IMMEDIATE;" + _SCHEMA
                + f"INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');COMMIT;"
            )
            _migrate(con)
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            con.close()


def _migrate(con: sqlite3.Connection) -> None:
    """Bring a base made by an older version up to this schema (columns added since)."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(attempts)")}
    if "speedup_library" not in columns:
        try:
            con.execute("ALTER TABLE attempts ADD COLUMN speedup_library REAL")
            con.commit()
        except sqlite3.OperationalError as e:  # another process added it first
            if "duplicate column" not in str(e):
                raise


@contextlib.contextmanager
def reading(path: str) -> Iterator[sqlite3.Connection]:
    con = _open(path)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def writing(path: str) -> Iterator[sqlite3.Connection]:
    """One write transaction holding the write lock from the start; rolled back on any error."""
    with reading(path) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def get_meta(con: sqlite3.Connection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row["value"] if row else None


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value))
