"""`llmbackend kb ...` through the same parser cli.py wires in, and once as a real subprocess."""
import json
import os
import subprocess
import sys

from conftest import decomposed_softmax_problem, softmax_problem

from torch_llmbackend.store.kb_cli import main
from torch_llmbackend.store.knowledge import Attempt, KnowledgeBase

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def kb_json(capsys, *argv) -> object:
    assert main(["kb", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _seeded(tmp_path) -> str:
    cache = str(tmp_path / "cache")
    KnowledgeBase(cache).record_search(softmax_problem(), "cuda", "triton",
                                       [Attempt(["block_reduction"], True, "", 2.0, 1.4, True)],
                                       "One row per program [won] on 4096-wide rows.", "model-a")
    return cache


def test_ls_show_stats_search(tmp_path, capsys):
    cache = _seeded(tmp_path)
    rows = kb_json(capsys, "ls", "--cache-dir", cache)
    assert len(rows) == 1 and rows[0]["id"] == 1 and rows[0]["features"]["family"] == "softmax"
    assert len(kb_json(capsys, "ls", "--notes", "--cache-dir", cache)) >= 30
    assert kb_json(capsys, "ls", "--versions", "--cache-dir", cache)[0]["source"] == "starter"

    shown = kb_json(capsys, "show", "1", "--cache-dir", cache)
    assert shown["kind"] == "search" and shown["lesson"].startswith("One row per program")
    assert kb_json(capsys, "show", rows[0]["uid"][:8], "--cache-dir", cache)["id"] == 1
    note = kb_json(capsys, "show", "gemmini.loop_ws", "--cache-dir", cache)
    assert note["kind"] == "note" and note["technique"] == "loop_ws"
    assert main(["kb", "show", "nothing-like-this", "--cache-dir", cache]) == 1

    stats = kb_json(capsys, "stats", "--state", "memory/softmax/triton", "--cache-dir", cache)
    assert [(s["technique"], s["tried"], s["won"]) for s in stats] == [("block_reduction", 1, 1)]

    hits = kb_json(capsys, "search", "row program", "--cache-dir", cache)
    assert hits[0]["kind"] == "search" and hits[0]["score"] == 1.0

    problem_file = tmp_path / "problem.json"
    problem_file.write_text(json.dumps(decomposed_softmax_problem().to_json()))
    found = kb_json(capsys, "search", "--problem", str(problem_file), "--cache-dir", cache)
    assert found["features"]["family"] == "softmax" and found["similar"][0]["id"] == 1
    assert "One row per program" in found["section"]

    # human-readable output by default (brackets in lessons are printed, not taken for markup)
    assert main(["kb", "show", "1", "--cache-dir", cache]) == 0
    assert "[won]" in capsys.readouterr().out
    assert main(["kb", "stats", "--cache-dir", cache]) == 0
    assert "block_reduction" in capsys.readouterr().out


def test_export_import_rollback(tmp_path, capsys):
    cache, other = _seeded(tmp_path), str(tmp_path / "other")
    out = str(tmp_path / "kb.json")
    assert kb_json(capsys, "export", out, "--cache-dir", cache)["searches"] == 1
    assert kb_json(capsys, "import", out, "--cache-dir", other)["searches_added"] == 1

    doc = json.load(open(out))
    doc["searches"][0]["record"]["lesson"] = "tampered"
    json.dump(doc, open(out, "w"))
    assert main(["kb", "import", out, "--cache-dir", str(tmp_path / "third")]) == 1
    assert "hash" in capsys.readouterr().err

    assert kb_json(capsys, "rollback", "1", "--cache-dir", other) == {"current_version": 1}
    assert main(["kb", "rollback", "7", "--cache-dir", other]) == 1


def test_runs_as_a_module(tmp_path):
    cache = _seeded(tmp_path)
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-m", "torch_llmbackend.store.kb_cli", "kb", "ls", "--json",
                           "--cache-dir", cache], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["model"] == "model-a"
