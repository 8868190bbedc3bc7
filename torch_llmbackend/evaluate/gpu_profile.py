"""Profile feedback for the agent: a few lines it can act on, not raw profiler logs.

Two sources, best first:
- Nsight Compute (`ncu`), when installed and allowed to read the GPU's counters: per kernel the
  duration, DRAM and SM throughput (% of peak), achieved vs theoretical occupancy and what limits
  it, registers per thread, and the dominant warp stall reason. ncu profiles a separate process,
  so a small script re-imports the candidate's module file and runs it once inside an NVTX range.
- Otherwise the torch profiler's kernel times (names, launches, time per call).
Both end in the same roofline line: the subgraph's useful bytes and FLOPs over the measured
time against the device's peaks (H100 SXM: 3.35 TB/s HBM3, 989 TFLOP/s dense fp16/bf16 tensor,
67 TFLOP/s fp32).

Parsing and summarising are pure functions (`parse_ncu_csv`, `summarize_ncu`,
`summarize_kernel_times`) tested on the CPU with canned outputs; `profile_summary` runs things.
"""
from __future__ import annotations

import csv
import inspect
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..options import switched_off
from ..records import Problem

log = logging.getLogger(__name__)

NVTX_RANGE = "llmk_profile"


@dataclass(frozen=True)
class DevicePeaks:
    name: str
    hbm_bytes_per_s: float
    fp32_flops: float  # CUDA cores, no tensor cores (TF32 is off unless the model enables it)
    fp16_flops: float  # CUDA cores, packed half2
    tensor_flops: float  # dense fp16/bf16 tensor cores
    tf32_flops: float  # dense TF32 tensor cores


# Datasheet figures (dense, boost clock).
_PEAKS = (
    (re.compile(r"H200"), DevicePeaks("H200", 4.8e12, 67e12, 134e12, 989e12, 494e12)),
    (re.compile(r"H100.*PCIe"), DevicePeaks("H100 PCIe", 2.0e12, 51e12, 102e12, 756e12, 378e12)),
    (re.compile(r"H100"), DevicePeaks("H100 SXM", 3.35e12, 67e12, 134e12, 989e12, 494e12)),
)

_MATMUL_OPS = ("aten.mm", "aten.addmm", "aten.bmm", "aten.baddbmm", "aten.convolution", "aten._scaled_dot_product")


def peaks_for(device_name: str) -> DevicePeaks | None:
    for pattern, peaks in _PEAKS:
        if pattern.search(device_name or ""):
            return peaks
    return None


def flops_peak(problem: Problem, peaks: DevicePeaks, tf32: bool = False) -> tuple[float, str]:
    """The FLOP/s ceiling that applies to this subgraph, and its name."""
    dtypes = {t.dtype for t in problem.inputs}
    matmul = any(op.startswith(_MATMUL_OPS) for op in problem.ops)
    half = bool(dtypes & {"float16", "bfloat16"})
    if matmul and half:
        return peaks.tensor_flops, "fp16/bf16 tensor-core"
    if matmul and tf32:
        return peaks.tf32_flops, "TF32 tensor-core"
    if half:
        return peaks.fp16_flops, "fp16 CUDA-core"
    return peaks.fp32_flops, "fp32 CUDA-core"


def roofline_line(problem: Problem, seconds: float, device_name: str, tf32: bool = False) -> str:
    """Useful bandwidth and FLOP/s of one call taking `seconds`, against the device's peaks."""
    if seconds <= 0:
        return "roofline: no kernel time measured"
    bw = problem.bytes_moved / seconds
    fl = problem.flops / seconds
    peaks = peaks_for(device_name)
    if peaks is None:
        return (f"roofline: {_bytes(problem.bytes_moved)} useful traffic -> {bw / 1e12:.2f} TB/s; "
                f"{problem.flops / 1e9:.3g} GFLOP -> {fl / 1e12:.2f} TFLOP/s (no peak figures for {device_name or 'this device'})")
    fpeak, fname = flops_peak(problem, peaks, tf32)
    bw_pct, fl_pct = 100 * bw / peaks.hbm_bytes_per_s, 100 * fl / fpeak
    bound = "memory" if bw_pct >= fl_pct else "compute"
    return (f"roofline ({peaks.name}): {_bytes(problem.bytes_moved)} useful traffic -> {bw / 1e12:.2f} TB/s = "
            f"{bw_pct:.0f}% of {peaks.hbm_bytes_per_s / 1e12:.2f} TB/s HBM; {problem.flops / 1e9:.3g} GFLOP -> "
            f"{fl / 1e12:.2f} TFLOP/s = {fl_pct:.1f}% of {fpeak / 1e12:.0f} TFLOP/s {fname}; closer to the {bound} roof")


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


# --- Nsight Compute -------------------------------------------------------------------------------

NCU_SECTIONS = ("SpeedOfLight", "Occupancy", "WarpStateStats", "LaunchStats")
# the per-reason stall breakdown behind the WarpStateStats chart
NCU_STALL_METRICS = r"regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio"
_STALL = re.compile(r"smsp__average_warps_issue_stalled_(\w+?)_per_issue_active")
_NOT_STALLS = {"selected", "not_selected"}

STALL_ADVICE = {
    "long_scoreboard": "waiting on global/local memory: more independent loads in flight, stage tiles in shared memory, check for register spills",
    "short_scoreboard": "waiting on shared memory or special functions (exp, rsqrt): fewer shared-memory round trips, avoid bank conflicts",
    "mio_throttle": "shared-memory instruction queue full: wider (16-byte) shared accesses, fewer of them, pad to avoid bank conflicts",
    "lg_throttle": "too many global memory instructions: vectorize to 16-byte loads/stores",
    "barrier": "warps wait at __syncthreads / tl barriers: fewer barriers, balance the work between warps",
    "math_pipe_throttle": "a math pipe is saturated: use tensor cores (mma/wgmma, tl.dot) or spread work over pipes",
    "wait": "fixed-latency dependencies: more independent instructions (unroll, several accumulators)",
    "no_instruction": "instruction cache misses or taken branches: smaller unrolls, less code",
    "branch_resolving": "divergent branches: make threads of a warp take the same path",
    "membar": "memory fences: remove unneeded __threadfence / atomics",
    "tex_throttle": "texture/L1 pipe full: fewer, wider loads",
    "drain": "stores draining at exit: normal for short kernels",
    "dispatch_stall": "dispatcher stalls: usually minor",
    "imc_miss": "constant cache misses: keep kernel parameters and constants few",
    "sleeping": "warps sleeping (nanosleep / cooperative waits)",
}


@dataclass
class NcuKernel:
    """What ncu reported about one kernel launch."""

    id: str
    name: str
    block: str = ""
    grid: str = ""
    metrics: dict[str, tuple[float, str]] = field(default_factory=dict)  # metric name -> (value, unit)

    def value(self, name: str) -> float | None:
        v = self.metrics.get(name)
        return v[0] if v else None

    def duration_us(self) -> float:
        v = self.metrics.get("Duration")
        if not v:
            return 0.0
        scale = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "second": 1e6, "s": 1e6}
        return v[0] * scale.get(v[1], 1.0)

    def main_stall(self) -> tuple[str, float] | None:
        """(reason, share of all stall cycles) for the largest stall reason."""
        stalls = {}
        for name, (value, _) in self.metrics.items():
            m = _STALL.search(name)
            if m and m.group(1) not in _NOT_STALLS:
                stalls[m.group(1)] = value
        total = sum(stalls.values())
        if not stalls or total <= 0:
            return None
        reason = max(stalls, key=stalls.get)
        return reason, stalls[reason] / total

    def occupancy_limiter(self) -> str | None:
        limits = {k.removeprefix("Block Limit ").lower(): v for k, (v, _) in self.metrics.items() if k.startswith("Block Limit ")}
        if not limits:
            return None
        return min(limits, key=limits.get)


class NcuUnavailable(RuntimeError):
    """ncu is missing, may not read the counters, or produced nothing usable (message says which)."""


_PERMISSION = re.compile(r"ERR_NVGPUCTRPERM|does not have permission to access NVIDIA GPU Performance Counters")


def parse_ncu_csv(text: str) -> list[NcuKernel]:
    """Kernels from `ncu --csv --page details` output (other output lines are ignored)."""
    if _PERMISSION.search(text):
        raise NcuUnavailable("ncu may not read the GPU performance counters here (ERR_NVGPUCTRPERM)")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID",')), None)
    if start is None:
        errors = [line for line in lines if "==ERROR==" in line]
        raise NcuUnavailable("ncu printed no metrics" + (f": {errors[0]}" if errors else ""))
    rows = csv.DictReader(io.StringIO("\n".join(line for line in lines[start:] if line.startswith('"'))))
    kernels: dict[str, NcuKernel] = {}
    for row in rows:
        kid = row.get("ID", "")
        k = kernels.get(kid)
        if k is None:
            k = kernels[kid] = NcuKernel(kid, row.get("Kernel Name", "?"), row.get("Block Size", ""), row.get("Grid Size", ""))
        name, raw = row.get("Metric Name"), row.get("Metric Value")
        if not name or raw is None:
            continue
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            continue
        k.metrics[name] = (value, row.get("Metric Unit", ""))
    if not kernels:
        raise NcuUnavailable("ncu profiled no kernel (did the candidate launch any inside the profiled call?)")
    return list(kernels.values())


def summarize_ncu(kernels: Sequence[NcuKernel], problem: Problem, device_name: str, tf32: bool = False, max_kernels: int = 4) -> str:
    total = sum(k.duration_us() for k in kernels)
    lines = [f"profile (Nsight Compute, {device_name or 'GPU'}): {len(kernels)} kernel launch(es) per call, {total:.1f} us of kernel time"]
    lines.append("- " + roofline_line(problem, total * 1e-6, device_name, tf32))
    for k in sorted(kernels, key=lambda k: -k.duration_us())[:max_kernels]:
        parts = [f"{_short(k.name)}: {k.duration_us():.1f} us" + (f" ({100 * k.duration_us() / total:.0f}%)" if total else "")]
        if k.grid or k.block:
            parts.append(f"grid {k.grid} block {k.block}")
        dram, sm = k.value("DRAM Throughput"), k.value("Compute (SM) Throughput")
        if dram is not None or sm is not None:
            parts.append(f"DRAM {dram or 0:.0f}% / SM {sm or 0:.0f}% of peak")
        achieved, theoretical = k.value("Achieved Occupancy"), k.value("Theoretical Occupancy")
        if achieved is not None:
            occ = f"occupancy {achieved:.0f}%" + (f" of {theoretical:.0f}% theoretical" if theoretical is not None else "")
            limiter = k.occupancy_limiter()
            if limiter and theoretical is not None and theoretical < 100:
                occ += f" (limited by {limiter})"
            parts.append(occ)
        regs = k.value("Registers Per Thread")
        if regs is not None:
            parts.append(f"{regs:.0f} registers/thread")
        stall = k.main_stall()
        if stall:
            parts.append(f"main stall {stall[0]} ({100 * stall[1]:.0f}% of stalls): {STALL_ADVICE.get(stall[0], 'see Nsight Compute docs')}")
        lines.append("- " + "; ".join(parts))
        hint = _bound_hint(dram, sm)
        if hint:
            lines.append(f"  -> {hint}")
    if len(kernels) > max_kernels:
        lines.append(f"- ... and {len(kernels) - max_kernels} more kernels")
    if len(kernels) > 1:
        lines.append("- several launches per call: fusing them saves launch gaps and intermediate traffic")
    return "\n".join(lines)


def _bound_hint(dram: float | None, sm: float | None) -> str:
    if dram is None or sm is None:
        return ""
    if dram >= 60 and dram >= sm:
        return "memory-bound: cut bytes moved (fuse, read each input once, 16-byte vector accesses, keep intermediates on chip)"
    if sm >= 60:
        return "compute-bound: use tensor cores and cheaper math; check for redundant work"
    return "neither memory nor compute is saturated: latency-bound; add parallelism (more blocks or warps per SM) and more loads in flight"


def _short(name: str, limit: int = 60) -> str:
    # demangled names carry a return type and the argument list; the name is what helps
    name = re.sub(r"^void\s+", "", re.sub(r"\(.*\)$", "", name or "?").strip())
    return name if len(name) <= limit else name[: limit - 3] + "..."


# --- torch profiler ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KernelTime:
    name: str
    total_us: float  # over all profiled calls
    launches: int  # over all profiled calls


def kernel_times_from_profiler(prof) -> list[KernelTime]:
    """Device kernels from a finished torch.profiler.profile, by name."""
    out = []
    for evt in prof.key_averages():
        total = getattr(evt, "device_time_total", None)
        if total is None:
            total = getattr(evt, "cuda_time_total", 0.0)
        self_total = getattr(evt, "self_device_time_total", None)
        if self_total is None:
            self_total = getattr(evt, "self_cuda_time_total", total)
        # kernels are leaf device events: their self time is their time; CPU-side ops that
        # launched them have self device time 0 and are skipped
        if self_total and self_total > 0 and _is_kernel(evt):
            out.append(KernelTime(evt.key, float(self_total), int(evt.count)))
    return out


def _is_kernel(evt) -> bool:
    device_type = str(getattr(evt, "device_type", ""))
    return "CUDA" in device_type or not getattr(evt, "cpu_time_total", 0)


def summarize_kernel_times(kernels: Sequence[KernelTime], calls: int, problem: Problem, device_name: str, tf32: bool = False, reason: str = "", max_kernels: int = 4) -> str:
    total = sum(k.total_us for k in kernels) / max(calls, 1)
    launches = sum(k.launches for k in kernels) / max(calls, 1)
    head = f"profile (torch profiler kernel times, {device_name or 'GPU'}"
    head += f"; {reason})" if reason else ")"
    lines = [f"{head}: {launches:.0f} kernel launch(es) per call, {total:.1f} us of kernel time"]
    if not kernels:
        return lines[0] + "\n- no GPU kernel ran: does forward launch its kernel on the inputs' device?"
    lines.append("- " + roofline_line(problem, total * 1e-6, device_name, tf32))
    for k in sorted(kernels, key=lambda k: -k.total_us)[:max_kernels]:
        per_call = k.total_us / max(calls, 1)
        lines.append(f"- {_short(k.name)}: {per_call:.1f} us per call ({100 * per_call / total:.0f}%), {k.launches / max(calls, 1):.0f} launch(es)")
    if len(kernels) > max_kernels:
        lines.append(f"- ... and {len(kernels) - max_kernels} more kernels")
    if launches > 1.5:
        lines.append("- several launches per call: fusing them saves launch gaps and intermediate traffic")
    return "\n".join(lines)


# --- running ------------------------------------------------------------------------------------

_NCU_SCRIPT = r'''
import importlib.util, json, sys
import torch
spec_path, module_path = sys.argv[1], sys.argv[2]
with open(spec_path) as f:
    specs = json.load(f)
spec = importlib.util.spec_from_file_location("llmk_profiled", module_path)
module = importlib.util.module_from_spec(spec)
sys.modules["llmk_profiled"] = module
spec.loader.exec_module(module)
torch.manual_seed(0)
inputs = []
for s in specs:
    t = torch.empty_strided(s["shape"], s["stride"], dtype=getattr(torch, s["dtype"]), device="cuda")
    inputs.append(t.normal_() if t.is_floating_point() else t.zero_())
model = module.ModelNew()
for _ in range(2):  # JIT builds and caches happen outside the profiled range
    model(*inputs)
torch.cuda.synchronize()
torch.cuda.nvtx.range_push("''' + NVTX_RANGE + r'''")
model(*inputs)
torch.cuda.nvtx.range_pop()
torch.cuda.synchronize()
'''


def find_ncu() -> str | None:
    if switched_off("LLMBACKEND_NCU"):
        return None
    path = shutil.which("ncu")
    for folder in (os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if path is None and folder and os.path.exists(os.path.join(folder, "bin", "ncu")):
            path = os.path.join(folder, "bin", "ncu")
    return path


def ncu_command(ncu: str, script: str, spec_path: str, module_path: str) -> list[str]:
    cmd = [ncu, "--csv", "--page", "details", "--target-processes", "all", "--nvtx", "--nvtx-include", f"{NVTX_RANGE}/"]
    for section in NCU_SECTIONS:
        cmd += ["--section", section]
    cmd += ["--metrics", NCU_STALL_METRICS]
    return cmd + [sys.executable, script, spec_path, module_path]


def run_ncu(module_path: str, problem: Problem, timeout_s: float = 180.0) -> list[NcuKernel]:
    ncu = find_ncu()
    if ncu is None:
        raise NcuUnavailable("ncu not found")
    with tempfile.TemporaryDirectory(prefix="llmk_ncu_") as tmp:
        script, spec_path = os.path.join(tmp, "run.py"), os.path.join(tmp, "inputs.json")
        with open(script, "w") as f:
            f.write(_NCU_SCRIPT)
        with open(spec_path, "w") as f:
            json.dump([t.to_json() for t in problem.inputs], f)
        try:
            proc = subprocess.run(ncu_command(ncu, script, spec_path, module_path), capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise NcuUnavailable(f"ncu took longer than {timeout_s:.0f}s") from None
    return parse_ncu_csv(proc.stdout + "\n" + proc.stderr)


def module_file_of(fn: Callable) -> str | None:
    """The file of the candidate module that defines `fn` (a ModelNew instance or function)."""
    target = fn if inspect.isfunction(fn) or inspect.isclass(fn) else type(fn)
    module = inspect.getmodule(target)
    path = getattr(module, "__file__", None)
    return path if path and os.path.isfile(path) else None


def profile_summary(fn: Callable, inputs: Sequence[Any], problem: Problem | dict, *, use_ncu: bool | None = None,
                    module_path: str | None = None, calls: int = 5, timeout_s: float = 180.0) -> str:
    """A few lines on where the time of `fn(*inputs)` goes on the GPU, for the LLM.

    `fn` is the candidate's ModelNew instance (already verified); its module file is re-run
    under ncu when ncu can read counters, else the torch profiler times its kernels here."""
    import torch

    if isinstance(problem, dict):
        problem = Problem.from_json(problem)
    device_name = torch.cuda.get_device_name() if torch.cuda.is_available() else ""
    tf32 = bool(torch.backends.cuda.matmul.allow_tf32)
    reason = ""
    if use_ncu is not False:
        path = module_path or module_file_of(fn)
        try:
            if path is None:
                raise NcuUnavailable("the candidate module has no file to re-run")
            return summarize_ncu(run_ncu(path, problem, timeout_s), problem, device_name, tf32)
        except NcuUnavailable as e:
            reason = f"{e}"
            log.debug("profile: Nsight Compute unavailable (%s); using the torch profiler", e)
        except (OSError, subprocess.SubprocessError) as e:
            reason = f"ncu failed: {type(e).__name__}"
            log.warning("profile: ncu failed (%s: %s); using the torch profiler", type(e).__name__, e)
    return summarize_kernel_times(torch_profile(fn, inputs, calls), calls, problem, device_name, tf32, reason)


def torch_profile(fn: Callable, inputs: Sequence[Any], calls: int) -> list[KernelTime]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    for _ in range(2):
        fn(*inputs)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn(*inputs)
        torch.cuda.synchronize()
    return kernel_times_from_profiler(prof)
