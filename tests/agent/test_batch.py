"""Batch mode: pending subgraphs out as OpenAI Batch API requests, answers (from the Batch API,
another tool or a person) back in, verified by the real evaluator, winners stored."""
import argparse
import json

import pytest

from tests.agent.fakes import JudgeEvaluator, timed
from tests.agent.kernels import BROKEN, GOOD, WRONG, add_relu_problem, answer
from torch_llmbackend.agent import export_batch, import_batch
from torch_llmbackend.agent.batch_cli import add_batch_parser
from torch_llmbackend.options import Options
from torch_llmbackend.store.kernels import KernelStore


@pytest.fixture
def store(tmp_path):
    with KernelStore(str(tmp_path / "cache")) as s:
        yield s



def batch_output(requests_path, answers: dict[str, str], model="gpt-batch", **body_extra) -> list[str]:
    """What the Batch API returns for a requests file: one line per custom_id, in any order."""
    lines = []
    with open(requests_path) as f:
        for i, raw in enumerate(reversed(f.read().splitlines())):
            key = json.loads(raw)["custom_id"]
            body = {"id": f"chatcmpl-{i}", "object": "chat.completion", "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answers[key]}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200}, **body_extra}
            lines.append(json.dumps({"id": f"batch_req_{i}", "custom_id": key,
                                     "response": {"status_code": 200, "request_id": f"req_{i}", "body": body}, "error": None}))
    return lines


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def test_export_writes_one_batch_api_request_per_pending_subgraph(store, tmp_path):
    problems = [add_relu_problem((4, 40)), add_relu_problem((2, 16))]
    for p in problems:
        store.add_pending(p)
    options = Options(model="gpt-batch", cache_dir=store.cache_dir, temperature=0.1, max_tokens=4000)
    path = tmp_path / "requests.jsonl"
    assert export_batch(store.pending() + problems[:1], options, str(path)) == 2
    requests = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(r["custom_id"] for r in requests) == sorted(p.key for p in problems)
    for r in requests:
        assert r["method"] == "POST" and r["url"] == "/v1/chat/completions"
        body = r["body"]
        assert (body["model"], body["temperature"], body["max_tokens"]) == ("gpt-batch", 0.1, 4000)
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
    by_key = {r["custom_id"]: r["body"]["messages"][1]["content"] for r in requests}
    assert "torch.randn(2, 16)" in by_key[problems[1].key] and "float32[2, 16]" in by_key[problems[1].key]


def test_import_verifies_every_answer_and_stores_the_winners(store, tmp_path, evaluator):
    good, wrong = add_relu_problem((4, 40)), add_relu_problem((2, 16))
    for p in (good, wrong):
        store.add_pending(p)
    requests = tmp_path / "requests.jsonl"
    export_batch(store.pending(), Options(model="gpt-batch", cache_dir=store.cache_dir), str(requests))
    lines = batch_output(requests, {good.key: answer(GOOD), wrong.key: answer(WRONG)})
    lines.append(json.dumps({"id": "batch_req_x", "custom_id": "no-such-key", "response": None, "error": None}))
    lines.append(json.dumps({"id": "batch_req_y", "custom_id": wrong.key, "response": None,
                             "error": {"code": "rate_limit", "message": "batch expired"}}))
    report = import_batch(write_lines(tmp_path / "results.jsonl", lines), store, evaluator, {p.key: p for p in store.pending()})

    assert report[good.key].status == "stored"
    entry = store.get(good.key)
    assert entry.source == GOOD and entry.provenance["author"] == "gpt-batch" and entry.provenance["tokens"] == 1200
    assert entry.provenance["via"] == "batch" and entry.timings["candidate"]["median"] > 0
    assert report[wrong.key].status == "rejected" and "failed at verify" in report[wrong.key].reason
    assert "batch expired" in report[wrong.key].errors[0] and report[wrong.key].answers == 1
    assert report["no-such-key"].status == "unknown-key"
    assert store.get(wrong.key) is None
    assert [p.key for p in store.pending()] == [wrong.key]  # the winner left the queue


def test_a_person_hands_in_a_kernel_through_the_cli(store, tmp_path, evaluator, monkeypatch, capsys):
    """`llmbackend batch import FILE --author curated`: the wiring cli.py gets from add_batch_parser."""
    from torch_llmbackend import evaluate

    class SharedEvaluator:  # the command's Evaluator(options) is the session's real one
        def __init__(self, options):
            self.evaluate, self.baselines = evaluator.evaluate, evaluator.baselines

        def close(self):
            pass

    monkeypatch.setattr(evaluate, "Evaluator", SharedEvaluator)
    problem = add_relu_problem()
    store.add_pending(problem)
    results = tmp_path / "handed-in.jsonl"
    write_lines(results, [json.dumps({"custom_id": problem.key, "response": {"status_code": 200, "body": {
        "choices": [{"message": {"role": "assistant", "content": answer(BROKEN)}}]}}}),
        json.dumps({"custom_id": problem.key, "response": {"status_code": 200, "body": {
            "choices": [{"message": {"role": "assistant", "content": answer(GOOD)}}]}}})])
    parser = argparse.ArgumentParser(prog="llmbackend")
    add_batch_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["batch", "import", str(results), "--author", "curated", "--cache-dir", store.cache_dir])
    assert args.func(args) == 0
    assert "stored" in capsys.readouterr().out
    entry = store.get(problem.key)
    assert entry.source == GOOD and entry.provenance["author"] == "curated" and entry.provenance["batch_line"] == 2


def test_export_through_the_cli_reads_the_pending_queue(store, tmp_path, monkeypatch, capsys):
    store.add_pending(add_relu_problem())
    monkeypatch.setenv("LLMBACKEND_MODEL", "gpt-batch")
    parser = argparse.ArgumentParser(prog="llmbackend")
    add_batch_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "requests.jsonl"
    args = parser.parse_args(["batch", "export", str(out), "--cache-dir", store.cache_dir])
    assert args.func(args) == 0
    assert "wrote 1 request to" in capsys.readouterr().out
    assert json.loads(out.read_text())["custom_id"] == add_relu_problem().key


def test_a_slower_answer_does_not_replace_the_cached_kernel(store, tmp_path):
    problem = add_relu_problem()
    speeds = {"fast": 3.0, "slow": 6.0}
    evaluator = JudgeEvaluator(lambda src: timed(speeds["fast" if "FAST" in src else "slow"]))
    fast, slow = GOOD.replace("import torch\n", "import torch  # FAST\n", 1), GOOD

    def hand_in(source, name):
        path = write_lines(tmp_path / f"{name}.jsonl", [json.dumps({"custom_id": problem.key, "response": {
            "status_code": 200, "body": {"author": "curated", "choices": [{"message": {"content": answer(source)}}]}}})])
        return import_batch(path, store, evaluator, {problem.key: problem})[problem.key]

    assert hand_in(fast, "fast").status == "stored"
    outcome = hand_in(slow, "slow")
    assert outcome.status == "kept-cached" and "as fast or faster (3 vs 6)" in outcome.reason
    assert store.get(problem.key).source == fast and store.get(problem.key).provenance["author"] == "curated"


def test_unreadable_lines_are_reported_not_fatal(store, tmp_path):
    problem = add_relu_problem()
    path = write_lines(tmp_path / "bad.jsonl", [
        "{not json",
        json.dumps({"custom_id": problem.key, "response": {"status_code": 500, "body": {"error": {"message": "overloaded"}}}}),
        json.dumps({"custom_id": problem.key, "response": {"status_code": 200, "body": {"choices": []}}}),
    ])
    report = import_batch(path, store, JudgeEvaluator(), {problem.key: problem})
    assert report["line 1"].status == "error" and "not JSON" in report["line 1"].reason
    assert report[problem.key].status == "error"
    assert "HTTP 500: overloaded" in report[problem.key].reason and "malformed chat completion" in report[problem.key].reason
