"""Gemmini's gains are measured against its own library kernel (in cycles), not eager/Inductor:
the knowledge base keeps them as such, and bases made before that field existed still open."""
import sqlite3

from conftest import matmul_problem

from torch_llmbackend.store.knowledge import Attempt, KnowledgeBase, lesson_prompt


def gemmini_attempts():
    return [Attempt(["loop_tiling"], True, "ok", speedup_vs_library=1.25, won=True),
            Attempt(["dataflow_choice"], False, "verify: mismatch")]


def test_a_gain_over_the_library_feeds_the_statistics_and_the_prompts(kb):
    problem = matmul_problem(512, 512, 512, dtype="int8", target="gemmini")
    record = kb.record_search(problem, "gemmini", "gemmini", gemmini_attempts(), "retiling won", "scripted")
    (stat,) = [s for s in kb.stats(record.state) if s.technique == "loop_tiling"]
    assert stat.won == 1 and abs(stat.mean_gain - 1.25) < 1e-9
    assert kb.get_search(record.id).attempts[0].speedup_vs_library == 1.25
    assert "1.25x vs the library" in lesson_prompt(problem, gemmini_attempts(), "gemmini")


def test_a_base_from_before_the_library_column_is_migrated(tmp_path):
    KnowledgeBase(str(tmp_path), load_starter=False)
    path = tmp_path / "knowledge.sqlite"
    with sqlite3.connect(path) as con:  # what an older version created: no speedup_library
        con.execute("ALTER TABLE attempts DROP COLUMN speedup_library")
    kb = KnowledgeBase(str(tmp_path), load_starter=False)
    problem = matmul_problem(64, 64, 64, dtype="int8", target="gemmini")
    record = kb.record_search(problem, "gemmini", "gemmini", gemmini_attempts(), "lesson", "scripted")
    assert kb.get_search(record.id).attempts[0].speedup_vs_library == 1.25


def test_a_uid_prefix_made_of_digits_still_finds_its_search(kb):
    """A uid is hex, so its prefix can be all digits, like a local id that does not exist."""
    problem = matmul_problem(64, 64, 64, dtype="int8", target="gemmini")
    record = kb.record_search(problem, "gemmini", "gemmini", gemmini_attempts(), "retiling won", "scripted")
    with sqlite3.connect(kb.path) as con:
        con.execute("UPDATE searches SET uid = ? WHERE id = ?", ("94810085" + "a" * 24, record.id))
    assert kb.get_search("94810085").id == record.id
    assert kb.get_search(str(record.id)).id == record.id  # a local id still wins
