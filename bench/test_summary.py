"""The summary command on a synthetic pytest-benchmark run whose speed-ups are known.

    pytest bench/test_summary.py
"""
import json
import math

import pytest

from bench.summary import main, read_runs, summarize

# (problem, {backend: (median seconds, correct)}): chosen so every geomean is easy to check by hand
RUN = [
    ("level1/01_a", {"eager": (4.0, True), "inductor": (2.0, True), "llm": (1.0, True)}),  # llm 4x, ind 2x
    ("level1/02_b", {"eager": (1.0, True), "inductor": (1.0, True), "llm": (1.0, True)}),  # ties
    ("level2/01_c", {"eager": (9.0, True), "inductor": (3.0, True), "llm": (1.0, True)}),  # llm 9x, ind 3x
    ("level2/02_d", {"eager": (1.0, True), "inductor": (1.0, True), "llm": (0.5, False)}),  # fast but wrong
    ("level3/01_e", {"eager": (2.0, True), "inductor": (1.0, True)}),  # llm skipped
]


def benchmark_json(run, gpu="NVIDIA H100 80GB HBM3", scale=None):
    scale = scale or {}
    benchmarks = []
    for problem, backends in run:
        for backend, (seconds, correct) in backends.items():
            benchmarks.append({
                "group": problem,
                "name": f"test_problem[{problem}-{backend}]",
                "params": {"problem_id": problem, "backend": backend},
                "extra_info": {"problem": problem, "level": int(problem[5]), "backend": backend,
                               "correct": correct, "max_abs_error": 0.0 if correct else 3.5,
                               # kernels take half the wall time, except llm's, which take all of it
                               "gpu_time_s": seconds * (1.0 if backend == "llm" else 0.5)},
                "stats": {"median": seconds * scale.get(backend, 1.0), "mean": seconds, "rounds": 50},
            })
    return {"machine_info": {"gpu": gpu}, "benchmarks": benchmarks}


@pytest.fixture
def run_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(benchmark_json(RUN)))
    return path


def test_geomeans_and_fractions_per_level(run_file):
    summary = summarize(read_runs([run_file]))
    assert summary.device == "NVIDIA H100 80GB HBM3"

    level1 = summary.level(1).comparisons
    assert level1[("llm", "eager")].geomean == pytest.approx(2.0)  # sqrt(4 * 1)
    assert level1[("llm", "inductor")].geomean == pytest.approx(math.sqrt(2))
    assert level1[("inductor", "eager")].geomean == pytest.approx(math.sqrt(2))
    assert level1[("llm", "eager")].fraction_faster == pytest.approx(0.5)  # a tie is not faster

    level2 = summary.level(2).comparisons
    assert level2[("llm", "eager")].geomean == pytest.approx(9.0)  # the wrong output is left out
    assert level2[("llm", "eager")].excluded_wrong == 1
    assert level2[("llm", "eager")].fraction_faster == pytest.approx(0.5)  # ... and is not a win
    assert level2[("inductor", "eager")].geomean == pytest.approx(math.sqrt(3))

    level3 = summary.level(3).comparisons
    assert level3[("llm", "eager")].geomean is None and level3[("llm", "eager")].compared == 0
    assert level3[("inductor", "eager")].geomean == pytest.approx(2.0)

    overall = summary.level(None).comparisons
    assert overall[("llm", "eager")].geomean == pytest.approx(36 ** (1 / 3))  # 4 * 1 * 9
    assert [(t.problem, t.backend) for t in summary.wrong] == [("level2/02_d", "llm")]
    assert summary.missing == [("level3/01_e", "llm")]


def test_runs_split_by_level_are_merged(tmp_path):
    paths = []
    for level in (1, 2, 3):
        path = tmp_path / f"level{level}.json"
        path.write_text(json.dumps(benchmark_json([r for r in RUN if r[0].startswith(f"level{level}")])))
        paths.append(path)
    merged = summarize(read_runs(paths))
    assert merged.level(None).comparisons[("llm", "eager")].geomean == pytest.approx(36 ** (1 / 3))
    assert merged.device == "NVIDIA H100 80GB HBM3"


def test_benchmarks_without_extra_info_are_read_from_their_names(tmp_path):
    data = benchmark_json(RUN[:1])
    for bench in data["benchmarks"]:
        bench["extra_info"], bench["params"] = {}, None
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(data))
    summary = summarize(read_runs([path]))
    assert summary.level(1).comparisons[("llm", "eager")].geomean == pytest.approx(4.0)
    assert summary.wrong == []


def test_cli_prints_the_summary_compares_with_a_baseline_and_draws_the_chart(run_file, tmp_path, capsys):
    older = tmp_path / "older.json"
    older.write_text(json.dumps(benchmark_json(RUN, scale={"llm": 2.0})))  # llm was twice as slow
    chart = tmp_path / "speedups.png"

    assert main([str(run_file), "--baseline-run", str(older), "--png", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "wrong outputs: 1" in out and "level2/02_d [llm]" in out
    assert "level1: llm 2.00x (goal 1.3x), inductor 1.41x: met" in out
    assert "level3: llm n/a (goal 1.4x), inductor 2.00x: NOT met" in out
    assert "llm 2.00x (4)" in out  # the baseline run's llm times over this run's, on the 4 timed
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_refuses_a_file_without_suite_benchmarks(tmp_path, capsys):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"machine_info": {}, "benchmarks": []}))
    assert main([str(empty)]) == 1
    assert "no benchmarks" in capsys.readouterr().err


def test_gpu_metric_uses_the_kernels_own_time(run_file):
    by_gpu = summarize(read_runs([run_file], metric="gpu"))
    assert by_gpu.level(1).comparisons[("llm", "eager")].geomean == pytest.approx(1.0)  # sqrt(4 * 1) / 2
    assert by_gpu.level(1).comparisons[("inductor", "eager")].geomean == pytest.approx(math.sqrt(2))


def test_a_geomean_just_short_of_its_goal_is_not_rounded_up_to_it(tmp_path, capsys):
    run = [("level3/01_a", {"eager": (1.398, True), "inductor": (1.0, True), "llm": (1.0, True)})]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(benchmark_json(run)))
    assert main([str(path)]) == 0
    assert "level3: llm 1.398x (goal 1.4x), inductor 1.40x: NOT met" in capsys.readouterr().out


def test_a_run_with_the_no_op_backend_shows_the_floor_under_every_compiled_call(tmp_path, capsys):
    # dynamo: torch.compile with a backend that returns Dynamo's graph untouched
    run = [("level1/01_a", {"eager": (1.0, True), "inductor": (2.0, True), "llm": (1.6, True), "dynamo": (2.0, True)})]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(benchmark_json(run)))
    summary = summarize(read_runs([path]))
    assert summary.level(1).comparisons[("dynamo", "eager")].geomean == pytest.approx(0.5)
    assert summary.level(1).comparisons[("llm", "dynamo")].geomean == pytest.approx(1.25)
    assert main([str(path)]) == 0
    head = capsys.readouterr().out.splitlines()[3]
    assert "dynamo vs eager" in head and "llm vs dynamo" in head


def test_a_run_without_it_keeps_the_three_columns(run_file):
    summary = summarize(read_runs([run_file]))
    assert set(summary.level(1).comparisons) == {("llm", "eager"), ("llm", "inductor"), ("inductor", "eager")}


def test_per_problem_lines_give_each_time_the_speed_ups_and_what_llm_ran(tmp_path, capsys):
    data = benchmark_json(RUN)
    for bench in data["benchmarks"]:
        if bench["name"] == "test_problem[level1/01_a-llm]":
            bench["extra_info"]["llm_decisions"] = [
                {"runs": "kernel"}, {"runs": "inductor (46.3 us vs eager 110.2 us)"}, {"runs": "kernel"}]
        if bench["name"] == "test_problem[level2/01_c-llm]":
            bench["extra_info"]["llm_decisions"] = [
                {"runs": "eager, whole graph (80.0 us vs compiled 90.0 us), CUDA graph (30.1 us vs plain 60.0 us, "
                         "host 9.0 us vs 40.0 us)"}]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    assert main([str(path), "--per-problem"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("level")}
    assert lines["level1/01_a"].split()[1:] == ["4000000.0", "2000000.0", "1000000.0", "4.00x", "2.00x", "kernel", "+", "inductor"]
    assert lines["level2/01_c"].endswith("eager, whole graph, CUDA graph")  # each step, no figures
    assert lines["level2/02_d"].endswith("WRONG")  # fast but wrong stays visible
    assert lines["level3/01_e"].split()[3:5] == ["-", "n/a"]  # llm not timed
