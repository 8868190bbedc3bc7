"""The search loop's control flow against a real chat-completions server: feedback, budgets,
retries, beams, plan-then-implement, concurrency, a dead endpoint, transcripts.

The evaluator here is a stand-in that returns scripted verdicts (see fakes.py), so these tests
are about what the loop does with verdicts; test_end_to_end.py runs the real evaluator."""
import glob
import io
import logging
import socket
import sys

import pytest

from tests.agent.fakes import JudgeEvaluator, timed
from tests.agent.kernels import GOOD, add_relu_problem, answer
from tests.agent.llm_server import delayed, empty_choices, no_content, reply, status, truncated
from torch_llmbackend.agent import Searcher
from torch_llmbackend.agent.prompts import IMPLEMENT_REQUEST, PLAN_REQUEST
from torch_llmbackend.agent.provider import Provider
from torch_llmbackend.options import Options
from torch_llmbackend.records import Evaluation
from torch_llmbackend.store.kernels import KernelStore


def variant(us: float) -> str:
    """GOOD, marked so that the stand-in evaluator can time it at `us` microseconds."""
    return GOOD.replace("import torch\n", f"import torch  # {us} us\n", 1)


def by_marker(source: str) -> Evaluation:
    for line in source.splitlines():
        if "# " in line and line.endswith(" us"):
            return timed(float(line.split("# ")[1].split()[0]))
    return Evaluation(False, "verify", "max abs error 1.0 at [0, 3]")


@pytest.fixture
def store(tmp_path):
    with KernelStore(str(tmp_path / "cache")) as s:
        yield s


def searcher_for(server, store, evaluator=None, machine=None, **options) -> Searcher:
    opts = Options(base_url=server.base_url, model="scripted", cache_dir=store.cache_dir,
                   **{"progress": False, "retries": 2, "request_timeout_s": 5.0, "max_rounds": 4, **options})
    return Searcher(opts, evaluator or JudgeEvaluator(by_marker), store,
                    provider=Provider(opts, backoff_base_s=0.05), machine=machine)


def test_stops_at_the_target_speedup_and_stores_the_winner_with_provenance(llm_server, store):
    llm_server.add(reply(answer(variant(6.0)), prompt_tokens=100, completion_tokens=50),  # 1.33x over inductor
                   reply(answer(variant(3.0)), prompt_tokens=150, completion_tokens=60))  # 2.67x
    problem = add_relu_problem()
    machine = {"device": "cpu-interpreter", "torch": "2.13.0", "triton": "3.9.0"}
    result = searcher_for(llm_server, store, machine=machine, target_speedup=2.0).search(problem)

    assert result.ok and result.rounds == 2 and len(llm_server.requests) == 2
    assert result.reason.startswith("target speed-up reached: 2.67x over inductor in round 2")
    assert result.speedup == pytest.approx(8.0 / 3.0)
    assert result.usage["requests"] == 2 and result.usage["total_tokens"] == 360
    stored = store.get(problem.key)
    assert stored.source == variant(3.0)
    assert stored.provenance["author"] == "scripted" and stored.provenance["rounds"] == 2
    assert stored.provenance["tokens"] == 360 and stored.timings["candidate"]["median"] == 3.0
    assert stored.problem == problem.to_json()
    assert stored.verified_here(machine)  # a fresh process on this machine need not verify it again
    # the verified-but-slow first candidate was reported back with its timing
    assert "yours 6 us" in llm_server.prompts()[1] and "Make it faster" in llm_server.prompts()[1]


def test_the_round_budget_keeps_the_best_verified_candidate(llm_server, store):
    llm_server.add(answer(variant(5.0)), answer(variant(7.0)), answer("broken(\n"))
    result = searcher_for(llm_server, store, max_rounds=3).search(add_relu_problem())
    assert result.rounds == 3 and len(llm_server.requests) == 3
    assert result.reason.startswith("round budget spent (3 rounds); best verified candidate: 1.60x")
    assert store.get(result.key).source == variant(5.0)


def test_the_token_budget_stops_the_search(llm_server, store):
    llm_server.add(reply(answer("no model here"), prompt_tokens=700, completion_tokens=400), answer(variant(1.0)))
    result = searcher_for(llm_server, store, max_search_tokens=1000).search(add_relu_problem())
    assert len(llm_server.requests) == 1 and not result.ok
    assert result.reason.startswith("token budget spent (1,100 of 1,000 tokens)")
    assert store.get(result.key) is None


def test_the_time_budget_stops_the_search(llm_server, store):
    llm_server.add(delayed(0.7, answer(variant(9.0))), delayed(0.7, answer(variant(8.5))), answer(variant(1.0)))
    result = searcher_for(llm_server, store, max_search_seconds=1.0).search(add_relu_problem())
    # round 2 started with 0.3 s left and its request could not finish in time
    assert result.reason.startswith("time budget spent") and len(llm_server.requests) == 2
    assert store.get(result.key).source == variant(9.0)


def test_429_and_500_are_retried_within_a_round(llm_server, store):
    llm_server.add(status(429, headers={"Retry-After": "0.1"}), status(500), answer(variant(2.0)))
    result = searcher_for(llm_server, store).search(add_relu_problem())
    assert result.ok and result.rounds == 1 and len(llm_server.requests) == 3


def test_malformed_answers_cost_a_round_not_the_search(llm_server, store):
    llm_server.add(truncated(), empty_choices(), no_content(), answer(variant(2.0)))
    result = searcher_for(llm_server, store, max_rounds=4).search(add_relu_problem())
    assert result.ok and result.rounds == 4
    with open(result.transcript_path) as f:
        assert f.read().count("counted as a failed sample") == 3


def test_a_reply_without_code_is_fed_back(llm_server, store):
    llm_server.add("I would fuse the add and the relu into one kernel.", answer(variant(2.0)))
    result = searcher_for(llm_server, store).search(add_relu_problem())
    assert result.ok and result.rounds == 2
    second = llm_server.requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": "I would fuse the add and the relu into one kernel."}
    assert "No usable code" in second[-1]["content"] and "no code block" in second[-1]["content"]


def test_a_beam_evaluates_every_sample_and_continues_from_the_best(llm_server, store):
    # samples of a round are requested concurrently, so which sample gets which answer varies
    llm_server.add(answer("class ModelNew(:\n"), answer(variant(4.0)), answer(GOOD),  # round 1
                   answer(variant(3.5)), answer(variant(9.0)), answer(variant(8.0)))  # round 2
    evaluator = JudgeEvaluator(by_marker)
    result = searcher_for(llm_server, store, evaluator, samples_per_round=3, max_rounds=2,
                          target_speedup=10.0).search(add_relu_problem())
    assert len(evaluator.sources) == 6 and result.rounds == 2
    assert store.get(result.key).source == variant(3.5)
    round2 = llm_server.requests[3]["messages"]
    assert round2[-2]["content"] == answer(variant(4.0))  # the verified sample carried on
    assert "Your other attempts this round:" in round2[-1]["content"]
    assert "failed at static: SyntaxError" in round2[-1]["content"]
    assert "failed at verify: max abs error 1.0 at [0, 3]" in round2[-1]["content"]


def test_plan_then_implement(llm_server, store):
    llm_server.add("Fuse add and relu in one pass; 64-wide blocks.", answer(variant(2.0)))
    result = searcher_for(llm_server, store, plan_first=True, max_rounds=1).search(add_relu_problem())
    plan_request, code_request = llm_server.requests
    assert plan_request["messages"][-1]["content"].endswith(PLAN_REQUEST)
    assert code_request["messages"][-2] == {"role": "assistant", "content": "Fuse add and relu in one pass; 64-wide blocks."}
    assert code_request["messages"][-1]["content"] == IMPLEMENT_REQUEST
    assert result.ok and result.usage["requests"] == 2


def test_many_subgraphs_are_searched_concurrently_within_the_request_limit(llm_server, store):
    llm_server.default = delayed(0.3, answer(variant(1.0)))
    problems = [add_relu_problem((4, n)) for n in (8, 16, 24, 32, 40)]
    results = searcher_for(llm_server, store, max_concurrency=2).search_many(problems + problems[:1])
    assert sorted(results) == sorted(p.key for p in problems)
    assert all(r.ok for r in results.values()) and len(llm_server.requests) == 5
    assert llm_server.max_in_flight == 2
    assert sorted(store.keys()) == sorted(p.key for p in problems)


def test_a_dead_endpoint_falls_back_with_one_warning(store, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = Options(base_url=f"http://127.0.0.1:{port}/v1", model="m", cache_dir=store.cache_dir, progress=False)
    searcher = Searcher(opts, JudgeEvaluator(), store)
    problems = [add_relu_problem((4, n)) for n in (8, 16, 24, 32)]
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        results = searcher.search_many(problems)
        results.update(searcher.search_many(problems[:1]))
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "LLM endpoint unavailable" in warnings[0].getMessage()
    assert "fall back" in warnings[0].getMessage() and f"127.0.0.1:{port}" in warnings[0].getMessage()
    assert all(not r.ok and "LLM endpoint unavailable" in r.reason for r in results.values())
    assert store.keys() == []


def test_every_prompt_and_reply_is_in_the_transcript(llm_server, store):
    llm_server.add(answer("no model here", prose="First try."), answer(variant(2.0), prose="Second try."))
    problem = add_relu_problem()
    result = searcher_for(llm_server, store).search(problem)
    files = glob.glob(f"{store.cache_dir}/transcripts/{problem.key}/*.md")
    assert files == [result.transcript_path]
    with open(result.transcript_path) as f:
        text = f.read()
    assert problem.reference_source.strip() in text  # the first prompt in full
    assert "First try." in text and "Second try." in text
    assert "no block defines `class ModelNew`" in text  # the feedback sent in round 2
    assert "**Result**: target speed-up reached" in text
    assert store.get(problem.key).provenance["transcript"] == result.transcript_path


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bars_only_on_a_terminal(llm_server, store, monkeypatch):
    llm_server.default = answer(variant(9.0))
    problems = [add_relu_problem((4, n)) for n in (8, 16)]
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    searcher_for(llm_server, store, max_rounds=2, progress=True, target_speedup=10.0).search_many(problems)
    shown = terminal.getvalue()
    assert f"kernel {problems[0].key[:10]}" in shown and f"kernel {problems[1].key[:10]}" in shown
    assert "2/2" in shown and "stored" in shown

    piped = io.StringIO()  # not a terminal: nothing drawn
    monkeypatch.setattr(sys, "stderr", piped)
    searcher_for(llm_server, store, max_rounds=1, progress=True).search(add_relu_problem((4, 24)))
    assert piped.getvalue() == ""


def test_an_unexpected_error_costs_the_subgraph_not_the_compile(llm_server, store, caplog):
    llm_server.add(answer(variant(2.0)))
    broken = JudgeEvaluator(lambda source: "not an Evaluation")  # an evaluator bug
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        result = searcher_for(llm_server, store, broken).search(add_relu_problem())
    assert not result.ok and result.reason.startswith("the search failed: AttributeError")
    assert "falls back" in caplog.records[-1].getMessage()
