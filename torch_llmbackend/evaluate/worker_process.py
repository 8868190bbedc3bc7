"""The worker process, started by worker.py with `python -c <bootstrap>`.

Protocol: one JSON object per line. The first line on stdin is the spec (device, limits, its
folder, the caller's pid and context); requests follow. Replies go to the original stdout,
which is kept on a private descriptor. File descriptor 1 is pointed at stderr (a log file the
parent reads after a crash), so whatever a candidate prints cannot corrupt the protocol. Only
JSON crosses the pipe: sources, problems and results, never pickled objects. Each request
carries the caller's context (environment, cwd, argv, sys.path), which the worker takes on
before it runs anything, so that a candidate sees what it would see in the caller.

The worker removes its folder and ends its process group when its caller is gone (stdin at
EOF, or, while busy with a candidate, a thread that sees the parent pid change).

Requests: {"op": "evaluate", "problem": ..., "source": ..., "baselines": {...}|null,
"baseline_names": [...]}, {"op": "baselines", "problem": ..., "names": [...]}, {"op": "ping"},
{"op": "exit"}. The first line written is {"ready": true, ...} once imports are done. The
process exits on "exit", on stdin EOF (the parent is gone), and after a reply that says
"healthy": false.
"""
from __future__ import annotations

import ctypes
import faulthandler
import json
import os
import resource
import shutil
import signal
import sys
import threading
import time
import traceback

M_PERTURB = -6  # glibc's mallopt parameter; the same setting as MALLOC_PERTURB_
PERTURB_BYTE = 165
PARENT_POLL_S = 0.2


def _apply_limits(device_type: str, memory_mb: int) -> None:
    if device_type == "cpu" and memory_mb > 0:
        # Address-space limit: a CUDA context needs terabytes of virtual space, so only on CPU.
        limit = memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit if hard == resource.RLIM_INFINITY or hard > limit else hard))


def _setup_torch(device_type: str, memory_mb: int):
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False  # verification and timing in full fp32
    torch.backends.cudnn.allow_tf32 = False
    if device_type == "cuda":
        torch.cuda.init()
        total = torch.cuda.get_device_properties(0).total_memory
        if memory_mb > 0:
            torch.cuda.set_per_process_memory_fraction(min(1.0, memory_mb * 1024 * 1024 / total))
    return torch


def _perturb_malloc() -> None:
    """glibc fills new and freed heap memory with this byte: an output a kernel forgot to write
    holds garbage, never the zeros or stale correct values a fresh page might. Set through
    mallopt, not MALLOC_PERTURB_, so that the environment stays the caller's."""
    try:
        ctypes.CDLL(None).mallopt(M_PERTURB, PERTURB_BYTE)
    except (OSError, AttributeError):  # not glibc: no perturbation
        pass


def adopt_caller(context: dict | None, forced_env: dict[str, str] | None = None) -> None:
    """Take on the caller's environment, cwd, argv and sys.path as they are now. `forced_env`:
    what the worker needs and the caller lacks (see WorkerSpec.environment)."""
    if not context:
        return
    env = context.get("env")
    if isinstance(env, dict):
        env = {**env, **(forced_env or {})}
        for name in [n for n in os.environ if n not in env]:
            del os.environ[name]
        for name, value in env.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
    if context.get("cwd"):
        try:
            os.chdir(context["cwd"])
        except OSError:  # gone or unreadable since: stay where we are
            pass
    if "argv" in context:
        sys.argv = list(context["argv"])
        sys.orig_argv = list(context.get("orig_argv", context["argv"]))
    if context.get("path"):
        from .worker import PACKAGE_ROOT

        path = list(context["path"])
        sys.path[:] = path if PACKAGE_ROOT in path else [*path, PACKAGE_ROOT]


def _end_with_parent(parent: int, workdir: str) -> None:
    """Runs in a daemon thread: once the caller is gone, remove the folder and end this
    process group (compilers it started included), even in the middle of a candidate."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    _remove_and_exit(workdir)


def _remove_and_exit(workdir: str) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
    os.killpg(os.getpgrp(), signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    spec = json.loads(sys.stdin.readline())
    if spec.get("parent"):
        threading.Thread(target=_end_with_parent, args=(spec["parent"], spec["workdir"]), name="parent-watch", daemon=True).start()
    forced_env = spec.get("forced_env") or {}
    adopt_caller(spec.get("caller"), forced_env)
    _perturb_malloc()
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    faulthandler.enable()  # a segfault leaves the Python stack in the log for the crash report
    device_type, memory_mb = spec["device"], int(spec.get("memory_mb", 0))
    _apply_limits(device_type, memory_mb)
    torch = _setup_torch(device_type, memory_mb)
    if spec.get("preload_triton"):
        import triton  # noqa: F401  (TRITON_INTERPRET is read at import; the env set it)

    from ..records import Problem
    from . import pipeline, timing
    from .guard import ComputeGuard

    # Entering a dispatch mode imports parts of torch lazily (and they touch temp files); do it
    # now, before the sandbox would attribute that to the first candidate.
    with ComputeGuard():
        torch.empty(2).add_(1)

    state = pipeline.WorkerState(spec["workdir"], device_type)
    state.sandbox.install()
    _send(proto, {"ready": True, "pid": os.getpid(), "device": timing.device_name(device_type), "torch": torch.__version__})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        op = request.get("op")
        if op == "exit":
            return 0  # the caller removes the folder
        adopt_caller(request.get("caller"), forced_env)
        try:
            if op == "evaluate":
                reply = pipeline.evaluate_candidate(
                    state, Problem.from_json(request["problem"]), request["source"], request.get("baselines"), request.get("baseline_names", [])
                )
            elif op == "baselines":
                reply = {"baselines": pipeline.time_baselines(state, Problem.from_json(request["problem"]), request["names"]), "healthy": True}
            elif op == "ping":
                reply = {"pong": True, "pid": os.getpid(), "healthy": True}
            else:
                reply = {"error": f"unknown op {op!r}", "healthy": True}
        except Exception:
            reply = {"error": traceback.format_exc()[-3000:], "healthy": False}
        _send(proto, reply)
        if reply.get("healthy") is False:
            return 0
    _remove_and_exit(spec["workdir"])  # stdin at EOF: the caller is gone
    return 0


def _send(proto, obj: dict) -> None:
    proto.write(json.dumps(obj) + "\n")
    proto.flush()


if __name__ == "__main__":
    sys.exit(main())
