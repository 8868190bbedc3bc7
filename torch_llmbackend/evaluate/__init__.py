"""The trust boundary: everything an LLM wrote, or a bundle brought, passes here before use.

    evaluator = Evaluator(options)
    evaluation = evaluator.evaluate(problem, source)   # -> records.Evaluation
    evaluator.baselines(problem)                       # -> {"eager": timing json, "inductor": ...}
    evaluator.close()

Static checks run here, in the caller (cheap, nothing of the candidate runs). Building, the
run-time guard, verification against eager and timing run in a worker process (worker.py,
pipeline.py) with a time and memory limit; a crash or hang there costs that candidate only.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading

import torch

from ..hashing import content_hash, hash_matches
from ..options import Options
from ..records import Evaluation, Problem
from ..targets import get_target
from .pipeline import WorkerState, evaluate_candidate, problem_device
from .static_checks import Violation, check_candidate, format_violations
from .worker import WorkerCrash, WorkerPool, WorkerSpec

log = logging.getLogger(__name__)

IN_PROCESS_BYTES = 512 << 20  # evaluate_here: larger problems are evaluated in a worker
BASELINE_TIMEOUT_S = 600.0  # Inductor compiles the reference (trusted code) on first use


class Evaluator:
    """Evaluates candidates for problems. Thread-safe; one worker pool per kind of worker.

    `workers`: candidates evaluated at once per device kind (plus one warm spare process).
    `baseline_names`: which baselines to time ("eager", "inductor"); tests on the CPU leave
    Inductor out because compiling it costs seconds.
    """

    def __init__(self, options: Options | None = None, *, workers: int = 1, baseline_names: tuple[str, ...] | None = None):
        self.options = options or Options()
        self.workers = workers
        # default: what Options.baselines says ("eager,inductor" unless the user narrowed it)
        self.baseline_names = tuple(baseline_names if baseline_names is not None else self.options.baseline_names)
        self._pools: dict[WorkerSpec, WorkerPool] = {}
        self._baselines: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._here: WorkerState | None = None  # evaluate_here's state (references, memo), this process

    # --- public API -------------------------------------------------------------------------
    def check(self, problem: Problem, source: str) -> list[Violation]:
        """Static checks only (no code runs)."""
        target = get_target(problem.target)
        return check_candidate(source, target.allowed_imports, allow_libraries=self.options.allow_libraries)

    def evaluate(self, problem: Problem, source: str) -> Evaluation:
        if not source or not source.strip():
            return Evaluation(False, "extract", "the reply held no code: answer with one complete Python module defining ModelNew")
        violations = self.check(problem, source)
        if violations:
            return Evaluation(False, "static", "rejected before running:\n" + format_violations(violations), verification={"violations": [v.__dict__ for v in violations]})
        return self._evaluate_in_worker(problem, source)

    def evaluate_here(self, problem: Problem, source: str) -> Evaluation:
        """Evaluate a candidate the package wrote itself (a target's library lowering, no LLM)
        the same way, but in this process: it is not untrusted code, and the caller runs it in
        this process right after anyway, so a worker (a second torch import, seconds on a CPU)
        buys nothing. The caller's RNG, TF32 flags and fake mode are left as they were. A problem
        whose tensors exceed IN_PROCESS_BYTES goes to a worker all the same: verification holds
        several copies of them (and float64 ones), and the worker's memory limit keeps the
        system's OOM killer away from the caller."""
        from torch._subclasses.fake_tensor import unset_fake_temporarily

        if problem.bytes_moved > IN_PROCESS_BYTES:
            return self.evaluate(problem, source)

        violations = self.check(problem, source)
        if violations:
            return Evaluation(False, "static", "rejected before running:\n" + format_violations(violations))
        with self._lock:
            if self._here is None:
                self._here = WorkerState(tempfile.mkdtemp(prefix="llmbackend-here-"), problem_device(problem))
            state = self._here
        tf32 = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        try:
            with unset_fake_temporarily(), torch.random.fork_rng(devices=[]):
                reply = evaluate_candidate(state, problem, source, None, self.names_for(problem))
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
        return Evaluation.from_json(reply["evaluation"])

    def baselines(self, problem: Problem) -> dict[str, dict]:
        """Timing json per baseline name (an entry with "error" where one could not run)."""
        with self._lock:
            cached = self._baselines.get(problem.key)
        if cached is not None:
            return cached
        try:
            reply = self._pool(problem).request({"op": "baselines", "problem": problem.to_json(), "names": self.names_for(problem)}, timeout=max(self.options.worker_timeout_s, BASELINE_TIMEOUT_S))
        except WorkerCrash as e:
            log.warning("timing the baselines of %s failed: %s", problem.key, e.reason)
            return {name: {"error": e.reason} for name in self.names_for(problem)}
        if "error" in reply:
            return {name: {"error": reply["error"][-500:]} for name in self.names_for(problem)}
        with self._lock:
            self._baselines[problem.key] = reply["baselines"]
        return reply["baselines"]

    def names_for(self, problem: Problem) -> list[str]:
        """The wall-clock baselines for this problem: none for a target timed in its own unit
        (Gemmini's cycles), whose yardstick is its library kernel (timed as "library")."""
        return list(self.baseline_names) if get_target(problem.target).wall_clock_baselines else []

    def warm_up(self, problem: Problem) -> None:
        """Start the worker for this kind of problem now, so the first candidate does not wait."""
        self._pool(problem).warm_up()

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            here, self._here = self._here, None
        if here is not None:
            shutil.rmtree(here.workdir, ignore_errors=True)
        for pool in pools:
            pool.close()

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------------
    def _evaluate_in_worker(self, problem: Problem, source: str) -> Evaluation:
        """Everything after the static checks. The worker does not repeat them: tests call this
        directly to show that the run-time defences (sandbox, guard, limits) hold on their own."""
        baselines = self.baselines(problem)
        request = {"op": "evaluate", "problem": problem.to_json(), "source": source, "baselines": baselines, "baseline_names": self.names_for(problem)}
        try:
            reply = self._pool(problem).request(request, timeout=self.options.worker_timeout_s)
        except WorkerCrash as e:
            return Evaluation(False, "crash", e.reason)
        if "error" in reply:
            return Evaluation(False, "crash", "the worker failed internally: " + reply["error"][-1500:])
        return Evaluation.from_json(reply["evaluation"])

    def _pool(self, problem: Problem) -> WorkerPool:
        device = problem_device(problem)
        spec = WorkerSpec(device=device, triton_interpret=problem.target == "triton" and device == "cpu", memory_mb=self.options.worker_memory_mb)
        with self._lock:
            if spec not in self._pools:
                self._pools[spec] = WorkerPool(spec, size=self.workers)
            return self._pools[spec]


__all__ = ["Evaluator", "Violation", "check_candidate", "content_hash", "hash_matches"]
