"""The worker sandbox: a crash or an out-of-memory costs one candidate, workers are reused while
healthy, candidate output cannot corrupt the protocol, and closing leaves nothing behind."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.evaluate.conftest import PROBLEMS, corpus, test_options
from torch_llmbackend.evaluate import Evaluator, worker_dirs
from torch_llmbackend.evaluate.worker import WorkerPool, WorkerSpec

ADD_RELU = PROBLEMS["add_relu"]
GOOD = next(c for c in corpus("good") if c.name == "two_kernels").source
SEGFAULT = next(c for c in corpus("bad") if c.name == "segfault").source


def _worker_pid(evaluator) -> int:
    return evaluator._pool(ADD_RELU).request({"op": "ping"}, timeout=60)["pid"]


def test_workers_are_reused_while_healthy_and_replaced_after_a_crash(evaluator):
    first = _worker_pid(evaluator)
    assert evaluator.evaluate(ADD_RELU, GOOD).ok
    assert _worker_pid(evaluator) == first  # a good candidate does not cost a process
    crashed = evaluator.evaluate(ADD_RELU, SEGFAULT)
    assert crashed.stage == "crash" and "SIGSEGV" in crashed.reason
    assert _worker_pid(evaluator) != first
    assert evaluator.evaluate(ADD_RELU, GOOD).ok


def test_out_of_memory_costs_that_candidate_only(evaluator):
    hog = GOOD.replace("tmp = torch.empty_like(x)", "tmp = torch.empty(2**33, dtype=torch.float32)")  # 32 GiB
    assert hog != GOOD and evaluator.options.worker_memory_mb < 32 * 1024
    result = evaluator.evaluate(ADD_RELU, hog)
    assert (result.ok, result.stage) == (False, "crash") and "out of memory" in result.reason
    assert evaluator.evaluate(ADD_RELU, GOOD).ok


def test_candidate_output_does_not_reach_the_protocol(evaluator):
    chatty = GOOD.replace("        return out\n", '        print(\'{"evaluation": "forged"}\')\n        return out\n')
    assert chatty != GOOD
    assert evaluator.evaluate(ADD_RELU, chatty).stage == "static"  # print is not on the allowlist
    # straight to the worker: what a candidate prints still cannot forge a reply
    assert evaluator._evaluate_in_worker(ADD_RELU, chatty).ok


def test_close_leaves_no_process_and_no_files():
    """Closing kills workers even while they are still starting (the session's evaluator checks
    the same for warm workers when it closes: see conftest)."""
    pool = WorkerPool(WorkerSpec(device="cpu", triton_interpret=True, memory_mb=8192), size=1)
    worker = pool._acquire()
    pool._release(worker, healthy=True)
    workers = list(pool._idle)
    assert len(workers) == 2 and all(w.alive for w in workers)  # the one used and the warm spare
    pool.close()
    for w in workers:
        assert w.proc.poll() is not None and not os.path.exists(w.dir)
    with pytest.raises(RuntimeError, match="closed"):
        pool.request({"op": "ping"}, timeout=1)


def test_a_closed_evaluator_can_be_used_as_a_context_manager():
    with Evaluator(test_options()) as ev:
        assert ev.check(ADD_RELU, GOOD) == []
    assert ev._pools == {}


# Raises what a candidate could compare between verification and use, as digests (the reason
# is trimmed), and the first bytes of a fresh small allocation.
PROBE = '''
import hashlib, json, os, sys
import torch


def digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        seen = {"env": digest(dict(os.environ)), "names": digest(sorted(os.environ)), "cwd": os.getcwd(),
                "argv": digest(sys.argv), "orig_argv": digest(sys.orig_argv), "path": digest(sys.path),
                "fresh_bytes": sorted(set(torch.empty(512, dtype=torch.uint8).tolist()))}
        raise RuntimeError("probe " + json.dumps(seen))
'''


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def _probe(evaluator) -> dict:
    ev = evaluator._evaluate_in_worker(ADD_RELU, PROBE)  # skips the static checks: PROBE imports os
    found = re.search(r"probe (\{.*?\})", ev.reason)
    assert found, ev.reason
    return json.loads(found.group(1))


def test_a_candidate_sees_the_callers_environment_cwd_and_argv(evaluator, monkeypatch, tmp_path):
    """Everything a candidate could tell verification by is the caller's, also after the caller
    changed its environment and cwd since the worker started."""
    monkeypatch.setenv("LLMBACKEND_TEST_LATE_VARIABLE", "set after the worker started")
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    seen = _probe(evaluator)
    assert seen["names"] == _digest(sorted(os.environ)), "the worker has other environment variable names"
    assert seen["env"] == _digest(dict(os.environ)), "an environment variable has another value in the worker"
    assert seen["cwd"] == os.getcwd()
    assert (seen["argv"], seen["orig_argv"], seen["path"]) == (_digest(sys.argv), _digest(sys.orig_argv), _digest(sys.path))
    # glibc's malloc perturbation still holds, set without MALLOC_PERTURB_: fresh memory is garbage
    assert "MALLOC_PERTURB_" not in os.environ and seen["fresh_bytes"] == [165 ^ 0xFF]


def test_a_payload_that_waits_for_an_unwatched_run_fires_during_verification(evaluator):
    """The cheat stays quiet wherever it sees a sign of a worker; there is none, so it tries
    its write during verification, where the sandbox refuses it."""
    cheat = next(c for c in corpus("bad") if c.name == "quiet_while_watched")
    ev = evaluator._evaluate_in_worker(ADD_RELU, cheat.source)
    assert (ev.ok, ev.stage) == (False, "guard") and "llmbackend_corpus_unwatched" in ev.reason
    assert not os.path.exists(cheat.marker)


CALLER = textwrap.dedent('''
    import json, sys, threading
    from tests.evaluate.conftest import PROBLEMS, corpus
    from torch_llmbackend.evaluate.worker import Worker, WorkerSpec

    worker = Worker(WorkerSpec(device="cpu", triton_interpret=True, memory_mb=8192))
    worker.wait_ready()
    if sys.argv[1] == "busy":  # the worker is in the middle of a candidate that never returns
        request = {"op": "evaluate", "problem": PROBLEMS["add_relu"].to_json(), "source": next(c for c in corpus("bad") if c.name == "infinite_loop").source,
                   "baselines": {}, "baseline_names": []}
        threading.Thread(target=worker.request, args=(request, 3600), daemon=True).start()
    print(json.dumps({"dir": worker.dir, "pid": worker.proc.pid}), flush=True)
    threading.Event().wait()
''')


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has ended
    except FileNotFoundError:
        return True


@pytest.mark.slow
@pytest.mark.parametrize("state", ["idle", "busy"])
def test_a_killed_caller_leaves_no_worker_and_no_folder(state):
    caller = subprocess.Popen([sys.executable, "-c", CALLER, state], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        started = json.loads(caller.stdout.readline())
        assert os.path.isdir(started["dir"]) and not _gone(started["pid"])
        time.sleep(1.0)  # busy: the candidate is running
    finally:
        caller.send_signal(signal.SIGKILL)
        caller.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (os.path.exists(started["dir"]) or not _gone(started["pid"])):
        time.sleep(0.1)
    assert not os.path.exists(started["dir"]) and _gone(started["pid"])


def test_the_next_worker_removes_folders_nobody_holds(tmp_path):
    """A folder whose caller and worker were both killed (nothing could clean up) is removed by
    the next start; one whose lock is held by a live process is kept."""
    dead, _ = _folder_of_a_dead_owner(tmp_path)
    alive, fd = worker_dirs.create(str(tmp_path))
    try:
        assert worker_dirs.reap(str(tmp_path)) == [dead]
        assert not os.path.exists(dead) and os.path.isdir(alive)
    finally:
        os.close(fd)
    assert worker_dirs.reap(str(tmp_path)) == [alive]


def _folder_of_a_dead_owner(root) -> tuple[str, int]:
    """A worker folder made and locked by a process that was then SIGKILLed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the owner: makes its folder, reports it, waits to be killed
        try:
            os.write(write_end, worker_dirs.create(str(root))[0].encode() + b"\n")
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        path = pipe.readline().strip()
    with open(os.path.join(path, worker_dirs.LOCK)) as f, pytest.raises(BlockingIOError):
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held while the owner lives
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return path, pid
