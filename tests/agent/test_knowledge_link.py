"""The search and the knowledge base: experience goes into the prompt, each search comes back as
a record with its attempts and a lesson from the LLM, lessons are consolidated now and then,
and a failing knowledge base never fails a search."""
import json
import logging

import pytest

from tests.agent.fakes import JudgeEvaluator, timed
from tests.agent.kernels import GOOD, add_relu_problem, answer
from torch_llmbackend.agent import Searcher, knowledge
from torch_llmbackend.agent.provider import Provider
from torch_llmbackend.options import Options
from torch_llmbackend.store.kernels import KernelStore
from torch_llmbackend.store.knowledge import KnowledgeBase

LESSON = "Fusing the add and the relu into one masked pass (fusion) won 1.6x: the op is memory-bound."
TILED = GOOD.replace("import torch\n", "import torch  # one fused kernel, tiled in blocks of 64\n", 1)


@pytest.fixture
def store(tmp_path):
    with KernelStore(str(tmp_path / "cache")) as s:
        yield s


def searcher_for(server, store, kb, **options):
    opts = Options(base_url=server.base_url, model="scripted", cache_dir=store.cache_dir, progress=False,
                   **{"max_rounds": 2, "target_speedup": 100.0, **options})
    judge = JudgeEvaluator(lambda src: timed(5.0) if "fused" in src else timed(9.0))
    return Searcher(opts, judge, store, kb, provider=Provider(opts, backoff_base_s=0.05))


def test_a_search_is_recorded_with_its_attempts_and_a_lesson_and_helps_the_next_one(llm_server, store):
    kb = KnowledgeBase(store.cache_dir, load_starter=False)
    llm_server.add(answer(GOOD), answer(TILED), LESSON)
    problem = add_relu_problem()
    result = searcher_for(llm_server, store, kb).search(problem)

    assert result.ok and len(llm_server.requests) == 3 and result.usage["requests"] == 3
    assert "State the lesson for the next engineer" in llm_server.prompts()[2]
    [record] = kb.searches()
    assert record.problem_key == problem.key and record.model == "scripted" and record.lesson == LESSON
    assert [a.verified for a in record.attempts] == [True, True]
    assert [a.won for a in record.attempts] == [False, True]
    assert "fusion" in record.attempts[1].techniques and "tiling" in record.attempts[1].techniques
    assert record.attempts[1].speedup_vs_eager == pytest.approx(2.0)

    # a similar subgraph later: the lesson is in its first prompt
    llm_server.add(answer(TILED), answer(TILED), "Same lesson.")
    searcher_for(llm_server, store, kb).search(add_relu_problem((8, 40)))
    assert "## Experience from earlier searches" in llm_server.requests[3]["messages"][1]["content"]
    assert LESSON in llm_server.requests[3]["messages"][1]["content"]


def test_lessons_are_consolidated_once_enough_have_piled_up(llm_server, store, monkeypatch):
    monkeypatch.setattr(knowledge, "CONSOLIDATE_AFTER", 1)
    kb = KnowledgeBase(store.cache_dir, load_starter=False)
    note = {"notes": [{"id": "note.fusion", "technique": "fusion", "targets": ["triton"], "families": ["pointwise"],
                       "bounds": ["memory"], "title": "Fuse pointwise chains", "body": "One pass over memory wins."}],
            "retire": [], "summary": "fusion note"}
    llm_server.add(answer(TILED), LESSON, json.dumps(note))
    before = kb.current_version()
    searcher_for(llm_server, store, kb, max_rounds=1).search_many([add_relu_problem()])
    assert "Fold the new lessons below into the notes" in llm_server.prompts()[2]
    assert kb.current_version() != before and [n.title for n in kb.notes()] == ["Fuse pointwise chains"]


class BrokenKB:
    def retrieve(self, *args):
        raise OSError("database is locked")

    def record_search(self, *args):
        raise OSError("disk full")


def test_a_failing_knowledge_base_costs_the_search_nothing(llm_server, store, caplog):
    llm_server.add(answer(TILED), answer(TILED))
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        result = searcher_for(llm_server, store, BrokenKB()).search(add_relu_problem())
    assert result.ok and store.get(result.key) is not None
    messages = [r.getMessage() for r in caplog.records]
    assert any("retrieval failed (OSError: database is locked)" in m for m in messages)
    assert any("could not record the search" in m and "disk full" in m for m in messages)
