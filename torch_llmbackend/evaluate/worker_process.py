"""The worker process: `python -m torch_llmbackend.evaluate.worker_process '<spec json>'`.

Protocol: one JSON object per line. Requests arrive on stdin; replies go to the original stdout,
which is kept on a private descriptor. File descriptor 1 is pointed at stderr (a log file the
parent reads after a crash), so whatever a candidate prints cannot corrupt the protocol. Only
JSON crosses the pipe: sources, problems and results, never pickled objects.

Requests: {"op": "evaluate", "problem": ..., "source": ..., "baselines": {...}|null,
"baseline_names": [...]}, {"op": "baselines", "problem": ..., "names": [...]}, {"op": "ping"},
{"op": "exit"}. The first line written is {"ready": true, ...} once imports are done. The
process exits on "exit", on stdin EOF (the parent is gone), and after a reply that says
"healthy": false.
"""
from __future__ import annotations

import faulthandler
import json
import os
import resource
import sys
import traceback


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


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
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
            break
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
            break
    return 0


def _send(proto, obj: dict) -> None:
    proto.write(json.dumps(obj) + "\n")
    proto.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
