import json

import pytest
from conftest import conv_problem, softmax_problem

from torch_llmbackend.store.knowledge import Attempt
from torch_llmbackend.store.knowledge.prompts import ConsolidationReplyError


class FakeLLM:
    """Stands in for the agent's provider: records the prompt, answers with a fixed reply."""

    def __init__(self, reply: str):
        self.reply, self.prompts = reply, []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.reply


REPLY = "Here are the notes:\n```json\n" + json.dumps({
    "notes": [
        {"id": "triton.block_reduction", "technique": "block_reduction", "targets": ["triton"],
         "families": ["softmax", "reduction"], "bounds": ["memory"], "title": "Whole row per program",
         "body": "For rows up to 8K fp32, one program per row with num_warps=8 reached 90% of bandwidth."},
        {"id": "triton.softmax_fp16_rows", "technique": "mixed_precision_accumulation", "targets": ["triton"],
         "families": ["softmax"], "bounds": ["memory"], "title": "fp16 softmax rows",
         "body": "Accumulate exp sums in fp32; fp16 sums failed verification on rows of 4096."},
    ],
    "retire": ["gpu.swizzling"],
    "summary": "block reduction refined, fp16 note added, swizzling retired",
}) + "\n```"


def _record_lessons(kb):
    kb.record_search(softmax_problem(), "cuda", "triton", [Attempt(["block_reduction"], True, "", 2.0, 1.2, True)],
                     "Block reduction with num_warps=8 won on 4096-wide rows.", "m")
    kb.record_search(conv_problem(), "cuda", "triton", [Attempt(["tiling"], True, "", 1.0, 0.9, False)],
                     "Implicit GEMM lost to cuDNN.", "m")


def test_consolidation_is_a_new_version_and_reversible(kb):
    _record_lessons(kb)
    v_before = kb.current_version()
    notes_before = kb.notes()
    assert kb.pending_lessons() == 2

    llm = FakeLLM(REPLY)
    v_new = kb.consolidate(llm)
    assert v_new == v_before + 1 and kb.current_version() == v_new
    # the prompt carried the lessons and the notes concerned
    assert "Block reduction with num_warps=8" in llm.prompts[0] and "Implicit GEMM lost" in llm.prompts[0]
    assert "triton.block_reduction" in llm.prompts[0]

    after = {n.note_id: n for n in kb.notes()}
    assert after["triton.block_reduction"].body.startswith("For rows up to 8K")
    assert after["triton.block_reduction"].origin == "consolidated"
    assert "triton.softmax_fp16_rows" in after and "gpu.swizzling" not in after
    assert "90% of bandwidth" in kb.retrieve(softmax_problem(), "cuda")

    # nothing new since: no call to the LLM, no version
    assert kb.pending_lessons() == 0
    assert kb.consolidate(FakeLLM("unused")) is None

    kb.rollback(v_before)
    assert kb.current_version() == v_before
    assert kb.notes() == notes_before
    assert "90% of bandwidth" not in kb.retrieve(softmax_problem(), "cuda")
    # the rolled-back lessons are pending again, and the rollback can itself be undone
    assert kb.consolidation_prompt() is not None and kb.pending_lessons() == 2
    kb.rollback(v_new)
    assert {n.note_id for n in kb.notes()} == set(after)
    versions = kb.note_versions()
    assert [v.source for v in versions] == ["starter", "consolidation"] and versions[-1].current


def test_malformed_reply_changes_nothing(kb):
    _record_lessons(kb)
    version, notes = kb.current_version(), kb.notes()
    for bad in ("I think tiling is good.", '{"notes": [{"technique": "tiling"}]}',
                '{"notes": [{"technique": "tiling", "body": "x", "targets": ["tpu"]}]}', '{"notes": []}'):
        with pytest.raises(ConsolidationReplyError):
            kb.consolidate(FakeLLM(bad))
    assert kb.current_version() == version and kb.notes() == notes


def test_rollback_to_unknown_version_is_refused(kb):
    with pytest.raises(ValueError, match="no note version"):
        kb.rollback(99)
