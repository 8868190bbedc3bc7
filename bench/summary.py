"""Summarize benchmark runs: per-level geomean speed-ups, wins, wrong outputs, and a chart.

    python -m bench.summary bench/results/2026-11-25-h100.json [more.json ...]
        [--baseline-run OLD.json ...] [--png speedups.png] [--metric wall|gpu]

Reads pytest-benchmark JSON written by bench/bench_problems.py (several files are merged, so a
suite run split by level can be summarized at once). Speed-up of A against B is B's time over
A's: by default the wall-clock median of a synchronized forward (what a user waits for, launch
overhead included); with --metric gpu, the kernels' own GPU time from the profiler. A geomean covers the problems where both were timed and both outputs were correct; a
wrong output is listed, left out of the geomean, and never counts as faster.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from torch_llmbackend.speedup import speedup

BACKENDS = ("eager", "inductor", "llm")
# (faster candidate, baseline) pairs reported per level
RATIOS = (("llm", "eager"), ("llm", "inductor"), ("inductor", "eager"))
# where the run timed the no-op torch.compile backend (bench_problems --bench-backends ...,dynamo):
# how much of eager's speed a compiled call can keep at best, and llm against that floor
FLOOR_RATIOS = (("dynamo", "eager"), ("llm", "dynamo"))
# issue 8: geomean of llm against eager on the H100, per level; and above Inductor's on each
GOALS_VS_EAGER = {1: 1.3, 2: 2.0, 3: 1.4}
_TEST_NAME = re.compile(r"\[(?P<problem>level\d+/[^\]]+)-(?P<backend>[a-z]+)\]$")


@dataclass(frozen=True)
class Timing:
    """One benchmark of a run: a problem under one backend."""

    problem: str  # "level1/01_matmul_square"
    level: int
    backend: str
    seconds: float  # median time of one forward
    correct: bool | None  # None where the run recorded no check
    max_abs_error: float | None = None
    ran: str = ""  # for backend="llm": what ran per subgraph ("kernel + inductor"), from llm_decisions


METRICS = ("wall", "gpu")


def timings_from_json(data: dict[str, Any], metric: str = "wall") -> list[Timing]:
    out = []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        params = bench.get("params") or {}
        problem = info.get("problem") or params.get("problem_id")
        backend = info.get("backend") or params.get("backend")
        if not (problem and backend):
            match = _TEST_NAME.search(bench.get("name", ""))
            if not match:
                continue  # not one of the suite's benchmarks
            problem, backend = match["problem"], match["backend"]
        level = int(info.get("level") or re.match(r"level(\d+)", problem)[1])
        seconds = bench["stats"]["median"] if metric == "wall" else info.get("gpu_time_s")
        if seconds is None:
            continue  # no GPU time recorded (a CPU run)
        out.append(Timing(problem, level, backend, float(seconds), info.get("correct"), info.get("max_abs_error"),
                          what_ran(info.get("llm_decisions") or [])))
    return out


def what_ran(decisions: list[dict[str, Any]]) -> str:
    """The distinct choices of a compile, in order, without their figures: "kernel + inductor",
    "inductor, CUDA graph"."""
    seen: list[str] = []
    for d in decisions:
        choice = re.sub(r" \([^()]*\)", "", str(d.get("runs") or ""))
        if choice and choice not in seen:
            seen.append(choice)
    return " + ".join(seen)


def device_of(data: dict[str, Any]) -> str:
    machine = data.get("machine_info") or {}
    if machine.get("gpu"):
        return machine["gpu"]
    if (cpu := (machine.get("cpu") or {}).get("brand_raw")):
        return cpu
    for bench in data.get("benchmarks", []):
        if (bench.get("extra_info") or {}).get("device"):
            return bench["extra_info"]["device"]
    return "unknown device"


@dataclass(frozen=True)
class Run:
    timings: list[Timing]
    devices: list[str]

    @property
    def device(self) -> str:
        return " + ".join(self.devices) if self.devices else "unknown device"


def read_runs(paths: Iterable[str | Path], metric: str = "wall") -> Run:
    """Merge runs; where one (problem, backend) appears twice, the later file wins."""
    merged: dict[tuple[str, str], Timing] = {}
    devices: list[str] = []
    for path in paths:
        data = json.loads(Path(path).read_text())
        for t in timings_from_json(data, metric):
            merged[(t.problem, t.backend)] = t
        if (device := device_of(data)) not in devices:
            devices.append(device)
    return Run(sorted(merged.values(), key=lambda t: (t.problem, BACKENDS.index(t.backend) if t.backend in BACKENDS else 9)), devices)


def geomean(values: Sequence[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


@dataclass(frozen=True)
class ProblemResult:
    problem: str
    level: int
    by_backend: dict[str, Timing]

    def speedup(self, candidate: str, baseline: str) -> float | None:
        """baseline time / candidate time, when both were timed (correct or not)."""
        a, b = self.by_backend.get(candidate), self.by_backend.get(baseline)
        return speedup(b.seconds, a.seconds) if a and b else None

    def wrong(self, backend: str) -> bool:
        t = self.by_backend.get(backend)
        return t is not None and t.correct is False


def per_problem(timings: Iterable[Timing]) -> list[ProblemResult]:
    grouped: dict[str, dict[str, Timing]] = {}
    for t in timings:
        grouped.setdefault(t.problem, {})[t.backend] = t
    return [ProblemResult(p, next(iter(b.values())).level, b) for p, b in sorted(grouped.items())]


@dataclass(frozen=True)
class Comparison:
    candidate: str
    baseline: str
    geomean: float | None  # over problems where both were timed and both correct
    faster: int  # problems where the candidate is correct and strictly faster
    compared: int  # problems where both were timed
    excluded_wrong: int

    @property
    def fraction_faster(self) -> float | None:
        return self.faster / self.compared if self.compared else None


def compare(results: Sequence[ProblemResult], candidate: str, baseline: str) -> Comparison:
    ratios, faster, compared, wrong = [], 0, 0, 0
    for r in results:
        s = r.speedup(candidate, baseline)
        if s is None:
            continue
        compared += 1
        if r.wrong(candidate) or r.wrong(baseline):
            wrong += 1
            continue
        ratios.append(s)
        faster += s > 1.0
    return Comparison(candidate, baseline, geomean(ratios), faster, compared, wrong)


@dataclass(frozen=True)
class LevelSummary:
    level: int | None  # None: all levels together
    problems: int
    comparisons: dict[tuple[str, str], Comparison]

    @property
    def label(self) -> str:
        return "all" if self.level is None else f"level{self.level}"


@dataclass(frozen=True)
class RunSummary:
    device: str
    levels: list[LevelSummary]
    results: list[ProblemResult]
    wrong: list[Timing] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (problem, backend) never timed

    def level(self, level: int | None) -> LevelSummary:
        return next(s for s in self.levels if s.level == level)


def summarize(run: Run) -> RunSummary:
    results = per_problem(run.timings)
    levels = sorted({r.level for r in results})
    groups = [(lv, [r for r in results if r.level == lv]) for lv in levels] + [(None, results)]
    ratios = RATIOS + (FLOOR_RATIOS if any(t.backend == "dynamo" for t in run.timings) else ())
    summaries = [LevelSummary(lv, len(rs), {(c, b): compare(rs, c, b) for c, b in ratios}) for lv, rs in groups]
    wrong = [t for t in run.timings if t.correct is False]
    missing = [(r.problem, b) for r in results for b in BACKENDS if b not in r.by_backend]
    return RunSummary(run.device, summaries, results, wrong, missing)


def speed_change(baseline: Run, current: Run, backend: str, level: int | None) -> tuple[float | None, int]:
    """Geomean of (baseline time / current time) for one backend over the problems both timed."""
    before = {t.problem: t for t in baseline.timings if t.backend == backend and (level is None or t.level == level)}
    ratios = [before[t.problem].seconds / t.seconds for t in current.timings
              if t.backend == backend and t.problem in before and (level is None or t.level == level)]
    return geomean(ratios), len(ratios)


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def render(summary: RunSummary, baseline: tuple[Run, Run] | None = None) -> str:
    lines = [f"device: {summary.device}", ""]
    head = f"{'level':<8}{'problems':>9}"
    ratios = list(summary.levels[0].comparisons) if summary.levels else list(RATIOS)
    for c, b in ratios:
        head += f"{c + ' vs ' + b:>20}{'faster':>8}"
    lines += [head, "-" * len(head)]
    for s in summary.levels:
        row = f"{s.label:<8}{s.problems:>9}"
        for key in ratios:
            cmp = s.comparisons[key]
            row += f"{_x(cmp.geomean):>20}{_pct(cmp.fraction_faster):>8}"
        lines.append(row)
    lines += ["", "goals (issue 8, set for the H100): llm vs eager geomean per level, and above Inductor's"]
    for s in summary.levels:
        if s.level not in GOALS_VS_EAGER:
            continue
        llm, ind = s.comparisons[("llm", "eager")].geomean, s.comparisons[("inductor", "eager")].geomean
        target = GOALS_VS_EAGER[s.level]
        met = llm is not None and llm >= target and (ind is None or llm > ind)
        shown = _x(llm) if llm is None or met or _x(llm) != f"{target:.2f}x" else f"{llm:.3f}x"  # 1.398x, not "1.40x: NOT met"
        lines.append(f"  {s.label}: llm {shown} (goal {target:.1f}x), inductor {_x(ind)}: {'met' if met else 'NOT met'}")
    lines.append("")
    if summary.wrong:
        lines.append(f"wrong outputs: {len(summary.wrong)}")
        lines += [f"  {t.problem} [{t.backend}] max abs error {t.max_abs_error}" for t in summary.wrong]
    else:
        lines.append("wrong outputs: none")
    if summary.missing:
        lines.append(f"not timed: {len(summary.missing)} (" + ", ".join(f"{p} [{b}]" for p, b in summary.missing[:8])
                     + (", ..." if len(summary.missing) > 8 else "") + ")")
    if baseline is not None:
        base, current = baseline
        lines += ["", f"against the baseline run ({base.device}): time ratio baseline/now, >1 is faster now"]
        for s in summary.levels:
            parts = []
            for backend in BACKENDS:
                change, n = speed_change(base, current, backend, s.level)
                parts.append(f"{backend} {_x(change)} ({n})")
            lines.append(f"  {s.label:<8}" + "  ".join(parts))
    return "\n".join(lines)


_CHART_TICKS = (0.1, 0.2, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def draw_chart(summary: RunSummary, path: str | Path, metric: str = "wall") -> None:
    """Per-problem speed-ups over eager (Inductor and llm), as horizontal bars on a log axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    results = summary.results
    fig, ax = plt.subplots(figsize=(10, 1.5 + 0.32 * len(results)))
    rows = range(len(results))
    for offset, backend, color in ((-0.2, "inductor", "#7f7f7f"), (0.2, "llm", "#1f77b4")):
        timed = [(y, r, r.speedup(backend, "eager")) for y, r in zip(rows, results) if r.speedup(backend, "eager")]
        # bars grow from 1x: right is faster than eager, left is slower
        bars = ax.barh([y + offset for y, _, _ in timed], [v - 1.0 for _, _, v in timed], left=1.0,
                       height=0.4, color=color, label=f"{backend} / eager")
        for bar, (_, r, _) in zip(bars, timed):
            if r.wrong(backend):  # a wrong output stays visible, marked
                bar.set_hatch("xx")
                bar.set_edgecolor("red")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ax.set_xticks([t for t in _CHART_TICKS if lo <= t <= hi], [f"{t:g}x" for t in _CHART_TICKS if lo <= t <= hi])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(list(rows), [r.problem for r in results], fontsize=8)
    ax.invert_yaxis()
    for y, (a, b) in enumerate(zip(results, results[1:])):
        if a.level != b.level:
            ax.axhline(y + 0.5, color="#cccccc", linewidth=0.8)
    geo = ", ".join(f"{s.label} {_x(s.comparisons[('llm', 'eager')].geomean)}" for s in summary.levels)
    what = "wall-clock" if metric == "wall" else "GPU kernel time"
    ax.set_title(f"speed-up over eager ({what}) on {summary.device}\nllm geomean: {geo}", fontsize=10)
    ax.set_xlabel("speed-up over eager (log scale; hatched red = wrong output)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render_per_problem(summary: RunSummary) -> str:
    """One line per problem: each backend's time, llm's speed-ups, and what llm ran."""
    times = [b for b in (*BACKENDS, "dynamo") if any(b in r.by_backend for r in summary.results)]
    head = f"{'problem':<44}" + "".join(f"{b + ' us':>13}" for b in times) + f"{'llm/eager':>11}{'llm/ind.':>10}  llm ran"
    lines = [head, "-" * len(head)]
    for r in summary.results:
        row = f"{r.problem:<44}"
        for b in times:
            t = r.by_backend.get(b)
            row += f"{t.seconds * 1e6:>13.1f}" if t else f"{'-':>13}"
        row += f"{_x(r.speedup('llm', 'eager')):>11}{_x(r.speedup('llm', 'inductor')):>10}"
        llm = r.by_backend.get("llm")
        row += "  " + (llm.ran if llm else "") + ("  WRONG" if r.wrong("llm") else "")
        lines.append(row.rstrip())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.summary", description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="pytest-benchmark JSON files of one run (merged)")
    parser.add_argument("--baseline-run", nargs="+", default=None, help="JSON files of an earlier run to compare with")
    parser.add_argument("--png", default=None, help="write the per-problem speed-up chart here")
    parser.add_argument("--metric", choices=METRICS, default="wall",
                        help="wall: synchronized wall-clock median (default); gpu: the kernels' GPU time")
    parser.add_argument("--per-problem", action="store_true",
                        help="also one line per problem: each backend's time, llm's speed-ups, what llm ran")
    args = parser.parse_args(argv)

    current = read_runs(args.runs, args.metric)
    if not current.timings:
        print(f"no benchmarks of the suite in {', '.join(args.runs)}", file=sys.stderr)
        return 1
    summary = summarize(current)
    baseline = (read_runs(args.baseline_run, args.metric), current) if args.baseline_run else None
    print(f"metric: {'wall-clock median per forward' if args.metric == 'wall' else 'GPU kernel time per forward'}")
    print(render(summary, baseline))
    if args.per_problem:
        print("\n" + render_per_problem(summary))
    if args.png:
        draw_chart(summary, args.png, args.metric)
        print(f"\nchart: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
