"""Second line of defence in the worker: an audit hook that refuses side effects from kernel code.

The static checks should already have rejected any candidate that writes files, spawns processes
or opens sockets. This hook (PEP 578; once installed it cannot be removed) holds even if they
missed something: when such an event is raised and the innermost frame outside the stdlib and
torch belongs to a candidate file, the event is refused with PermissionError and recorded, so the
evaluation reports it even if the candidate swallowed the exception.

Triton and the target loaders legitimately write caches and run compilers (ptxas) while a
candidate launches a kernel; those events originate in their frames and pass.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from .guard import origin_frame

# Events refused when kernel code is their origin.
DENIED_EVENTS = frozenset(
    {
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
        "subprocess.Popen", "pty.spawn", "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod",
        "os.chown", "os.truncate", "os.symlink", "os.link", "os.putenv", "os.unsetenv", "os.chdir",
        "os.startfile", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile", "shutil.make_archive",
        "ctypes.dlopen", "ctypes.dlsym", "webbrowser.open", "sys.addaudithook", "sys.settrace",
        "sys.setprofile", "builtins.input",
    }
)
DENIED_PREFIXES = ("socket.",)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


@dataclass(frozen=True)
class Refusal:
    event: str
    file: str
    line: int
    detail: str

    def describe(self) -> str:
        return f"{self.event}{'(' + self.detail + ')' if self.detail else ''} at {os.path.basename(self.file)} line {self.line}"


class Sandbox:
    """Holds the refusals of the current candidate; one per worker process."""

    def __init__(self, candidate_dir: str):
        self.candidate_dir = os.path.abspath(candidate_dir) + os.sep
        self.refusals: list[Refusal] = []

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def take(self) -> list[Refusal]:
        out, self.refusals = self.refusals, []
        return out

    def _hook(self, event: str, args: tuple) -> None:
        if not (event in DENIED_EVENTS or event.startswith(DENIED_PREFIXES) or event == "open"):
            return
        if event == "open" and not _opens_for_write(args):
            return  # reading is no side effect (and imports read files all the time)
        frame = origin_frame(sys._getframe(1))
        if frame is None or not frame.f_code.co_filename.startswith(self.candidate_dir):
            return
        detail = str(args[0])[:120] if args else ""
        self.refusals.append(Refusal(event, frame.f_code.co_filename, frame.f_lineno, detail))
        raise PermissionError(f"sandbox: {event} is not allowed in kernel code")


def _opens_for_write(args: tuple) -> bool:
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return bool(isinstance(flags, int) and flags & _WRITE_FLAGS)
