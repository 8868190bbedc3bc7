import json

from torch_llmbackend.store.knowledge import STARTER_PATH, KnowledgeBase
from torch_llmbackend.store.knowledge.features import FAMILIES
from torch_llmbackend.store.knowledge.taxonomy import techniques_for

FIELDS = ("id", "technique", "targets", "families", "bounds", "title", "what", "when", "pitfalls", "gain")


def test_starter_has_30_entries_covering_every_target():
    entries = json.load(open(STARTER_PATH))["entries"]
    assert len(entries) >= 30
    assert len({e["id"] for e in entries}) == len(entries)
    for e in entries:
        assert all(e.get(f) for f in FIELDS), e["id"]
        assert set(e["families"]) <= set(FAMILIES) and set(e["bounds"]) <= {"memory", "compute", "latency"}
        for t in e["targets"]:  # every technique is one the taxonomy knows for that target
            assert e["technique"] in techniques_for(t), (e["id"], t)
    for target, at_least in (("cuda", 10), ("triton", 10), ("gemmini", 8)):
        assert sum(target in e["targets"] for e in entries) >= at_least


def test_starter_loads_once_into_a_fresh_base(tmp_path):
    entries = json.load(open(STARTER_PATH))["entries"]
    kb = KnowledgeBase(str(tmp_path))
    assert len(kb.notes()) == len(entries) and kb.current_version() == 1
    assert KnowledgeBase(str(tmp_path)).current_version() == 1  # idempotent
    assert kb.ensure_starter() is None


def test_a_changed_starter_keeps_consolidated_notes(tmp_path):
    kb = KnowledgeBase(str(tmp_path / "kb"))
    reply = json.dumps({"notes": [
        {"id": "mine", "technique": "tiling", "targets": ["triton"], "families": ["matmul"], "bounds": ["compute"],
         "title": "t", "body": "b"},
        {"id": "gpu.split_k", "technique": "split_k", "targets": ["triton"], "families": ["matmul"],
         "bounds": ["memory"], "title": "learned", "body": "split-K lost on every square problem"},
    ]})
    from conftest import softmax_problem
    from torch_llmbackend.store.knowledge import Attempt

    kb.record_search(softmax_problem(), "cuda", "triton", [Attempt(["tiling"], True, "", 1, 1, False)], "l", "m")
    kb.consolidate(lambda prompt: reply)

    doc = json.load(open(STARTER_PATH))
    doc["entries"] = doc["entries"][:31]
    doc["entries"][0] = {**doc["entries"][0], "title": "A revised title"}
    new_starter = tmp_path / "starter.json"
    new_starter.write_text(json.dumps(doc))
    v = kb.ensure_starter(str(new_starter))
    assert v == 3
    notes = {n.note_id: n for n in kb.notes()}
    assert len(notes) == 32 and "mine" in notes
    assert notes["gpu.split_k"].title == "learned"  # experience outranks the starter text
    assert notes[doc["entries"][0]["id"]].title == "A revised title"
