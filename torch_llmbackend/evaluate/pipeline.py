"""One candidate, inside the worker: build -> guarded verification -> timing -> verify again.

Runs only in a worker process (worker_process.py). Every failure becomes an Evaluation with
concrete text for the LLM; `healthy` says whether this process may be trusted with the next
candidate (not after a CUDA error, which poisons the whole CUDA context).
"""
from __future__ import annotations

import functools
import gc
import logging
import os
import sys
import traceback
import types
from dataclasses import dataclass
from typing import Any, Callable

import torch

from ..records import Evaluation, Problem, Timing
from ..speedup import speedup
from ..targets import get_target
from ..targets.base import load_module_from_source
from . import timing
from .allocation import is_allocation_failure, memory_failure, subgraph_name
from .guard import ComputeGuard
from .inputs import POST_TIMING_TRIALS, TIMING_TRIAL, VERIFY_TRIALS, Trial, clone_exact, make_inputs, nonfinite_applies
from .sandbox import Sandbox
from .verify import CandidateFailure, TrialStats, as_outputs, check_trial, exact_checkable

log = logging.getLogger(__name__)

MAX_REASON = 2000


def problem_device(problem: Problem) -> str:
    return "cuda" if any(s.device == "cuda" for s in (*problem.inputs, *problem.outputs)) else "cpu"


@dataclass
class Reference:
    """The trusted eager module of one problem, loaded once per worker."""

    module: types.ModuleType

    def new_model(self) -> torch.nn.Module:
        return self.module.Model(*self.module.get_init_inputs())

    def values_for(self, trial: Trial) -> list:
        torch.manual_seed(trial.seed)
        return list(self.module.get_inputs())


class WorkerState:
    def __init__(self, workdir: str, device_type: str):
        self.workdir = workdir
        self.device_type = device_type
        self.candidate_dir = os.path.join(workdir, "candidates")
        self.sandbox = Sandbox(self.candidate_dir)
        self.references: dict[str, Reference] = {}
        self.scaled_results: dict[tuple[str, str], dict] = {}  # scaled.py: one full-size run per schedule

    def reference(self, problem: Problem) -> Reference:
        if problem.key not in self.references:
            module = load_module_from_source(problem.reference_source, os.path.join(self.workdir, "reference"), prefix="llmk_reference")
            self.references[problem.key] = Reference(module)
        return self.references[problem.key]

    def inputs(self, problem: Problem, ref: Reference, trial: Trial) -> list[torch.Tensor]:
        needs_reference = any(not s.dtype.startswith(("float", "bfloat")) and s.dtype != "bool" for s in problem.inputs)
        return make_inputs(problem.inputs, trial, ref.values_for(trial) if needs_reference else None)

    def sync(self) -> None:
        if self.device_type == "cuda":
            torch.cuda.synchronize()


def evaluate_candidate(state: WorkerState, problem: Problem, source: str, baselines: dict | None, baseline_names: list[str]) -> dict[str, Any]:
    """{"evaluation": Evaluation json, "healthy": bool}."""
    target = get_target(problem.target)
    available = target.availability(state.device_type)
    if not available.ok:
        return {"evaluation": Evaluation(False, "build", available.reason).to_json(), "healthy": True}
    reduced = _reduced_checks(target, problem, source)
    if reduced is not None:  # a candidate the target re-makes at small sizes: see scaled.py
        from .scaled import evaluate_scaled

        return evaluate_scaled(state, problem, source, reduced, baselines, baseline_names)
    ref = state.reference(problem)
    stats = TrialStats()
    state.sandbox.take()
    module: types.ModuleType | None = None
    set_tf32(problem.allow_tf32)
    try:
        module, instance = _build(state, target, source)
        exact = exact_checkable(problem.ops)
        for trial in verify_trials(problem):
            _run_trial(state, problem, ref, instance, trial, stats, exact)
        _check_fresh_outputs(state, problem, ref, instance)
        timings = _time_candidate(state, problem, ref, target, instance)
        for trial in POST_TIMING_TRIALS:
            _run_trial(state, problem, ref, instance, trial, stats, exact, after_timing=True)
        timings.update(baselines if baselines is not None else time_baselines(state, problem, baseline_names))
        evaluation = _passed(problem, stats, timings)
        healthy = True
    except CandidateFailure as failure:
        evaluation = Evaluation(False, failure.stage, _trim(failure.reason), verification=stats.to_json())
        healthy = failure.healthy
    except (MemoryError, RuntimeError) as e:  # the inputs or the reference did not fit: not the worker's fault
        if not is_allocation_failure(e):
            raise
        evaluation = Evaluation(False, "crash", memory_failure(e, f"verifying {subgraph_name(problem)}").reason, verification=stats.to_json())
        healthy = True
    finally:
        if module is not None:
            sys.modules.pop(module.__name__, None)
        module = instance = None  # noqa: F841 (drop the candidate before the next one)
        _release_memory()
    return {"evaluation": evaluation.to_json(), "healthy": healthy}


def verify_trials(problem: Problem) -> tuple[Trial, ...]:
    """The trials before timing: all of VERIFY_TRIALS, less the NaN/inf one where eager has no
    one answer on such inputs."""
    skip = nonfinite_applies(problem.ops, problem.inputs, problem.outputs)
    if skip is not None:
        log.debug("no NaN/inf trial for %s: %s", problem.key[:16], skip)
    return tuple(t for t in VERIFY_TRIALS if skip is None or t.distribution != "nonfinite")


def float_arbiter(problem: Problem):
    """The target's judgement of a float output that misses eager's tolerance (None: verify.py's)."""
    hook = getattr(get_target(problem.target), "float_arbiter", None)
    return hook(problem) if hook is not None else None


def _reduced_checks(target, problem: Problem, source: str) -> list | None:
    """[(smaller problem, its candidate)] where the target can re-make `source` at reduced sizes
    of the same structure, else None (every trial at full size)."""
    hook = getattr(target, "reduced_checks", None)
    return hook(problem, source) if hook is not None else None


def _build(state: WorkerState, target, source: str):
    module = None
    try:
        # unchecked: the caller ran the static checks; in here the sandbox, the guard and the
        # limits must hold on their own (the corpus sends candidates straight here to show it)
        module = target.load_unchecked(source, state.candidate_dir)
        cls = getattr(module, "ModelNew", None)
        if cls is None:
            raise CandidateFailure("build", "the module defines no ModelNew")
        instance = cls()
        _raise_refusals(state)
    except BaseException as e:  # candidate code: anything it raises is its failure
        if module is not None:
            sys.modules.pop(module.__name__, None)
        if isinstance(e, CandidateFailure):
            raise
        _raise_refusals(state)
        raise _classify(e, "build", "building the module") from None
    return module, instance


def _run_trial(state, problem, ref, instance, trial: Trial, stats: TrialStats, exact: bool, after_timing: bool = False) -> None:
    inputs = state.inputs(problem, ref, trial)
    ref_in = [clone_exact(x) for x in inputs]
    cand_in = [clone_exact(x) for x in inputs]
    try:
        want = ref.new_model()(*ref_in)
    except Exception as e:
        if trial.distribution != "nonfinite":
            raise
        # eager refuses such values for this graph (a range or a probability must be finite):
        # there is no answer to hold the kernel to
        log.debug("no NaN/inf trial for %s: eager raised %s: %s", problem.key[:16], type(e).__name__, e)
        return
    got = call_guarded(state, instance, cand_in)
    try:
        check_trial(got, want, cand_in, ref_in, inputs, trial, stats, exact_ops=exact,
                    exact_reference=functools.cache(functools.partial(_float64_reference, ref, inputs)),
                    arbiter=float_arbiter(problem))
    except CandidateFailure as f:
        if after_timing:
            f.reason = "after the timing runs, " + f.reason + " (it was right before: outputs kept between calls, or a race?)"
        raise


def _float64_reference(ref, inputs):
    """The reference's outputs on the same inputs upcast to float64, or None where an op has no
    float64 kernel (then the plain comparison with eager stands)."""
    try:
        exact_in = [clone_exact(x).double() if x.is_floating_point() else clone_exact(x) for x in inputs]
        with torch.no_grad():
            return ref.new_model()(*exact_in)
    except Exception:
        return None


def _check_fresh_outputs(state, problem, ref, instance) -> None:
    """Two calls must not hand back the same output memory: a caller may keep the first result."""
    inputs = state.inputs(problem, ref, VERIFY_TRIALS[0])
    first, _ = as_outputs(call_guarded(state, instance, [clone_exact(x) for x in inputs]))
    second, _ = as_outputs(call_guarded(state, instance, [clone_exact(x) for x in inputs]))
    for i, (a, b) in enumerate(zip(first, second)):
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.numel() and a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr():
            raise CandidateFailure("verify", f"output {i} is the same memory on two calls (a buffer reused across calls); allocate each output in forward")


def call_guarded(state: WorkerState, instance, args: list) -> Any:
    guard = ComputeGuard()
    try:
        with guard:
            out = instance(*args)
        state.sync()
    except BaseException as e:
        _raise_refusals(state)
        _raise_guard(guard)
        raise _classify(e, "verify", "forward") from None
    _raise_refusals(state)
    _raise_guard(guard)
    return out


def _raise_guard(guard: ComputeGuard) -> None:
    if guard.hits:
        raise CandidateFailure(
            "guard",
            f"forward called PyTorch compute ops from host code: {guard.summary()}. Host code may only allocate "
            "outputs (torch.empty*), take views and launch kernels; do the arithmetic inside the kernel.",
        )


def _raise_refusals(state: WorkerState) -> None:
    refused = state.sandbox.take()
    if refused:
        what = "; ".join(r.describe() for r in refused[:4])
        raise CandidateFailure("guard", f"kernel code tried a side effect, refused by the sandbox: {what}. No file, process or network access.")


def _classify(e: BaseException, default_stage: str, during: str) -> CandidateFailure:
    name = type(e).__name__
    text = f"{name} in {during}: {e}"
    trace = _candidate_frames(e)
    if trace:
        text += "\n" + trace
    message = str(e)
    if isinstance(e, (MemoryError, torch.OutOfMemoryError)) or "can't allocate memory" in message or "out of memory" in message:
        _release_memory()
        return memory_failure(e, f"{name} in {during}", trace)
    if name == "AcceleratorError" or "CUDA error" in message or "illegal memory access" in message:
        return CandidateFailure("crash", "CUDA error (the context is lost; worker replaced): " + text, healthy=False)
    if "CompilationError" in name or isinstance(e, (SyntaxError, ImportError, NameError)):
        return CandidateFailure("build", text)
    return CandidateFailure(default_stage, text)


def _release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def _candidate_frames(e: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.basename(f.filename).startswith("llmk_")]
    return "\n".join(f"  line {f.lineno} in {f.name}: {f.line}" for f in frames[-4:])


def _time_candidate(state, problem, ref, target, instance) -> dict[str, Any]:
    device = timing.device_name(state.device_type)
    dtype = timing.problem_dtype(problem)
    inputs = state.inputs(problem, ref, TIMING_TRIAL)
    try:
        t = _measure(state, target, instance, inputs, problem)
    except BaseException as e:
        failure = _classify(e, "timing", "the timing runs")
        failure.healthy = False
        raise failure from None
    return {"candidate": timing.timing_json(t, device, dtype), "device": device, "torch": torch.__version__, "dtype": dtype}


def _measure(state: WorkerState, target, instance, inputs: list, problem: Problem) -> Timing:
    """The target's own figure where it has one (Gemmini: simulated cycles, checked against the
    work the problem needs), else wall clock."""
    custom = target.measure(instance, inputs, problem) if hasattr(target, "measure") else None
    return custom if custom is not None else timing.measure(lambda: instance(*inputs), state.device_type)


def set_tf32(allowed: bool) -> None:
    """TF32 as the user's model has it (off unless the model enabled it), for the reference,
    the candidate and the baselines alike."""
    torch.backends.cuda.matmul.allow_tf32 = allowed
    torch.backends.cudnn.allow_tf32 = allowed


def time_baselines(state: WorkerState, problem: Problem, names: list[str]) -> dict[str, Any]:
    """Eager and Inductor on the same inputs the candidate is timed on, and "library" where the
    target writes its own baseline module (Gemmini's tiled library), measured like a candidate."""
    set_tf32(problem.allow_tf32)
    ref = state.reference(problem)
    target = get_target(problem.target)
    device = timing.device_name(state.device_type)
    dtype = timing.problem_dtype(problem)
    inputs = functools.cache(lambda: state.inputs(problem, ref, TIMING_TRIAL))  # not made for a scaled library alone
    library = target.baseline_source(problem) if hasattr(target, "baseline_source") else None
    out: dict[str, Any] = {}
    for name in [*names, *(["library"] if library else [])]:
        try:
            if name == "library" and (reduced := _reduced_checks(target, problem, library)) is not None:
                from .scaled import library_timing

                out[name] = library_timing(state, problem, library, reduced)  # verified, and one run
                continue
            if name == "library":
                module = target.load_unchecked(library, os.path.join(state.workdir, "reference"))
                t = _measure(state, target, module.ModelNew(), inputs(), problem)
            else:
                fn, with_host_time = _baseline_callable(name, ref, inputs())
                t = timing.measure(fn, state.device_type, steady=with_host_time)
            out[name] = timing.timing_json(t, device, dtype)
        except Exception as e:  # a baseline that cannot run is reported, not fatal
            log.warning("baseline %s failed: %s", name, e)
            out[name] = {"error": _trim(f"{type(e).__name__}: {e}", 500), "device": device, "torch": torch.__version__, "dtype": dtype}
    return out


def _baseline_callable(name: str, ref: Reference, inputs: list) -> tuple[Callable[[], Any], bool]:
    """(the baseline's call, whether its host time of a call counts like a kernel's)."""
    model = ref.new_model()
    if name == "eager":
        return (lambda: model(*inputs)), True
    if name == "inductor":
        try:
            return lean_inductor(model, inputs), True
        except Exception as e:  # a graph the lean path cannot take: torch.compile, kernels' time only
            log.info("lean Inductor baseline unavailable (%s: %s); timing torch.compile's kernels", type(e).__name__, e)
        compiled = torch.compile(model, backend="inductor")
        compiled(*inputs)  # compile outside the measurement
        # timed back to back, this callable would pay torch.compile's per-call guards and
        # wrappers, which in the model are paid once per graph by every backend (ours too)
        return (lambda: compiled(*inputs)), False
    raise ValueError(f"unknown baseline {name!r}")


def lean_inductor(model: torch.nn.Module, inputs: list) -> Callable[[], Any]:
    """Inductor's code for `model`, called the way the backend calls it for a graph's rest: on
    a functional ATen graph, without Dynamo's guards or AOTAutograd's runtime wrapper (paid once
    per graph in the model, by every backend). Its figure then includes the host time of a call,
    as a kernel's and eager's do: Inductor's launcher is not free either."""
    from torch._inductor.decomposition import select_decomp_table
    from torch.fx.experimental.proxy_tensor import make_fx
    from torch.utils._pytree import tree_leaves

    from .inductor import compile_with_inductor

    # weights are graph inputs, as in the backend's graphs (and a fake trace needs them as inputs)
    state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    names = list(state)

    def flat_forward(*args):  # Inductor compiles graphs that return a tuple of tensors
        weights = dict(zip(names, args[:len(names)]))
        return tuple(tree_leaves(torch.func.functional_call(model, weights, tuple(args[len(names):]))))

    args = [*(t.detach() for t in state.values()), *inputs]  # Inductor's graph runs without autograd
    with torch.no_grad():
        # traced on fake tensors: Inductor's passes need one fake mode across the graph's values
        graph = make_fx(torch.func.functionalize(flat_forward, remove="mutations_and_views"),
                        decomposition_table=select_decomp_table(), tracing_mode="fake")(*args)
        compiled = compile_with_inductor(graph, list(args), inference=True)
        compiled(list(args))  # the first call loads the generated code: outside the measurement
    return lambda: compiled(list(args))


def _passed(problem: Problem, stats: TrialStats, timings: dict[str, Any]) -> Evaluation:
    cand = timings["candidate"]
    flags = []
    cand_t = Timing(cand["median"], cand["p20"], cand["p80"], cand["runs"], cand.get("unit", "us"))
    if timing.beyond_roofline(cand_t, problem, timings["device"], timings["dtype"]):
        bound = timing.roofline_us(problem, timings["device"], timings["dtype"])
        flags.append("beyond-roofline")
        log.warning("candidate for %s claims %.2f us, below the roofline %.2f us", problem.key, cand_t.median, bound)
    if timings["device"] == "cpu":
        flags.append("cpu-timing")
    parts = [f"correct on {len(stats.trials)} trials ({', '.join(sorted({t.split(',')[0] for t in stats.trials}))}), "
             f"max abs error {stats.max_abs_err:.2g}, max rel error {stats.max_rel_err:.2g}"]
    speed = [f"candidate {cand_t.median:.1f} {cand_t.unit} (p20 {cand_t.p20:.1f}, p80 {cand_t.p80:.1f})"]
    for name in ("eager", "inductor", "library"):
        base = timings.get(name)
        ratio = speedup(base.get("median"), cand_t.median) if base else None
        if ratio is not None and base.get("unit", "us") == cand_t.unit:
            speed.append(f"{name} {base['median']:.1f} {base.get('unit', 'us')} ({ratio:.2f}x)")
        elif base and base.get("error"):
            speed.append(f"{name} unavailable ({base['error'][:120]})")
    parts.append(", ".join(speed) + f" on {timings['device']}, {timings['dtype']}")
    if flags and "beyond-roofline" in flags:
        parts.append("FLAGGED: faster than the roofline allows, the measurement or the kernel is suspect")
    return Evaluation(True, "ok", "; ".join(parts), verification=stats.to_json(), timings=timings, flags=flags)


def _trim(text: str, limit: int = MAX_REASON) -> str:
    return text if len(text) <= limit else text[: limit // 2] + "\n...\n" + text[-limit // 2 :]
