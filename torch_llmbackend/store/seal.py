"""How a store row is wrapped: a content hash that says it is whole, and an HMAC that says who wrote it.

    {"format": 2, "sha256": <hash of the payload>, "mac": <HMAC-SHA256 or null>, "payload": {...}}

The hash is checked first: a row that fails it is corrupt or tampered and is refused. The MAC
covers the row's name in the store and the payload, keyed by the user's secret (store/secret.py),
so a row copied under another key, or written by anyone without the secret, does not carry this
user's word. Such a row (and every row of format 1, written before rows were signed) is still
readable but untrusted: the store drops its claims and the kernel is verified again before use.
"""
from __future__ import annotations

import json
from typing import Any

from .. import hashing
from .secret import mac, mac_matches

FORMAT = 2
_UNSIGNED_FORMATS = (1,)  # readable, never trusted
_DOMAIN = b"torch_llmbackend kernel store row\n"


class SealError(RuntimeError):
    """A row that is unreadable, of an unknown format, or fails its content hash."""


# allow_nan: rows have always been written with NaN allowed, and must keep their hashes.
def canonical_json(obj: Any) -> bytes:
    return hashing.canonical_json(obj, allow_nan=True).encode()


def content_hash(obj: Any) -> str:
    return hashing.content_hash(obj, allow_nan=True)


def seal(row: str, payload: dict[str, Any], secret: bytes | None) -> bytes:
    """`payload` as the bytes stored under `row`; signed when a secret is at hand."""
    signature = mac(secret, _message(row, payload)) if secret is not None else None
    return canonical_json({"format": FORMAT, "sha256": content_hash(payload), "mac": signature, "payload": payload})


def unseal(raw: bytes, row: str, what: str, secret: bytes | None) -> tuple[dict[str, Any], bool]:
    """(payload, signed by this user) for a stored row; SealError says what is wrong with it."""
    try:
        doc = json.loads(raw.decode())
        payload, digest = doc["payload"], doc["sha256"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError) as e:
        raise SealError(f"{what}: unreadable entry ({type(e).__name__}: {e})") from None
    if doc.get("format") not in (FORMAT, *_UNSIGNED_FORMATS):
        raise SealError(f"{what}: unknown entry format {doc.get('format')!r}")
    if not isinstance(payload, dict) or content_hash(payload) != digest:
        raise SealError(f"{what}: content hash mismatch (tampered or truncated)")
    signed = (doc["format"] == FORMAT and secret is not None
              and mac_matches(secret, _message(row, payload), doc.get("mac")))
    return payload, signed


def _message(row: str, payload: dict[str, Any]) -> bytes:
    return _DOMAIN + row.encode() + b"\n" + canonical_json(payload)
