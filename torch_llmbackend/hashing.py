"""Content hashes: the one canonical JSON form and its sha256, for store rows, bundle files and
knowledge-base exports.

A hash covers the canonical JSON of a record: keys sorted, no insignificant whitespace, UTF-8.
Two processes that build the same record get the same hash, and any edit to a stored entry
(source, timings, provenance) changes it, so a tampered entry is refused on read.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def canonical_json(obj: Any, *, allow_nan: bool = False) -> str:
    """The one text form a record is hashed in. Records with `to_json()` are converted first.

    allow_nan=False (the default): NaN != NaN would make a record's hash depend on how it was
    produced. The kernel store's rows pass True: rows written with it must keep their hashes."""
    if hasattr(obj, "to_json"):
        obj = obj.to_json()
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan,
                      default=_refuse)


def content_hash(obj: Any, *, allow_nan: bool = False) -> str:
    """sha256 hex digest of `canonical_json(obj)` in UTF-8."""
    return hashlib.sha256(canonical_json(obj, allow_nan=allow_nan).encode("utf-8")).hexdigest()


def hash_matches(obj: Any, expected: str) -> bool:
    """True when `obj` still hashes to `expected` (constant-time comparison)."""
    return hmac.compare_digest(content_hash(obj), expected or "")


def _refuse(value: Any) -> Any:
    raise TypeError(f"content_hash: {type(value).__name__} is not JSON data; convert it first")
