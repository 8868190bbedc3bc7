"""Every benchmark problem under eager, Inductor and backend="llm", timed with pytest-benchmark.

On the GPU machine (see bench/README.md):

    pytest bench/bench_problems.py --benchmark-enable --benchmark-json bench/results/DATE-GPU.json

Each problem is one benchmark group holding its three backends. Before timing, a compiled
model's output is checked against eager on the same weights and inputs (and again after
timing); the verdict and the errors go into extra_info, and a wrong output fails the test after
it has been timed, so it is both recorded and seen.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

import pytest
import torch

from bench.problems import all_problems, footprint, get_problem, smallest_problems

BACKENDS = ("eager", "inductor", "llm")
KNOWN_BACKENDS = (*BACKENDS, "dynamo")  # dynamo: only on request (--bench-backends), see dynamo_unchanged
# Relative and absolute tolerance by output dtype; the absolute one grows with outputs of large
# magnitude, see output_scale().
# bf16 keeps 8 significant bits, so 1e-2 is about one unit in the last place: a fused kernel that
# keeps intermediates in fp32 (Inductor does) already differs from eager's per-op rounding by
# more (0.06 on LayerNorm outputs near 6 in level3/10 on the H100), hence 2e-2.
TOLERANCE = {torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 2e-2}
CPU_SMOKE_PROBLEMS = 3
MAX_CALLS_PER_ROUND = 1000

if TYPE_CHECKING:
    from bench.conftest import BenchSettings


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "problem_id" not in metafunc.fixturenames:
        return
    cpu_smoke = metafunc.config.getoption("--bench-cpu") and not torch.cuda.is_available()
    problems = smallest_problems(CPU_SMOKE_PROBLEMS, level=1) if cpu_smoke else all_problems()
    backends = chosen_backends(metafunc.config.getoption("--bench-backends"))
    cases = [(p.meta.id, backend) for p in problems for backend in backends]
    metafunc.parametrize("problem_id,backend", cases, ids=[f"{pid}-{b}" for pid, b in cases])


def chosen_backends(option: str) -> list[str]:
    names = [n.strip() for n in option.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_BACKENDS]
    if unknown or not names:
        raise pytest.UsageError(f"--bench-backends: {', '.join(unknown) or 'none given'}; choose from {', '.join(KNOWN_BACKENDS)}")
    return names


def dynamo_unchanged(gm: torch.fx.GraphModule, example_inputs) -> Callable:
    """A torch.compile backend that runs Dynamo's graph as it came: timed, it is the least a
    compiled call costs on this machine (guards, frame handling), the floor under any backend."""
    return gm.forward


@dataclass(frozen=True)
class OutputCheck:
    correct: bool
    max_abs_error: float
    max_rel_error: float  # |actual - expected| / (|expected| + tolerance)
    tolerance: float
    reason: str = ""


def _flat(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    return [t for v in value for t in _flat(v)]


def output_scale(expected: torch.Tensor) -> float:
    """The absolute tolerance is relative to the output's RMS when that exceeds 1: a long sum
    or scan in another order moves near-zero elements by about eps times the running sum, which
    is no error (Inductor's cumsum over 32768 elements differs from eager by 4e-4 that way)."""
    finite = expected[expected.isfinite()]
    return max(1.0, float(finite.square().mean().sqrt())) if finite.numel() else 1.0


def check_outputs(actual: Any, expected: Any) -> OutputCheck:
    """Compare every output tensor with the dtype's tolerance; shapes and dtypes must match."""
    got, want = _flat(actual), _flat(expected)
    tol = max(TOLERANCE.get(t.dtype, 0.0) for t in want)
    if len(got) != len(want):
        return OutputCheck(False, math.inf, math.inf, tol, f"{len(got)} outputs, expected {len(want)}")
    correct, max_abs, max_rel, reasons = True, 0.0, 0.0, []
    for i, (a, e) in enumerate(zip(got, want)):
        if a.shape != e.shape or a.dtype != e.dtype:
            return OutputCheck(False, math.inf, math.inf, tol, f"output {i}: {a.dtype}{list(a.shape)}, expected {e.dtype}{list(e.shape)}")
        t = TOLERANCE.get(e.dtype, 0.0)
        a64, e64 = a.double(), e.double()
        close = torch.isclose(a64, e64, rtol=t, atol=t * output_scale(e64), equal_nan=True)
        if not bool(close.all()):
            correct = False
            reasons.append(f"output {i}: {int((~close).sum())} of {close.numel()} elements off")
        both_finite = a64.isfinite() & e64.isfinite()
        diff = torch.where(both_finite, (a64 - e64).abs(), torch.zeros_like(a64))
        if diff.numel():
            max_abs = max(max_abs, float(diff.max()))
            max_rel = max(max_rel, float((diff / (e64.abs() + max(t, 1e-12))).max()))
    return OutputCheck(correct, max_abs, max_rel, tol, "; ".join(reasons))


@lru_cache(maxsize=None)
def find_llm_backend() -> tuple[Any, str]:
    """(backend for torch.compile, how it was found), or (None, why it is unavailable)."""
    from torch._dynamo.backends.registry import lookup_backend
    from torch._dynamo.exc import InvalidBackend

    try:
        lookup_backend("llm")
        return "llm", "entry point"
    except InvalidBackend:
        pass
    except Exception as e:  # registered, but its module fails to import
        return None, f"backend 'llm' is registered but does not load: {type(e).__name__}: {e}"
    try:
        from torch_llmbackend.backend import llm_backend
    except ImportError as e:
        return None, f"backend 'llm' is not available yet ({e})"
    return llm_backend, "torch_llmbackend.backend (package not installed)"


def compiler_for(backend: str, settings: BenchSettings) -> Callable[[torch.nn.Module], Callable]:
    if backend == "eager":
        return lambda model: model
    if backend == "inductor":
        return lambda model: torch.compile(model, backend="inductor")
    if backend == "dynamo":
        return lambda model: torch.compile(model, backend=dynamo_unchanged)
    llm, how = find_llm_backend()
    if llm is None:
        pytest.skip(how)
    options = {"mode": "offline", "cache_dir": settings.llm_cache_dir}
    return lambda model: torch.compile(model, backend=llm, options=options)


def llm_decisions() -> list[dict[str, Any]]:
    """What backend="llm" ran per subgraph in the compile just done, with the figures it chose
    by (us; `gpu` and `host` are the two parts of a kernel's figure), for reading a run later."""
    from torch_llmbackend.backend import report

    return [{"ops": len(r["ops"]), "runs": r["runs"], "reason": r["reason"][:300], "kernel": r.get("kernel_time"),
             "kernel_gpu": r.get("kernel_gpu_time"), "kernel_host": r.get("kernel_host_time"),
             "eager": r.get("eager_time"), "inductor": r.get("inductor_time")} for r in report()]


def synchronizer(device: str) -> Callable[[], None]:
    return torch.cuda.synchronize if device == "cuda" else (lambda: None)


def calls_per_round(model: torch.nn.Module, inputs: list, sync: Callable[[], None], min_round_s: float) -> int:
    """Forwards per timed round so that a round lasts about min_round_s, from eager's speed."""
    best = math.inf
    for _ in range(3):
        sync()
        start = time.perf_counter()
        model(*inputs)
        sync()
        best = min(best, time.perf_counter() - start)
    return max(1, min(MAX_CALLS_PER_ROUND, math.ceil(min_round_s / max(best, 1e-9))))


def gpu_kernel_seconds(fn: Callable, inputs: list, calls: int) -> float:
    """GPU time of one forward: the kernels' own durations under the profiler, without the CPU
    time spent launching them (the wall-clock median includes that, as a user sees it)."""
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn(*inputs)
        torch.cuda.synchronize()
    return sum(e.device_time_total for e in prof.key_averages()) * 1e-6 / calls


def timed_step(fn: Callable, inputs: list, calls: int, sync: Callable[[], None]) -> Callable[[], None]:
    """The benchmarked callable. pytest-benchmark calls it `calls` times per round and divides
    the round's time by `calls`; synchronizing on the last call of each round makes the round
    cover all the GPU work it launched, without one synchronize per call."""
    count = 0

    def step() -> None:
        nonlocal count
        fn(*inputs)
        count += 1
        if count % calls == 0:
            sync()

    return step


def test_problem(
    benchmark,
    bench_settings: BenchSettings,
    bench_environment: dict[str, Any],
    calls_per_round_cache: dict[str, int],
    problem_id: str,
    backend: str,
) -> None:
    problem = get_problem(problem_id)
    compile_model = compiler_for(backend, bench_settings)
    device, sync = bench_settings.device, synchronizer(bench_settings.device)
    torch._dynamo.reset()
    model, inputs = problem.instantiate(device, seed=bench_settings.seed)
    try:
        with torch.no_grad():
            expected = model(*inputs)
            if problem_id not in calls_per_round_cache:
                calls_per_round_cache[problem_id] = calls_per_round(model, inputs, sync, bench_settings.min_round_s)
            calls = calls_per_round_cache[problem_id]
            fn = compile_model(model)
            sync()
            start = time.perf_counter()
            out = fn(*inputs)  # the first call compiles
            sync()
            compile_s = time.perf_counter() - start
            before = check_outputs(out, expected)
            del out

            size = footprint(problem_id)
            benchmark.group = problem_id
            benchmark.extra_info.update(
                problem=problem_id,
                level=problem.meta.level,
                backend=backend,
                dtype=str(problem.meta.dtype).removeprefix("torch."),
                device=torch.cuda.get_device_name() if device == "cuda" else "cpu",
                calls_per_round=calls,
                first_call_s=compile_s,
                flops=size.flops,
                io_bytes=size.input_bytes + size.param_bytes + size.output_bytes,
                **{f"env_{k}": v for k, v in bench_environment.items()},
            )
            if backend == "llm":
                benchmark.extra_info.update(llm_backend=find_llm_backend()[1], llm_cache_dir=bench_settings.llm_cache_dir,
                                            llm_decisions=llm_decisions())

            sync()
            benchmark.pedantic(
                timed_step(fn, inputs, calls, sync),
                iterations=calls,
                rounds=bench_settings.rounds,
                warmup_rounds=bench_settings.warmup_rounds,
            )
            sync()
            after = check_outputs(fn(*inputs), expected)  # a kernel may go wrong only once warm
            if device == "cuda":
                benchmark.extra_info["gpu_time_s"] = gpu_kernel_seconds(fn, inputs, calls)
    finally:
        torch._dynamo.reset()
        if device == "cuda":
            torch.cuda.empty_cache()

    correct = before.correct and after.correct
    worst = before if before.max_abs_error >= after.max_abs_error else after
    benchmark.extra_info.update(
        correct=correct,
        max_abs_error=worst.max_abs_error,
        max_rel_error=max(before.max_rel_error, after.max_rel_error),
        tolerance=worst.tolerance,
        mismatch=before.reason or after.reason,
    )
    assert correct, f"{backend} output differs from eager on {problem_id}: {asdict(before)} / after timing {asdict(after)}"
