"""Dynamic shapes on the GPU: one compiled model called at a sweep of sizes, as users serve
variable batches and sequence lengths. Eager, Inductor and backend="llm" (offline, the shipped
bundle) each see the sizes in the same order, so torch.compile goes dynamic on the second size
for both compilers. At each size: the time per forward, the outputs against eager, and for llm
which subgraphs ran kernels (the report of the compile serving that size).

    pytest bench/bench_shapes.py --benchmark-enable --benchmark-json bench/results/DATE-shapes.json

Sweeps: the level-3 pre-norm transformer block at batch 1, 7, 32, 128 (sequence 128) and at
sequence 128, 200, 512 (batch 8); the level-3 small CNN at batch 1, 7, 32, 128.
"""
from __future__ import annotations

import time
from typing import Any

import pytest
import torch

from bench.bench_problems import check_outputs, compiler_for, llm_decisions, synchronizer, timed_step
from bench.problems import get_problem

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="times CUDA kernels")]

TRANSFORMER, CNN = "level3/03_transformer_block_prenorm", "level3/05_small_cnn"
SWEEPS = {
    "transformer-batch": (TRANSFORMER, [(b, 128) for b in (1, 7, 32, 128)]),
    "transformer-seq": (TRANSFORMER, [(8, s) for s in (128, 200, 512)]),
    "cnn-batch": (CNN, [(b,) for b in (1, 7, 32, 128)]),
}
BACKENDS = ("eager", "inductor", "llm")
CALLS = 10


def _inputs(problem_id: str, size: tuple[int, ...], device: str) -> list[torch.Tensor]:
    mod = get_problem(problem_id)
    if problem_id == TRANSFORMER:
        batch, seq = size
        hidden = mod.get_init_inputs()[0]
        return [torch.randn(batch, seq, hidden, device=device)]
    (batch,) = size
    (x,) = mod.get_inputs()
    return [torch.randn(batch, *x.shape[1:], device=device)]


@pytest.fixture(scope="module")
def compiled_models() -> dict[tuple[str, str], Any]:
    """(sweep, backend) -> (eager model, compiled callable), kept across the sweep's sizes."""
    return {}


CASES = [(sweep, i, backend) for sweep, (_, sizes) in SWEEPS.items() for i in range(len(sizes)) for backend in BACKENDS]


@pytest.mark.parametrize("sweep,index,backend", CASES,
                         ids=[f"{s}-{SWEEPS[s][1][i]}-{b}".replace(" ", "") for s, i, b in CASES])
def test_size_sweep(benchmark, bench_settings, compiled_models, sweep, index, backend):
    problem_id, sizes = SWEEPS[sweep]
    size = sizes[index]
    device, sync = bench_settings.device, synchronizer(bench_settings.device)
    if (sweep, backend) not in compiled_models:
        torch._dynamo.reset()
        model, _ = get_problem(problem_id).instantiate(device, seed=bench_settings.seed)
        compiled_models[(sweep, backend)] = (model, compiler_for(backend, bench_settings)(model))
    model, fn = compiled_models[(sweep, backend)]
    inputs = _inputs(problem_id, size, device)
    with torch.no_grad():
        expected = model(*inputs)
        sync()
        start = time.perf_counter()
        first = fn(*inputs)  # may compile (the first and second sizes do)
        sync()
        benchmark.extra_info.update(sweep=sweep, problem=problem_id, size=list(size), backend=backend,
                                    dtype="float32", device=torch.cuda.get_device_name(),
                                    first_call_s=time.perf_counter() - start)
        check = check_outputs(first, expected)
        if backend == "llm":
            benchmark.extra_info["llm_decisions"] = llm_decisions()
        benchmark.group = f"{sweep}-{'x'.join(map(str, size))}"
        benchmark.pedantic(timed_step(fn, inputs, CALLS, sync), iterations=CALLS,
                           rounds=bench_settings.rounds, warmup_rounds=bench_settings.warmup_rounds)
        after = check_outputs(fn(*inputs), expected)
    benchmark.extra_info.update(correct=check.correct and after.correct, max_abs_error=max(check.max_abs_error, after.max_abs_error))
    assert check.correct and after.correct, f"{backend} at {size}: {check.reason or after.reason}"


def summarize(path: str) -> str:
    """The per-size table of a run: `python -m bench.bench_shapes results.json`."""
    import json
    from collections import defaultdict

    rows: dict[tuple, dict] = defaultdict(dict)
    for b in json.load(open(path))["benchmarks"]:
        info = b["extra_info"]
        key = (info["sweep"], tuple(info["size"]))
        rows[key][info["backend"]] = b["stats"]["median"] * 1e6
        if info["backend"] == "llm":
            ran = [d for d in info.get("llm_decisions", []) if d["runs"] == "kernel"]
            rows[key]["kernels"] = f"{len(ran)} of {len(info.get('llm_decisions', []))} rows ran kernels"
            rows[key]["correct"] = info.get("correct")
    lines = [f"{'sweep':18} {'size':10} {'eager us':>10} {'inductor':>10} {'llm':>10} {'vs eager':>8} {'vs ind.':>8}  kernels"]
    for (sweep, size), r in rows.items():
        e, i, l = r.get("eager"), r.get("inductor"), r.get("llm")
        ve = f"{e / l:.2f}x" if e and l else "-"
        vi = f"{i / l:.2f}x" if i and l else "-"
        lines.append(f"{sweep:18} {'x'.join(map(str, size)):10} {e or 0:10.1f} {i or 0:10.1f} {l or 0:10.1f} {ve:>8} {vi:>8}  "
                     f"{r.get('kernels', '')}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(summarize(sys.argv[1]))
