"""The winner store: verified kernels keyed by subgraph structure, on diskcache.

Rows are JSON (never pickles, see rows.py) sealed with a content hash and an HMAC keyed by the
user's secret (seal.py, secret.py). A row that fails its hash is refused with a warning naming
the key, and the caller falls back. A row without a valid MAC (written before rows were signed,
or by someone else) is read as untrusted: its claims (machines that verified it, timings, its
problem record) are dropped, so the kernel is verified again before use and written back signed.
SQLite transactions make writes atomic and the store safe for several processes.

The cache folder must be the user's own and writable by nobody else (permissions.py); a compile
opens it with `open_store`, which never fails: read-only where it cannot be written, no store at
all where it cannot be opened or is not safe, with one warning naming the folder.
"""
from __future__ import annotations

import atexit
import dataclasses
import hashlib
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..records import Problem
from .permissions import UnsafePath, check_private_folder, ensure_private_folder
from .rows import PICKLED_KEY, NoRows, ReadOnlyRows, RefusedRow, writable_rows
from .seal import SealError, content_hash, seal, unseal  # noqa: F401 (content_hash: bundle.py reads it here)
from .secret import SecretUnavailable, secret_path, user_secret

log = logging.getLogger(__name__)

_KERNEL = "kernel:"
_PENDING = "pending:"
_STRUCTURE = "structure:"  # structural key -> the keys of the winners of that structure
_NOTE = "note:"  # small sealed records: a kernel refused at some sizes, and why


class StoreError(RuntimeError):
    pass


class StoreUnavailable(StoreError):
    """The cache folder cannot hold a store here (not a folder, cannot be created, corrupt)."""


@dataclass
class KernelEntry:
    """One verified winner. `source` is a module defining ModelNew (KernelBench solution format)."""

    key: str
    target: str
    signature: str
    source: str
    provenance: dict[str, Any] = field(default_factory=dict)  # author ("curated" or model), rounds, tokens
    verification: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)  # candidate/eager/inductor Timing json, device
    device: str = ""  # the device it was verified and timed on
    versions: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    # machines (device, torch, triton) that verified this exact source
    verified_on: list[dict[str, str]] = field(default_factory=list)
    problem: dict[str, Any] = field(default_factory=dict)  # Problem json, to re-verify anywhere
    # not stored: whether this user's llmbackend vouches for the claims above. False for an entry
    # read from a bundle or from a store row without a valid MAC; such an entry is verified
    # again on each machine before use, whatever `verified_on` says.
    trusted: bool = field(default=True, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("trusted")
        return d

    @staticmethod
    def from_json(d: dict[str, Any], trusted: bool = False) -> "KernelEntry":
        names = {f.name for f in dataclasses.fields(KernelEntry)} - {"trusted"}
        return KernelEntry(**{k: v for k, v in d.items() if k in names}, trusted=trusted)

    def verified_here(self, machine: dict[str, str]) -> bool:
        return self.trusted and machine in self.verified_on

    def source_hash(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    def drop_claims(self) -> None:
        """Forget what an unsigned row claims: where it was verified, how fast it was, and the
        problem record it would be verified against (a forged reference could pass a wrong
        kernel). What stays is the source and what describes it."""
        self.trusted = False
        self.verified_on, self.timings, self.verification, self.problem = [], {}, {}, {}


_warned: set[tuple[str, str]] = set()  # (folder, kind): each store problem is told once per process


def _warn_once(folder: str, kind: str, msg: str, *args: Any) -> None:
    if (folder, kind) not in _warned:
        _warned.add((folder, kind))
        log.warning(msg, *args)


class KernelStore:
    """Winners and pending problems of one cache folder. Cheap to open; safe across processes.

    Raises UnsafePath for a folder another user could write and StoreUnavailable for one that
    cannot be opened (the CLI reports either); a compile uses `open_store` instead. With
    `best_effort`, a write that fails is a warning, not an error: the compile that made the
    kernel goes on with it either way."""

    def __init__(self, cache_dir: str, readonly: bool = False, best_effort: bool = False, _rows: Any = None):
        self.cache_dir, self.readonly, self.best_effort = cache_dir, readonly, best_effort
        self.path = os.path.join(cache_dir, "kernels")
        self._module_dir: str | None = None
        self._cache = _rows if _rows is not None else self._open_rows()
        self._secret = self._load_secret() if _rows is None else None

    @staticmethod
    def unavailable(cache_dir: str) -> "KernelStore":
        """A store with no rows that keeps nothing, for a folder that cannot be used."""
        return KernelStore(cache_dir, readonly=True, best_effort=True, _rows=NoRows())

    def _open_rows(self):
        try:
            if self.readonly:
                check_private_folder(self.cache_dir, "the cache folder")
                return ReadOnlyRows(self.path)
            ensure_private_folder(self.cache_dir, "the cache folder")
            return writable_rows(self.path)
        except (sqlite3.OperationalError, OSError) as e:  # before DatabaseError, OperationalError's base
            raise StoreUnavailable(f"the kernel store {self.path} cannot be opened"
                                   f"{' for reading' if self.readonly else ''} ({e})") from None
        except sqlite3.DatabaseError as e:  # not a database, or a damaged one
            raise StoreUnavailable(f"the kernel store {self.path} is unreadable ({e}); move "
                                   f"{os.path.join(self.path, 'cache.db')} away to start a new one") from None

    def _load_secret(self) -> bytes | None:
        try:
            return user_secret()
        except SecretUnavailable as e:
            _warn_once(secret_path(), "secret", "kernel store: %s; no cached kernel is trusted without being verified again, "
                       "and new entries are not signed", e)
            return None

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> "KernelStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # winners -----------------------------------------------------------------------------
    def get(self, key: str) -> KernelEntry | None:
        """The entry for `key`, or None when absent or refused (refusal is logged with the key).
        An entry without this user's signature comes back untrusted, its claims dropped."""
        row = _KERNEL + key
        raw = self._read(row, f"entry {key[:16]}")
        if raw is None:
            return None
        try:
            payload, signed = unseal(raw, row, f"entry {key[:16]}", self._secret)
            entry = KernelEntry.from_json(payload, trusted=signed)
        except (SealError, TypeError) as e:
            log.warning("kernel store: %s; the subgraph falls back", e)
            return None
        if entry.key != key:
            log.warning("kernel store: entry %s holds key %s; refused", key[:16], entry.key[:16])
            return None
        if not signed:
            entry.drop_claims()
            _warn_once(self.cache_dir, "unsigned", "kernel store %s: entry %s (and maybe others) carries no valid "
                       "signature of yours (written before entries were signed, by someone else, or with another "
                       "secret); such kernels are verified again before use", self.path, key[:16])
        return entry

    def put(self, entry: KernelEntry) -> None:
        row = _KERNEL + entry.key
        self._write(f"entry {entry.key[:16]}", "set", row, seal(row, entry.to_json(), self._secret))
        structure = (entry.problem or {}).get("structural_key")
        if structure:
            self._index_structure(structure, entry.key)

    # by structure: the same computation at other sizes ------------------------------------------
    def _index_structure(self, structure: str, key: str) -> None:
        if self.readonly:
            return
        try:
            with self._cache.transact():  # read-modify-write, safe against other processes
                keys = self._structure_keys(structure)
                if key not in keys:
                    row = _STRUCTURE + structure
                    self._write(f"structure {structure[:16]}", "set", row,
                                seal(row, {"keys": sorted([*keys, key])}, self._secret))
        except (OSError, sqlite3.Error, AttributeError) as e:  # the index only finds reuse; never fatal
            log.warning("kernel store: could not index structure %s (%s)", structure[:16], e)

    def _structure_keys(self, structure: str) -> list[str]:
        """The keys indexed under a structure. The index needs no signature: each entry it names
        is read (and trusted or not) on its own, and proven at new sizes before it runs."""
        row = _STRUCTURE + structure
        raw = self._read(row, f"structure {structure[:16]}")
        if raw is None:
            return []
        try:
            payload, _ = unseal(raw, row, f"structure {structure[:16]}", self._secret)
            keys = payload["keys"]
        except (SealError, KeyError, TypeError) as e:
            log.warning("kernel store: %s; the index is rebuilt as kernels are stored", e)
            return []
        return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []

    def by_structure(self, structure: str) -> list[KernelEntry]:
        """Winners of this structural key, at whatever sizes they were found."""
        return [e for e in (self.get(k) for k in self._structure_keys(structure)) if e is not None]

    # notes: a kernel refused at some sizes, compile plans ----------------------------------------
    def get_note(self, name: str) -> dict[str, Any] | None:
        """A note this user wrote (signed); None when absent, unreadable or unsigned."""
        row = _NOTE + name
        raw = self._read(row, f"note {name[:24]}")
        if raw is None:
            return None
        try:
            payload, signed = unseal(raw, row, f"note {name[:24]}", self._secret)
        except SealError as e:
            log.warning("kernel store: %s; ignored", e)
            return None
        return payload if signed else None

    def put_note(self, name: str, note: dict[str, Any]) -> None:
        if not self.readonly:
            row = _NOTE + name
            self._write(f"note {name[:24]}", "set", row, seal(row, note, self._secret))

    def note_names(self, prefix: str = "") -> list[str]:
        return sorted(k[len(_NOTE):] for k in self._iter_keys() if k.startswith(_NOTE + prefix))

    def delete_note(self, name: str) -> bool:
        return bool(self._write(f"note {name[:24]}", "delete", _NOTE + name))

    def delete(self, key: str) -> bool:
        return bool(self._write(f"entry {key[:16]}", "delete", _KERNEL + key))

    def keys(self) -> list[str]:
        return sorted(k[len(_KERNEL):] for k in self._iter_keys() if k.startswith(_KERNEL))

    def entries(self) -> Iterator[KernelEntry]:
        for key in self.keys():
            entry = self.get(key)
            if entry is not None:
                yield entry

    # pending problems (offline misses, for `llmbackend batch export`) --------------------------
    def add_pending(self, problem: Problem) -> None:
        if not self.readonly:
            row = _PENDING + problem.key
            self._write(f"pending {problem.key[:16]}", "set", row, seal(row, problem.to_json(), self._secret))

    def pending(self) -> list[Problem]:
        """Queued problems signed by this user. An unsigned one is skipped: its reference is
        what `batch import` verifies answers against, so a forged one could pass a wrong kernel."""
        out = []
        for k in self._iter_keys():
            if not k.startswith(_PENDING):
                continue
            what = f"pending {k[len(_PENDING):][:16]}"
            raw = self._read(k, what)
            if raw is None:
                continue
            try:
                payload, signed = unseal(raw, k, what, self._secret)
                problem = Problem.from_json(payload)
            except (SealError, TypeError, KeyError) as e:
                log.warning("kernel store: %s; skipped", e)
                continue
            if signed:
                out.append(problem)
            else:
                log.warning("kernel store: %s carries no valid signature of yours; skipped "
                            "(compile the model again offline to queue it)", what)
        return out

    def clear_pending(self, key: str) -> None:
        if not self.readonly:
            self._write(f"pending {key[:16]}", "delete", _PENDING + key)

    # kernel modules ------------------------------------------------------------------------------
    def module_dir(self) -> str:
        """Where verified kernels are written as modules and imported from: `modules/` in a
        cache folder this store may write, else a private temporary folder (removed at exit),
        never a folder someone else could change between the write and the import."""
        if self._module_dir is None:
            self._module_dir = self._own_module_dir()
        return self._module_dir

    def _own_module_dir(self) -> str:
        if not self.readonly:
            path = os.path.join(self.cache_dir, "modules")
            try:
                ensure_private_folder(path, "the kernel module folder")
                return path
            except (UnsafePath, OSError) as e:
                _warn_once(self.cache_dir, "modules", "kernel modules go to a private temporary folder: %s", e)
        path = tempfile.mkdtemp(prefix="llmbackend-modules-")
        atexit.register(shutil.rmtree, path, True)
        return path

    # raw access for integrity tests and tools -------------------------------------------------
    def raw(self, key: str) -> bytes | None:
        return self._cache.get(_KERNEL + key)

    def put_raw(self, key: str, raw: bytes) -> None:
        self._write(f"entry {key[:16]}", "set", _KERNEL + key, raw)

    def _read(self, row: str, what: str) -> bytes | None:
        try:
            return self._cache.get(row)
        except RefusedRow as e:
            log.warning("kernel store: %s refused: %s; the subgraph falls back", what, e)
        except (OSError, sqlite3.Error) as e:  # a damaged database: that row is a miss
            _warn_once(self.cache_dir, "read", "kernel store %s: cannot read %s (%s); it counts as a miss",
                       self.path, what, e)
        return None

    def _write(self, what: str, method: str, *args: Any) -> Any:
        try:
            if self.readonly:
                raise StoreError(f"the store at {self.cache_dir} is read-only")
            return getattr(self._cache, method)(*args)
        except (StoreError, OSError, sqlite3.Error) as e:
            if not self.best_effort:
                raise StoreError(f"kernel store {self.path}: cannot write {what}: {e}") from None
            if not self.readonly:  # a read-only store said so when it was opened
                _warn_once(self.cache_dir, "write", "kernel store %s: cannot write %s (%s); the compile goes on, "
                           "but what it finds is not kept", self.path, what, e)

    def _iter_keys(self) -> Iterator[str]:
        refused = 0
        try:
            for k in self._cache.iterkeys():
                if isinstance(k, str):
                    yield k
                refused += k is PICKLED_KEY
        except (OSError, sqlite3.Error) as e:
            _warn_once(self.cache_dir, "list", "kernel store %s: cannot list its rows (%s)", self.path, e)
        if refused:
            log.warning("kernel store %s: %d row(s) with a pickled key refused (only JSON is written; "
                        "someone else wrote them)", self.path, refused)


def open_store(cache_dir: str) -> KernelStore:
    """The store for a compile; never raises. A folder someone else could write is not used at
    all; one that cannot be written is read; one that cannot be opened is replaced by an empty
    store. Each case is one warning naming the folder, and the compile goes on (kernels from
    the shipped bundle are still verified and used, modules loaded from a private folder)."""
    try:
        return KernelStore(cache_dir, best_effort=True)
    except UnsafePath as e:
        _warn_once(cache_dir, "unsafe", "kernel store not used: %s. The compile goes on without it "
                   "(nothing is read from that folder or written to it)", e)
        return KernelStore.unavailable(cache_dir)
    except StoreUnavailable as e:
        why_not_writable = e
    try:
        store = KernelStore(cache_dir, readonly=True, best_effort=True)
    except (UnsafePath, StoreUnavailable) as e:
        _warn_once(cache_dir, "unavailable", "%s; the compile goes on without a kernel store (nothing is cached)",
                   why_not_writable if isinstance(e, StoreUnavailable) else e)
        return KernelStore.unavailable(cache_dir)
    _warn_once(cache_dir, "readonly", "%s; it is opened read-only: cached kernels are used, new ones are not kept",
               why_not_writable)
    return store
