"""Worker processes, seen from the caller: spawn, talk JSON lines, time out, replace.

Each worker is a fresh Python interpreter (`subprocess`, not fork: no state from the caller, no
CUDA context inherited) in its own session, with a private folder for the candidate files and
its log. A request that does not answer within its time limit, or a worker that dies (segfault,
abort, OOM kill), costs that request only: the process group is killed, the folder removed, and
the next request gets another worker. One spare is started ahead so a replacement is usually
already warm. A folder left behind by a caller and worker that were both killed is removed by
the next worker started (worker_dirs.py).

A candidate must not be able to tell verification from use, or it could behave only while
watched: the worker runs with the caller's environment variables exactly (nothing added or
removed), the caller's cwd, sys.argv, sys.orig_argv and sys.path, all refreshed with every
request. What the worker needs beyond that it sets up without the environment (glibc's malloc
perturbation through mallopt, see worker_process.py).
"""
from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

from . import worker_dirs

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 300.0  # importing torch (and initialising CUDA) on a busy machine


class WorkerCrash(Exception):
    """The worker died or hung; `reason` is text for the user and the LLM."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WorkerSpec:
    """What kind of process a problem needs: device, Triton interpreter, memory limit."""

    device: str  # "cpu" | "cuda"
    triton_interpret: bool = False
    memory_mb: int = 0

    def environment(self) -> dict[str, str]:
        """The caller's environment, as it is. The one exception: a Triton interpreter worker
        for a caller without TRITON_INTERPRET=1 (which could not run such a kernel itself; the
        backend never asks for one, since its own availability check needs the variable)."""
        env = dict(os.environ)
        if self.triton_interpret and env.get("TRITON_INTERPRET") != "1":
            env["TRITON_INTERPRET"] = "1"
        return env


PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# No `-m`: that would need the package on PYTHONPATH, an environment variable the caller may
# not have. The worker then takes the caller's sys.path from its first line of input.
BOOTSTRAP = (f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); "
             "from torch_llmbackend.evaluate.worker_process import main; sys.exit(main())")


def caller_context() -> dict[str, Any]:
    """What a candidate could compare between the worker and the caller, taken now."""
    try:
        cwd = os.getcwd()
    except OSError:  # the caller's cwd was removed
        cwd = None
    return {"env": dict(os.environ), "cwd": cwd, "argv": list(sys.argv),
            "orig_argv": list(getattr(sys, "orig_argv", sys.argv)), "path": list(sys.path)}


SIGNAL_HINTS = {
    signal.SIGSEGV: ": a memory access outside any allocation, e.g. an out-of-bounds pointer in a kernel",
    signal.SIGBUS: ": a misaligned or invalid memory access",
    signal.SIGABRT: ": an abort, often heap corruption from a write past the end of a tensor",
    signal.SIGKILL: ": killed, most likely for using too much memory",
}


def crash_excerpt(log_text: str, limit: int = 1500) -> str:
    """What the LLM can act on from a dead worker's log: the fatal error line and the frames in
    the candidate's file (faulthandler prints them), else the log's last lines."""
    lines = log_text.splitlines()
    keep = [ln.strip() for ln in lines if ln.startswith("Fatal Python error") or "llmk_" in ln]
    text = "\n".join(keep) if keep else "\n".join(lines[-12:])
    text = text[-limit:].strip()
    return f" Last output:\n{text}" if text else ""


class Worker:
    """One worker process and its private directory."""

    def __init__(self, spec: WorkerSpec):
        self.spec = spec
        worker_dirs.reap()
        self.dir, lock_fd = worker_dirs.create()
        self.log_path = os.path.join(self.dir, "worker.log")
        context, env = caller_context(), spec.environment()
        args = {"device": spec.device, "memory_mb": spec.memory_mb, "workdir": self.dir, "preload_triton": spec.triton_interpret,
                "parent": os.getpid(), "caller": context,
                "forced_env": {k: v for k, v in env.items() if context["env"].get(k) != v}}
        cwd = context["cwd"] if context["cwd"] and os.access(context["cwd"], os.R_OK | os.X_OK) else self.dir
        try:
            with open(self.log_path, "wb") as log_file:
                self.proc = subprocess.Popen(
                    [sys.executable, "-c", BOOTSTRAP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
                    cwd=cwd, env=env, start_new_session=True, pass_fds=(lock_fd,),
                )
        except BaseException:
            os.close(lock_fd)
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self._buffer = b""
        self.ready = False
        self.info: dict = {}
        self._finalizer = weakref.finalize(self, _destroy, self.proc, self.dir, lock_fd)
        try:
            self._send(args)  # the spec: the first line the worker reads (argv would show it)
        except OSError:
            pass  # it died at once: wait_ready reports how

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        if not self.ready:
            self.info = self._read(timeout, "starting up")
            self.ready = True

    def request(self, message: dict, timeout: float) -> dict:
        self.wait_ready()
        try:
            # the caller as it is now: its environment or cwd may have changed since the spawn
            self._send({**message, "caller": caller_context()})
        except (BrokenPipeError, OSError):
            raise WorkerCrash(self._death_reason("before the request")) from None
        return self._read(timeout, "running the candidate")

    def _send(self, message: dict) -> None:
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def _read(self, timeout: float, doing: str) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.destroy()
                raise WorkerCrash(f"timed out after {timeout:.0f} s while {doing} (an infinite loop, a deadlock or a very slow kernel); the worker was killed")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise WorkerCrash(self._death_reason(f"while {doing}"))
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _death_reason(self, when: str) -> str:
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.destroy()
            code = self.proc.returncode
        how = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exited with code {code}"
        hint = SIGNAL_HINTS.get(-code if code is not None and code < 0 else 0, "")
        log_text = self.log_tail(20000)
        self.destroy()
        return f"the worker process died {when} ({how}{hint}).{crash_excerpt(log_text)}"

    def log_tail(self, limit: int = 1500) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def close(self, grace_s: float = 0.3) -> None:
        if self.alive:
            try:
                self.proc.stdin.write(b'{"op": "exit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=grace_s)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.destroy()

    def destroy(self) -> None:
        self._finalizer()


def _destroy(proc: subprocess.Popen, directory: str, lock_fd: int) -> None:
    """Kill the worker's whole process group (it may have started compilers) and its files."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
    shutil.rmtree(directory, ignore_errors=True)
    os.close(lock_fd)


class WorkerPool:
    """Up to `size` busy workers plus one warm spare, for one WorkerSpec. Thread-safe."""

    def __init__(self, spec: WorkerSpec, size: int = 1, spare: bool = True):
        self.spec = spec
        self.size = size
        self.limit = size + (1 if spare else 0)
        self._idle: deque[Worker] = deque()
        self._live = 0
        self._cond = threading.Condition()
        self._closed = False

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request to a healthy worker. Raises WorkerCrash if it died or hung (the
        worker is then replaced). A reply with "healthy": false retires the worker."""
        worker = self._acquire()
        healthy = False
        try:
            reply = worker.request(message, timeout)
            healthy = reply.get("healthy", True) is not False
            return reply
        finally:
            self._release(worker, healthy)

    def warm_up(self) -> None:
        """Start the workers now (imports take seconds) and wait until one is ready."""
        worker = self._acquire()
        try:
            worker.wait_ready()
        finally:
            self._release(worker, True)

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                if self._idle:
                    worker = self._idle.pop()  # most recently used; the spare waits at the left
                    if not worker.alive:
                        self._retire_locked(worker)
                        continue
                    break
                if self._live < self.limit:
                    worker = self._spawn_locked()
                    break
                self._cond.wait()
            if self._live < self.limit:
                self._idle.appendleft(self._spawn_locked())  # warm spare for the next crash
            return worker

    def _release(self, worker: Worker, healthy: bool) -> None:
        with self._cond:
            if healthy and worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._retire_locked(worker)
                if not self._closed and self._live < self.limit and not self._idle:
                    self._idle.appendleft(self._spawn_locked())
            self._cond.notify()

    def _spawn_locked(self) -> Worker:
        self._live += 1
        log.debug("starting an evaluation worker (%s)", self.spec)
        return Worker(self.spec)

    def _retire_locked(self, worker: Worker) -> None:
        self._live -= 1
        worker.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._idle)
            self._idle.clear()
            self._cond.notify_all()
        for w in workers:
            w.close()
