"""Honest timing of one callable (runs in the worker).

CUDA, per run: flush L2 by writing a 256 MB buffer, hold the GPU in a sleep kernel long enough
for the host to issue the call, record a start event, call, record an end event, and
synchronize the whole device (all streams, so work left on a side stream cannot escape the
measurement or leak into the next run). Median and p20/p80 of the runs: the kernels' own time,
with cold L2 and no launch gap inside. A kernel whose Python launch path costs more than its GPU
time would win on that figure and lose in the model, where the CPU must issue every call, so the
host time of issuing one call is measured too (STEADY_BATCHES batches of STEADY_CALLS calls back
to back, CPU clock, no synchronization inside; the fastest batch: on a shared host the same call
costs up to 2-3x more at busy moments, and the least is the figure that compares alike across
measurements), and the figure compared is the larger of the two. The GPU time stays the cold-L2
one: timed back to back, a tensor-core kernel can be slowed by power capping that a single call
in a model does not see. `steady=False` leaves the host figure out of the comparison, for a
baseline whose per-call host cost the model does not pay that way (see pipeline.time_baselines).
CPU (the test suite, the Triton interpreter): perf_counter per run; the figure is marked "cpu"
and means nothing for a GPU.

Every figure carries the device name, the torch version and the dtype. A candidate faster than
the roofline (flops at peak compute, bytes at peak bandwidth) is physically impossible on that
device; the evaluation flags it "beyond-roofline" rather than believing it.
"""
from __future__ import annotations

import functools
import statistics
import time
from typing import Callable, NamedTuple

import torch

from ..records import Problem, Timing

CUDA_RUNS, CUDA_WARMUP = 30, 5
STEADY_CALLS, STEADY_BATCHES = 10, 5
MAX_LEAD_US = 50_000  # the longest the GPU is held asleep ahead of a timed call
CPU_RUNS, CPU_WARMUP = 10, 1  # CPU figures only serve the tests (the interpreter is slow)
LONG_CALL_US, LONG_CALL_RUNS = 5_000.0, 3  # see measure_alternating
BACK_TO_BACK_CALLS, BACK_TO_BACK_ROUND_US = 20, 20_000.0  # see back_to_back_alternating
L2_FLUSH_BYTES = 256 * 1024 * 1024

# Dense peak FLOP/s by dtype (no sparsity; fp32 without TF32, which verification turns off)
# and DRAM bandwidth in bytes/s, from the vendors' datasheets (SXM parts).
GPU_PEAKS = {
    "H100": {"float16": 989e12, "bfloat16": 989e12, "float32": 67e12, "bandwidth": 3.35e12},
    "H200": {"float16": 989e12, "bfloat16": 989e12, "float32": 67e12, "bandwidth": 4.8e12},
    "A100": {"float16": 312e12, "bfloat16": 312e12, "float32": 19.5e12, "bandwidth": 2.04e12},
}


def device_name(device_type: str) -> str:
    if device_type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return "cpu"


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(samples_us: list[float]) -> Timing:
    s = sorted(samples_us)
    return Timing(median=statistics.median(s), p20=percentile(s, 0.2), p80=percentile(s, 0.8), runs=len(s), unit="us")


def measure(fn: Callable[[], object], device_type: str, runs: int | None = None, steady: bool = True) -> Timing:
    if device_type == "cuda":
        return _measure_cuda(fn, runs or CUDA_RUNS, steady)
    return _measure_cpu(fn, runs or CPU_RUNS)


def measure_alternating(fns: list[Callable[[], object]], device_type: str, rounds: int = 2) -> list[Timing]:
    """One figure per callable for choosing between them in the calling process: each measured
    `rounds` times, taking turns, keeping its best figure. Timed once each in a fixed order, the
    first pays for a GPU whose clocks dropped during the compile before it and for any burst of
    host load (on the H100 machine a graph with a verified kernel once timed slower than eager
    right after its compile, and ran at well under half that time in the model).

    A call of LONG_CALL_US or more is timed by LONG_CALL_RUNS synchronized calls per round
    instead (the median of them): a full measure() makes about 85 calls, which for a 100 ms model
    would add 17 s to a compile, and at that length neither the cache nor the launch path moves
    the figure."""
    sync = _synchronizer(device_type)
    first = [_synchronized_us(fn, sync) for fn in fns]  # also the warm-up of anything lazy
    long_calls = max(first) >= LONG_CALL_US
    best: list[Timing | None] = [None] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            if long_calls:
                t = summarize([_synchronized_us(fn, sync) for _ in range(LONG_CALL_RUNS)])
            else:
                t = measure(fn, device_type)
            if best[i] is None or t.median < best[i].median:
                best[i] = t
    return best  # type: ignore[return-value]


class BackToBack(NamedTuple):
    """One callable's figures from back_to_back_alternating, per call."""

    per_call_us: float  # calls issued in a row and one synchronize at the end: host and GPU overlapped
    host_us: float  # the same calls' issue time on the host alone, before that synchronize


def back_to_back_alternating(fns: list[Callable[[], object]], device_type: str, calls: int = BACK_TO_BACK_CALLS,
                             rounds: int = 3) -> list[BackToBack]:
    """Per-call time of `calls` calls issued back to back and one synchronize at the end, for
    each callable in turns, best of `rounds`, with the host's share of it: what a loop of calls
    sees, host and GPU overlapped, caches warm. For choosing between callables that run the
    same kernels and differ only in how they are issued (a CUDA-graph replay against a plain
    call), where measure()'s cold-L2 GPU figure is the same for both and would hide the host
    time a replay saves. A round lasts about BACK_TO_BACK_ROUND_US at most: long calls are
    counted fewer times."""
    sync = _synchronizer(device_type)
    first = [_synchronized_us(fn, sync) for fn in fns]  # warm-up, and the length of a call
    n = max(1, min(calls, int(BACK_TO_BACK_ROUND_US / max(max(first), 1e-3))))
    per_call = [float("inf")] * len(fns)
    host = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            sync()
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            issued = time.perf_counter()
            sync()
            per_call[i] = min(per_call[i], (time.perf_counter() - t0) * 1e6 / n)
            host[i] = min(host[i], (issued - t0) * 1e6 / n)
    return [BackToBack(c, h) for c, h in zip(per_call, host)]


def capturing(device_type: str) -> bool:
    """True while the current CUDA stream is capturing a graph: a synchronize there would break
    the user's capture, so nothing may be timed (a model first called inside a capture)."""
    return device_type == "cuda" and torch.cuda.is_available() and torch.cuda.is_current_stream_capturing()


def _synchronizer(device_type: str) -> Callable[[], None]:
    return torch.cuda.synchronize if device_type == "cuda" else (lambda: None)


def _synchronized_us(fn: Callable[[], object], sync: Callable[[], None]) -> float:
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return (time.perf_counter() - t0) * 1e6


def _measure_cpu(fn: Callable[[], object], runs: int) -> Timing:
    for _ in range(CPU_WARMUP):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e6)
    return summarize(samples)


def _measure_cuda(fn: Callable[[], object], runs: int, steady: bool = True) -> Timing:
    flush = _l2_flush_buffer()
    for _ in range(CUDA_WARMUP):
        fn()
    torch.cuda.synchronize()
    host_us = _host_us_per_call(fn)
    # The GPU waits in a sleep kernel while the host issues the call, so the events bracket the
    # kernels alone: on a busy host, issuing a call can outlast the flush, and the GPU would
    # otherwise sit idle inside the measurement (a short softmax once read several times its time).
    lead = int(_gpu_cycles_per_us() * min(3 * host_us + 100.0, MAX_LEAD_US))
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(runs)]
    for start, end in events:
        flush.zero_()
        torch.cuda._sleep(lead)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
    cold = summarize([start.elapsed_time(end) * 1e3 for start, end in events])
    return with_steady(cold, host_us) if steady else cold


def _host_us_per_call(fn: Callable[[], object]) -> float:
    """Host time of issuing one call, back to back: the fastest of a few batches."""
    batches = []
    for _ in range(STEADY_BATCHES):
        t0 = time.perf_counter()
        for _ in range(STEADY_CALLS):
            fn()
        batches.append((time.perf_counter() - t0) * 1e6 / STEADY_CALLS)
    torch.cuda.synchronize()
    return min(batches)


@functools.lru_cache(maxsize=None)
def _gpu_cycles_per_us() -> float:
    """Clock cycles per microsecond of torch.cuda._sleep on this GPU, measured once."""
    cycles = 10_000_000
    torch.cuda._sleep(cycles // 10)  # warm up
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.cuda._sleep(cycles)
    end.record()
    torch.cuda.synchronize()
    return cycles / max(start.elapsed_time(end) * 1e3, 1.0)


def _l2_flush_buffer() -> torch.Tensor:
    return torch.empty(L2_FLUSH_BYTES // 4, dtype=torch.int32, device="cuda")


def with_steady(cold: Timing, per_call_us: float) -> Timing:
    """`cold` with the host time of issuing one call folded in: the median (what comparisons
    use) becomes the larger of the two, and the spread moves with it."""
    shift = max(0.0, per_call_us - cold.median)
    return Timing(median=cold.median + shift, p20=cold.p20 + shift, p80=cold.p80 + shift, runs=cold.runs,
                  unit=cold.unit, gpu_median=cold.median, steady=per_call_us)


def timing_json(t: Timing, device: str, dtype: str) -> dict:
    return {**t.to_json(), "device": device, "torch": torch.__version__, "dtype": dtype}


def problem_dtype(problem: Problem) -> str:
    """The dtype a problem computes in: its first floating-point input (or output)."""
    for spec in (*problem.inputs, *problem.outputs):
        if spec.dtype in ("float32", "float16", "bfloat16", "float64"):
            return spec.dtype
    return (problem.inputs or problem.outputs)[0].dtype if (problem.inputs or problem.outputs) else "float32"


def roofline_us(problem: Problem, device: str, dtype: str) -> float | None:
    """The least time the problem can take on `device` (None where its peaks are unknown)."""
    peaks = next((p for name, p in GPU_PEAKS.items() if name in device), None)
    if peaks is None or (not problem.flops and not problem.bytes_moved):
        return None
    compute = problem.flops / peaks.get(dtype, peaks["float32"])
    memory = problem.bytes_moved / peaks["bandwidth"]
    return max(compute, memory) * 1e6


def beyond_roofline(candidate: Timing, problem: Problem, device: str, dtype: str) -> bool:
    bound = roofline_us(problem, device, dtype)
    return bound is not None and candidate.unit == "us" and candidate.median < bound
