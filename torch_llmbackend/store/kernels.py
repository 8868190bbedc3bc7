"""The winner store: verified kernels keyed by subgraph structure, on diskcache.

Never pickles. diskcache unpickles any row whose mode says "pickle", so whoever can write the
cache folder could run code in every process that reads it; `_JsonOnlyDisk` refuses such rows.
Values are UTF-8 JSON bytes wrapped with the SHA-256 of their canonical form: a tampered or
truncated entry fails the check, is refused with a warning naming the key, and the caller
falls back. SQLite transactions make writes atomic and the store safe for several processes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import diskcache

from ..records import Problem

log = logging.getLogger("torch_llmbackend")

FORMAT = 1
_KERNEL = "kernel:"
_PENDING = "pending:"
_STRUCTURE = "structure:"  # structural key -> the keys of the winners of that structure
_NOTE = "note:"  # small sealed records: a kernel refused at some sizes, and why


class StoreError(RuntimeError):
    pass


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj)).hexdigest()


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

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> "KernelEntry":
        names = {f.name for f in dataclasses.fields(KernelEntry)}
        return KernelEntry(**{k: v for k, v in d.items() if k in names})

    def verified_here(self, machine: dict[str, str]) -> bool:
        return machine in self.verified_on

    def source_hash(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


def seal(payload: dict[str, Any]) -> bytes:
    return canonical_json({"format": FORMAT, "sha256": content_hash(payload), "payload": payload})


def unseal(raw: bytes, what: str) -> dict[str, Any]:
    """Parse and check a sealed value; StoreError says what is wrong with it."""
    try:
        doc = json.loads(raw.decode())
        payload, digest = doc["payload"], doc["sha256"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise StoreError(f"{what}: unreadable entry ({type(e).__name__}: {e})") from None
    if doc.get("format") != FORMAT:
        raise StoreError(f"{what}: unknown entry format {doc.get('format')!r}")
    if content_hash(payload) != digest:
        raise StoreError(f"{what}: content hash mismatch (tampered or truncated)")
    return payload


class _JsonOnlyDisk(diskcache.Disk):
    """A diskcache Disk that stores only bytes/str/numbers and refuses pickled rows on read."""

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        if not read and not isinstance(value, (bytes, str, int, float)):
            raise TypeError(f"the kernel store holds bytes only, not {type(value).__name__}")
        return super().store(value, read, key=key)

    def fetch(self, mode, filename, value, read):
        if mode == diskcache.core.MODE_PICKLE:
            raise StoreError("refused a pickled value in the kernel store (only JSON is written)")
        return super().fetch(mode, filename, value, read)

    def put(self, key):
        if not isinstance(key, str):
            raise TypeError("kernel store keys are strings")
        return super().put(key)

    def get(self, key, raw):
        if not raw:
            raise StoreError("refused a pickled key in the kernel store")
        return super().get(key, raw)


class KernelStore:
    """Winners and pending problems of one cache folder. Cheap to open; safe across processes."""

    def __init__(self, cache_dir: str, readonly: bool = False):
        self.cache_dir = cache_dir
        self.readonly = readonly
        path = os.path.join(cache_dir, "kernels")
        os.makedirs(path, exist_ok=True)
        # eviction off: a winner is never dropped behind the user's back
        self._cache = diskcache.Cache(path, disk=_JsonOnlyDisk, eviction_policy="none", timeout=60)

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> "KernelStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # winners -----------------------------------------------------------------------------
    def get(self, key: str) -> KernelEntry | None:
        """The entry for `key`, or None when absent or refused (refusal is logged with the key)."""
        try:
            raw = self._cache.get(_KERNEL + key)
        except StoreError as e:
            log.warning("kernel store: entry %s refused: %s; the subgraph falls back", key[:16], e)
            return None
        if raw is None:
            return None
        try:
            entry = KernelEntry.from_json(unseal(raw, f"entry {key[:16]}"))
        except (StoreError, TypeError) as e:
            log.warning("kernel store: %s; the subgraph falls back", e)
            return None
        if entry.key != key:
            log.warning("kernel store: entry %s holds key %s; refused", key[:16], entry.key[:16])
            return None
        return entry

    def put(self, entry: KernelEntry) -> None:
        self._check_writable()
        self._cache.set(_KERNEL + entry.key, seal(entry.to_json()))
        structure = (entry.problem or {}).get("structural_key")
        if structure:
            self._index_structure(structure, entry.key)

    # by structure: the same computation at other sizes ------------------------------------------
    def _index_structure(self, structure: str, key: str) -> None:
        with self._cache.transact():  # read-modify-write, safe against other processes
            keys = self._structure_keys(structure)
            if key not in keys:
                self._cache.set(_STRUCTURE + structure, seal({"keys": sorted([*keys, key])}))

    def _structure_keys(self, structure: str) -> list[str]:
        raw = self._cache.get(_STRUCTURE + structure)
        if raw is None:
            return []
        try:
            keys = unseal(raw, f"structure {structure[:16]}")["keys"]
        except (StoreError, KeyError, TypeError) as e:
            log.warning("kernel store: %s; the index is rebuilt as kernels are stored", e)
            return []
        return [k for k in keys if isinstance(k, str)]

    def by_structure(self, structure: str) -> list[KernelEntry]:
        """Winners of this structural key, at whatever sizes they were found."""
        return [e for e in (self.get(k) for k in self._structure_keys(structure)) if e is not None]

    def get_note(self, name: str) -> dict[str, Any] | None:
        raw = self._cache.get(_NOTE + name)
        if raw is None:
            return None
        try:
            return unseal(raw, f"note {name[:24]}")
        except StoreError as e:
            log.warning("kernel store: %s; ignored", e)
            return None

    def put_note(self, name: str, note: dict[str, Any]) -> None:
        if not self.readonly:
            self._cache.set(_NOTE + name, seal(note))

    def note_names(self, prefix: str = "") -> list[str]:
        return sorted(k[len(_NOTE):] for k in self._iter_keys() if k.startswith(_NOTE + prefix))

    def delete_note(self, name: str) -> bool:
        self._check_writable()
        return bool(self._cache.delete(_NOTE + name))

    def delete(self, key: str) -> bool:
        self._check_writable()
        return bool(self._cache.delete(_KERNEL + key))

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
            self._cache.set(_PENDING + problem.key, seal(problem.to_json()))

    def pending(self) -> list[Problem]:
        out = []
        for k in self._iter_keys():
            if not k.startswith(_PENDING):
                continue
            try:
                out.append(Problem.from_json(unseal(self._cache.get(k), f"pending {k[len(_PENDING):][:16]}")))
            except (StoreError, TypeError) as e:
                log.warning("kernel store: %s; skipped", e)
        return out

    def clear_pending(self, key: str) -> None:
        if not self.readonly:
            self._cache.delete(_PENDING + key)

    # raw access for integrity tests and tools -------------------------------------------------
    def raw(self, key: str) -> bytes | None:
        return self._cache.get(_KERNEL + key)

    def put_raw(self, key: str, raw: bytes) -> None:
        self._check_writable()
        self._cache.set(_KERNEL + key, raw)

    def _iter_keys(self) -> Iterator[str]:
        for k in self._cache.iterkeys():
            if isinstance(k, str):
                yield k

    def _check_writable(self) -> None:
        if self.readonly:
            raise StoreError(f"the store at {self.cache_dir} is read-only")
