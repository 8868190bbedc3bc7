"""The Gemmini benchmarks in simulated cycles against Gemmini's own library (issue 8's summary).

    python -m bench.gemmini.summary [--problem NAME ...]

For each problem of bench/gemmini/problems.py (ResNet-50 GEMM and convolution shapes, the demo
MLP) the model is compiled with backend="llm", target gemmini, offline, with the shipped bundle
and a fresh cache: a subgraph the bundle holds a kernel for runs it once this machine has
verified it, any other runs the library lowering (tiled_matmul_auto / tiled_conv_auto). The
compiled output is checked against eager, and the figures come from the backend's own report:
the library's cycles, what runs, its cycles, the speed-up and the array utilization; then the
geomean speed-up over the library and the fraction of problems faster than it.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from dataclasses import dataclass
from typing import Callable, Mapping

import torch


@dataclass(frozen=True)
class Result:
    problem: str
    runs: str  # "shipped kernel" | "library" | what else the backend reports
    library_cycles: float
    cycles: float
    utilization: float
    correct: bool

    @property
    def speedup(self) -> float:
        return self.library_cycles / self.cycles


def measure(name: str, make: Callable) -> Result:
    """Compile one problem offline with the shipped bundle and read its Gemmini rows."""
    from torch_llmbackend.backend import report

    model, inputs = make()
    torch._dynamo.reset()
    with tempfile.TemporaryDirectory(prefix="gemmini-summary-") as cache_dir, torch.no_grad():
        opts = {"target": "gemmini", "mode": "offline", "cache_dir": cache_dir, "fallback": "eager", "log_table": False}
        got = torch.compile(model, backend="llm", options=opts)(*inputs)
        rows = [r for r in report() if r["target"] == "gemmini" and r["kernel_time"]]
    if not rows:
        raise RuntimeError(f"{name}: no subgraph ran on Gemmini")
    want = model(*inputs)
    correct = torch.equal(got, want) if not want.is_floating_point() else torch.allclose(got, want, rtol=1e-4, atol=1e-4)
    cycles = sum(r["kernel_time"] for r in rows)
    macs = sum(r["stats"]["macs"] for r in rows)
    dim = rows[0]["stats"]["dim"]
    runs = sorted({"shipped kernel" if r["runs"] == "kernel" else r["runs"] for r in rows})
    return Result(name, "+".join(runs), sum(r["library_time"] for r in rows), cycles, macs / (cycles * dim * dim), correct)


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def format_table(results: list[Result]) -> str:
    lines = [f"{'problem':26} {'library cycles':>15}  {'runs':15} {'cycles':>13} {'speed-up':>9} {'util':>6}  correct"]
    for r in results:
        lines.append(f"{r.problem:26} {r.library_cycles:>15,.0f}  {r.runs:15} {r.cycles:>13,.0f} {r.speedup:>8.3f}x "
                     f"{r.utilization:>6.1%}  {'yes' if r.correct else 'NO'}")
    ok = [r for r in results if r.correct]
    faster = sum(r.speedup > 1.0 for r in ok)
    lines.append(f"geomean speed-up over the library: {geomean([r.speedup for r in ok]):.3f}x on {len(ok)} problem(s); "
                 f"faster on {faster}/{len(ok)} ({faster / len(ok):.0%})" if ok else "no correct result")
    wrong = [r.problem for r in results if not r.correct]
    if wrong:
        lines.append(f"WRONG outputs (left out of the geomean): {', '.join(wrong)}")
    return "\n".join(lines)


def summarize(problems: Mapping[str, Callable], echo: Callable[[str], None] | None = None) -> list[Result]:
    results = []
    for name, make in problems.items():
        results.append(measure(name, make))
        if echo:
            r = results[-1]
            echo(f"{name}: {r.runs}, {r.cycles:,.0f} cycles ({r.speedup:.3f}x the library)")
    return results


def main(argv=None) -> int:
    from bench.gemmini.problems import PROBLEMS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", action="append", choices=sorted(PROBLEMS), help="one problem (repeatable); default: all")
    args = ap.parse_args(argv)
    chosen = {name: PROBLEMS[name] for name in (args.problem or PROBLEMS)}
    results = summarize(chosen, echo=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_table(results))
    return 0 if all(r.correct for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
