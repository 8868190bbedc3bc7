"""Building against the runtime: the simulator library per config, programs and kernels.

Everything built is cached under one directory (env GEMMINI_RUNTIME_CACHE, default
~/.cache/gemmini_runtime), keyed by a hash of the sources, the config and the compiler,
and written atomically, so concurrent builds of the same thing are safe.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from .config import Config, get_config

PACKAGE_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = PACKAGE_DIR / "include"
CSRC_DIR = PACKAGE_DIR / "csrc"
SIM_SOURCES = ("sim_state.c", "sim_exec.c", "sim_loops.c", "sim_timing.c", "sim_memory.c",
               "sim_counters.c", "sim_rocc.c")
# -fwrapv: accumulators wrap at 32 bits like the hardware's adders.
SIM_CFLAGS = ("-O3", "-fwrapv", "-fPIC", "-fvisibility=hidden", "-std=gnu11")
CC = os.environ.get("GEMMINI_CC", "cc")


class BuildError(RuntimeError):
    """The C compiler rejected a program or kernel; the message holds its output."""


def cache_dir() -> Path:
    root = os.environ.get("GEMMINI_RUNTIME_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "gemmini_runtime")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=None)
def _compiler_id() -> str:
    try:
        out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise BuildError(f"no working C compiler {CC!r}: {e}") from None
    return out.splitlines()[0] if out else CC


def _runtime_sources_digest() -> str:
    h = hashlib.sha256()
    for d in (CSRC_DIR, INCLUDE_DIR):
        for f in sorted(d.glob("*.[ch]")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def _run_cc(args: list[str], what: str) -> None:
    proc = subprocess.run([CC, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"compiling {what} failed:\n{proc.stderr.strip()}")


def _atomic_dir(final: Path, fill) -> Path:
    """Create `final` by filling a temporary sibling and renaming it (first writer wins)."""
    if final.exists():
        return final
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=final.name + ".tmp"))
    try:
        fill(tmp)
        try:
            os.rename(tmp, final)
        except OSError:  # another process got there first
            if not final.exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def config_root(config: Config | str | None = None) -> Path:
    """Directory with include/gemmini_params.h and libgemmini_sim.a for a config."""
    cfg = get_config(config)
    key = _digest(cfg.key, cfg.params_header(), _runtime_sources_digest(), _compiler_id(),
                  " ".join(SIM_CFLAGS))
    final = cache_dir() / f"sim-{cfg.name}-{key}"

    def fill(tmp: Path) -> None:
        (tmp / "include").mkdir()
        (tmp / "include" / "gemmini_params.h").write_text(cfg.params_header())
        objs = []
        for src in SIM_SOURCES:
            obj = tmp / (src[:-2] + ".o")
            _run_cc([*SIM_CFLAGS, f"-I{tmp}", f"-I{CSRC_DIR}", "-c", str(CSRC_DIR / src),
                     "-o", str(obj)], f"the simulator ({src}) for config {cfg.name}")
            objs.append(str(obj))
        subprocess.run(["ar", "rcs", str(tmp / "libgemmini_sim.a"), *objs], check=True)

    return _atomic_dir(final, fill)


def include_flags(config: Config | str | None = None) -> list[str]:
    """-I flags for a program: the config's params first, then the runtime's include root
    (programs write #include "include/gemmini.h"), then include/ itself."""
    root = config_root(config)
    return [f"-I{root}", f"-I{PACKAGE_DIR}", f"-I{INCLUDE_DIR}"]


def link_flags(config: Config | str | None = None) -> list[str]:
    return [str(config_root(config) / "libgemmini_sim.a"), "-lm", "-lpthread", "-ldl"]


# gemmini-cc programs are "bare metal" Gemmini tests: BAREMETAL selects their host-friendly
# sizes and skips Linux-on-RISC-V specifics such as mlockall.
PROGRAM_DEFINES = ("-DBAREMETAL",)
PROGRAM_CFLAGS = ("-O2", "-std=gnu11", "-w")


def build_program(source: str | os.PathLike, config: Config | str | None = None,
                  cflags: tuple[str, ...] = ()) -> Path:
    """Compile a whole Gemmini C program (with main) into a cached host executable.

    `source` is a path to a .c file or the C text itself. Returns the executable's path."""
    cfg = get_config(config)
    text, name = _source_text(source)
    key = _digest("program", text, cfg.key, str(config_root(cfg)), " ".join(cflags))
    final = cache_dir() / f"prog-{name}-{key}"

    def fill(tmp: Path) -> None:
        src = tmp / f"{name}.c"
        src.write_text(text)
        extra_inc = [f"-I{Path(source).resolve().parent}"] if _is_path(source) else []
        _run_cc([*PROGRAM_CFLAGS, *PROGRAM_DEFINES, *cflags, *extra_inc, *include_flags(cfg),
                 str(src), "-o", str(tmp / name), *link_flags(cfg)], f"program {name}")

    return _atomic_dir(final, fill) / name


def build_shared(text: str, name: str, config: Config | str | None = None,
                 cflags: tuple[str, ...] = ()) -> Path:
    """Compile C text (a kernel plus its entry wrapper) into a cached shared library."""
    cfg = get_config(config)
    key = _digest("kernel", text, cfg.key, str(config_root(cfg)), " ".join(cflags))
    final = cache_dir() / f"kernel-{name}-{key}"

    def fill(tmp: Path) -> None:
        src = tmp / f"{name}.c"
        src.write_text(text)
        _run_cc([*PROGRAM_CFLAGS, "-fPIC", "-shared", "-Wl,-Bsymbolic", *PROGRAM_DEFINES,
                 *cflags, *include_flags(cfg), str(src), "-o", str(tmp / f"lib{name}.so"),
                 *link_flags(cfg)], f"kernel {name}")

    return _atomic_dir(final, fill) / f"lib{name}.so"


def _is_path(source) -> bool:
    if isinstance(source, os.PathLike):
        return True
    return "\n" not in source and source.endswith(".c") and os.path.exists(source)


def _source_text(source) -> tuple[str, str]:
    if _is_path(source):
        p = Path(source)
        return p.read_text(), "".join(c if c.isalnum() or c == "_" else "_" for c in p.stem)
    return str(source), "program"
