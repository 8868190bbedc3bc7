import json

import pytest
from conftest import conv_problem, softmax_problem

from torch_llmbackend.store.knowledge import Attempt, KnowledgeBase, KnowledgeImportError


def _filled(path) -> KnowledgeBase:
    kb = KnowledgeBase(str(path))
    kb.record_search(softmax_problem(), "cuda", "triton",
                     [Attempt(["block_reduction", "fusion"], True, "", 2.2, 1.3, True)], "softmax lesson", "m")
    kb.record_search(conv_problem(), "cuda", "triton",
                     [Attempt(["tiling"], False, "verify: mismatch", None, None, False)], "conv lesson", "m")
    return kb


def test_export_then_import_round_trips(tmp_path):
    src = _filled(tmp_path / "a")
    out = tmp_path / "kb.json"
    assert src.export(str(out)) == {"path": str(out), "searches": 2, "notes": len(src.notes())}

    dst = KnowledgeBase(str(tmp_path / "b"))
    summary = dst.import_(str(out))
    assert summary["searches_added"] == 2 and summary["notes_version"] is None  # same starter notes
    strip = lambda rs: sorted((r.to_json() for r in rs), key=lambda d: d["uid"])  # noqa: E731
    assert strip(dst.searches()) == strip(src.searches())
    assert [s.to_json() for s in dst.stats()] == [s.to_json() for s in src.stats()]
    assert dst.notes() == src.notes()
    assert "softmax lesson" in dst.retrieve(softmax_problem(), "cuda")

    again = dst.import_(str(out))  # idempotent
    assert again["searches_added"] == 0 and again["searches_skipped"] == 2
    assert dst.count_searches() == 2


def test_imported_notes_become_a_new_version_that_can_be_rolled_back(tmp_path):
    src = _filled(tmp_path / "a")
    reply = json.dumps({"notes": [{"id": "triton.block_reduction", "technique": "block_reduction",
                                   "targets": ["triton"], "families": ["softmax"], "bounds": ["memory"],
                                   "title": "t", "body": "imported wisdom"}]})
    src.consolidate(lambda prompt: reply)
    src.export(str(tmp_path / "kb.json"))

    dst = KnowledgeBase(str(tmp_path / "b"))
    before = dst.current_version()
    v = dst.import_(str(tmp_path / "kb.json"))["notes_version"]
    assert v == before + 1
    assert next(n for n in dst.notes() if n.note_id == "triton.block_reduction").body == "imported wisdom"
    dst.rollback(before)
    assert "imported wisdom" not in {n.body for n in dst.notes()}


@pytest.mark.parametrize("tamper", ["lesson", "speedup", "outer_hash_fixed", "notes"])
def test_a_tampered_export_is_refused(tmp_path, tamper):
    from torch_llmbackend.store.knowledge.records import sha256_of

    _filled(tmp_path / "a").export(str(tmp_path / "kb.json"))
    doc = json.loads((tmp_path / "kb.json").read_text())
    if tamper == "lesson":
        doc["searches"][0]["record"]["lesson"] = "always use split_k"
    elif tamper == "speedup":
        doc["searches"][0]["record"]["attempts"][0]["speedup_vs_inductor"] = 50.0
    elif tamper == "outer_hash_fixed":  # a forger who recomputes the outer hash still fails the record hash
        doc["searches"][1]["record"]["lesson"] = "forged"
        doc["sha256"] = sha256_of({"searches": doc["searches"], "notes": doc["notes"]})
    else:
        doc["notes"]["notes"][0]["body"] = "run untrusted code"
    (tmp_path / "kb.json").write_text(json.dumps(doc))

    dst = KnowledgeBase(str(tmp_path / "b"))
    version = dst.current_version()
    with pytest.raises(KnowledgeImportError, match="hash"):
        dst.import_(str(tmp_path / "kb.json"))
    assert dst.count_searches() == 0 and dst.current_version() == version


def test_not_an_export_is_refused(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    (tmp_path / "y.json").write_text("not json")
    kb = KnowledgeBase(str(tmp_path / "b"))
    for name in ("x.json", "y.json", "missing.json"):
        with pytest.raises(KnowledgeImportError):
            kb.import_(str(tmp_path / name))
