from conftest import decomposed_softmax_problem, softmax_problem

from torch_llmbackend.store.knowledge import Attempt, lesson_prompt
from torch_llmbackend.store.knowledge.prompts import clean_lesson
from torch_llmbackend.store.knowledge.records import wilson_lower_bound


def _stat(kb, state, technique):
    return next((s for s in kb.stats(state) if s.technique == technique), None)


def test_statistics_move_after_a_scripted_search(kb):
    state = "memory/softmax/triton"
    assert kb.stats(state) == []
    attempts = [
        Attempt(["online_softmax"], False, "build: triton compile error", None, None, False),
        Attempt(["block_reduction", "vectorized_loads"], True, "", 1.8, 0.95, False),
        Attempt(["block_reduction", "launch_configuration"], True, "", 2.6, 1.25, True),
    ]
    rec = kb.record_search(softmax_problem(), "cuda", "triton", attempts, "lesson", "model-a")
    assert rec.id == 1 and rec.state == state and rec.best_gain == 1.25

    br = _stat(kb, state, "block_reduction")
    assert (br.tried, br.won, br.verified) == (2, 1, 2)
    assert abs(br.mean_gain - (0.95 * 1.25) ** 0.5) < 1e-9  # geometric mean vs the better baseline
    online = _stat(kb, state, "online_softmax")
    assert (online.tried, online.won, online.verified, online.mean_gain) == (1, 0, 0, None)
    before = br.confidence

    kb.record_search(decomposed_softmax_problem(), "cuda", "triton",
                     [Attempt(["block_reduction"], True, "", 3.0, 1.5, True)], "again", "model-b")
    br2 = _stat(kb, state, "block_reduction")
    assert (br2.tried, br2.won) == (3, 2) and br2.confidence > before
    assert kb.count_searches() == 2


def test_wilson_lower_bound_ranks_evidence():
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(1, 1) < wilson_lower_bound(8, 10) < wilson_lower_bound(80, 100)
    assert 0.0 <= wilson_lower_bound(0, 5) < wilson_lower_bound(5, 5) <= 1.0


def test_attempt_gain_is_against_the_better_baseline():
    assert Attempt(["fusion"], True, "", 3.0, 1.2, True).gain == 1.2
    assert Attempt(["fusion"], True, "", 3.0, None, True).gain == 3.0
    assert Attempt(["fusion"], False, "verify", 3.0, 1.2, False).gain is None
    assert Attempt(["Vectorized loads", "vectorized-loads"], True).techniques == ["vectorized_loads"]


def test_lesson_prompt_describes_the_search():
    attempts = [Attempt(["online_softmax"], False, "verify: max abs err 0.3 on large-magnitude inputs"),
                Attempt(["block_reduction"], True, "", 2.0, 1.1, True)]
    text = lesson_prompt(softmax_problem(), attempts)
    assert "softmax" in text and "memory-bound" in text
    assert "online_softmax" in text and "large-magnitude" in text and "WINNER" in text
    assert "2-4 plain sentences" in text


def test_lessons_are_stored_short_and_without_code(kb):
    raw = "Use one block per row.\n```python\nimport triton\n```\n  " + "x " * 2000
    rec = kb.record_search(softmax_problem(), "cuda", "triton", [], raw, "m")
    assert "import triton" not in rec.lesson and len(rec.lesson) <= 1200
    assert kb.get_search(rec.id).lesson == rec.lesson
    assert clean_lesson("a\n\n b") == "a b"
