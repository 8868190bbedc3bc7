"""Bundles: winners as a portable folder (or tarball) of readable files.

Layout: `manifest.json` lists every kernel with the SHA-256 of its source file and of its
metadata; `kernels/<key prefix>_<target>.py` holds each source as the LLM (or a person) wrote
it. Reading a bundle checks every hash; a file that does not match is refused by name. A
bundle is untrusted input: importing one re-verifies each kernel on this machine (the caller
passes the verification; this module runs no kernel code).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tarfile
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..atomic_write import write_atomically
from .kernels import KernelEntry, content_hash

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
KNOWLEDGE = "knowledge.json"  # the knowledge base export (it carries its own hashes)


class BundleError(RuntimeError):
    pass


@dataclass
class BundleRead:
    entries: list[KernelEntry]
    refused: list[tuple[str, str]]  # (key or file, reason)
    knowledge: bytes | None = None


def export_bundle(entries: list[KernelEntry], path: str, knowledge: bytes | None = None) -> int:
    """Write `entries` (and a knowledge-base export) to a folder, or a .tar.gz/.tgz when `path`
    ends so. Returns the number of kernels written."""
    if path.endswith((".tar.gz", ".tgz")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "bundle")
            n = export_bundle(entries, folder, knowledge)
            with tarfile.open(path, "w:gz") as tar:
                tar.add(folder, arcname="bundle")
            return n
    os.makedirs(os.path.join(path, "kernels"), exist_ok=True)
    items = []
    for e in sorted(entries, key=lambda e: e.key):
        rel = f"kernels/{e.key[:16]}_{e.target}.py"
        write_atomically(os.path.join(path, rel), e.source.encode())
        meta = e.to_json()
        meta.pop("source")
        items.append({
            "key": e.key, "target": e.target, "file": rel,
            "source_sha256": hashlib.sha256(e.source.encode()).hexdigest(),
            "meta_sha256": content_hash(meta), "meta": meta,
        })
    if knowledge is not None:
        write_atomically(os.path.join(path, KNOWLEDGE), knowledge)
    manifest = {"format": FORMAT, "created": time.time(), "kernels": items}
    write_atomically(os.path.join(path, MANIFEST), json.dumps(manifest, indent=1, sort_keys=True).encode())
    return len(items)


def read_bundle(path: str) -> BundleRead:
    """Every entry whose files match their hashes; the rest listed as refused, with why."""
    path = str(path)
    if os.path.isfile(path) and tarfile.is_tarfile(path):
        return _read_tar(path)
    manifest_path = os.path.join(path, MANIFEST)
    if not os.path.isfile(manifest_path):
        raise BundleError(f"{path} is not a bundle (no {MANIFEST})")
    read = _read_files(Path(manifest_path).read_bytes(), lambda rel: _read_inside(path, rel))
    kb = os.path.join(path, KNOWLEDGE)
    read.knowledge = Path(kb).read_bytes() if os.path.isfile(kb) else None
    return read


def _read_inside(root: str, rel: str) -> bytes:
    full = os.path.realpath(os.path.join(root, rel))
    if not full.startswith(os.path.realpath(root) + os.sep):
        raise BundleError(f"{rel} points outside the bundle")
    return Path(full).read_bytes()


def _read_tar(path: str) -> BundleRead:
    with tarfile.open(path, "r:*") as tar:
        files = {}
        for m in tar.getmembers():
            if m.isfile() and m.size < 16 << 20:  # only regular files, no links, nothing huge
                files[m.name.split("/", 1)[-1]] = tar.extractfile(m).read()
    if MANIFEST not in files:
        raise BundleError(f"{path} is not a bundle (no {MANIFEST})")

    def read(rel: str) -> bytes:
        if rel not in files:
            raise BundleError(f"{rel} is missing")
        return files[rel]

    out = _read_files(files[MANIFEST], read)
    out.knowledge = files.get(KNOWLEDGE)
    return out


def _read_files(manifest_raw: bytes, read) -> BundleRead:
    try:
        manifest = json.loads(manifest_raw.decode())
        items = manifest["kernels"]
    except (ValueError, KeyError, UnicodeDecodeError) as e:
        raise BundleError(f"unreadable manifest: {e}") from None
    if manifest.get("format") != FORMAT:
        raise BundleError(f"unknown bundle format {manifest.get('format')!r}")
    out = BundleRead([], [])
    for item in items:
        name = str(item.get("key", "?"))[:16]
        try:
            source = read(item["file"])
            if hashlib.sha256(source).hexdigest() != item["source_sha256"]:
                raise BundleError(f"{item['file']}: source hash mismatch")
            if content_hash(item["meta"]) != item["meta_sha256"]:
                raise BundleError("metadata hash mismatch")
            entry = KernelEntry.from_json({**item["meta"], "source": source.decode()})
            if entry.key != item["key"]:
                raise BundleError("manifest key differs from the entry's key")
            out.entries.append(entry)
        except (BundleError, KeyError, OSError, UnicodeDecodeError, TypeError) as e:
            out.refused.append((name, str(e)))
    return out


def shipped_bundle_path() -> str | None:
    """The bundle that ships with the package: cache/ in a source checkout, or the copy
    installed as package data."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "cache", here / "shipped"):
        if (candidate / MANIFEST).is_file():
            return str(candidate)
    return None


@lru_cache(maxsize=1)
def shipped_entries() -> dict[str, KernelEntry]:
    """The shipped bundle's entries by key, read once per process (read-only)."""
    path = shipped_bundle_path()
    if path is None:
        return {}
    try:
        read = read_bundle(path)
    except BundleError as e:
        log.warning("shipped bundle at %s refused: %s", path, e)
        return {}
    for name, why in read.refused:
        log.warning("shipped bundle: kernel %s refused: %s", name, why)
    return {e.key: e for e in read.entries}

