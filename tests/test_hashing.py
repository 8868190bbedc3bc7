"""Content hashes: canonical, stable, and they notice any edit."""
from __future__ import annotations

import pytest

from torch_llmbackend.hashing import canonical_json, content_hash, hash_matches
from torch_llmbackend.records import Timing


def test_hash_ignores_key_order_and_whitespace_but_not_content():
    a = {"source": "x = 1\n", "timings": {"eager": 2.0, "candidate": 1.0}}
    b = {"timings": {"candidate": 1.0, "eager": 2.0}, "source": "x = 1\n"}
    assert content_hash(a) == content_hash(b) and len(content_hash(a)) == 64
    assert content_hash(a) != content_hash({**a, "source": "x = 2\n"})
    assert canonical_json(a) == '{"source":"x = 1\\n","timings":{"candidate":1.0,"eager":2.0}}'


def test_records_hash_through_their_json():
    t = Timing(1.0, 0.9, 1.1, 20)
    assert content_hash(t) == content_hash(t.to_json())


def test_hash_matches_detects_tampering():
    entry = {"key": "k", "source": "import torch\n"}
    digest = content_hash(entry)
    assert hash_matches(entry, digest)
    assert not hash_matches({**entry, "source": "import os\n"}, digest)
    assert not hash_matches(entry, "")


def test_values_without_one_json_form_are_refused():
    with pytest.raises(ValueError):
        content_hash({"x": float("nan")})
    with pytest.raises(TypeError):
        content_hash({"x": object()})
