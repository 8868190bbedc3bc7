"""Content hashes for store entries and bundle files.

A hash covers the canonical JSON of a record: keys sorted, no insignificant whitespace, UTF-8.
Two processes that build the same record get the same hash, and any edit to a stored entry
(source, timings, provenance) changes it, so a tampered entry is refused on read.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    """The one text form a record is hashed in. Records with `to_json()` are converted first."""
    if hasattr(obj, "to_json"):
        obj = obj.to_json()
    # allow_nan=False: NaN != NaN would make a record's hash depend on how it was produced.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_refuse)


def content_hash(obj: Any) -> str:
    """sha256 hex digest of `canonical_json(obj)`."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def hash_matches(obj: Any, expected: str) -> bool:
    """True when `obj` still hashes to `expected` (constant-time comparison)."""
    return hmac.compare_digest(content_hash(obj), expected or "")


def _refuse(value: Any) -> Any:
    raise TypeError(f"content_hash: {type(value).__name__} is not JSON data; convert it first")
