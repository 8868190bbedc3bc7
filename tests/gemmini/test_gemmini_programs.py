"""Gemmini-style C test programs, built with gemmini-cc and run on the host: each checks
itself against the CPU reference and exits 0 on success."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"
CONFIG_OF = {"fp32_tiled_matmul": "fp32"}


def gemmini_cc(*args) -> subprocess.CompletedProcess:
    """the console script, run as `python -m gemmini_runtime.cc` (works before installation)"""
    return subprocess.run([sys.executable, "-m", "gemmini_runtime.cc", *args],
                          capture_output=True, text=True, env=os.environ.copy())


@pytest.mark.parametrize("program", sorted(p.stem for p in PROGRAMS.glob("*.c")))
def test_program_passes_its_own_checks(program, tmp_path):
    exe = tmp_path / program
    config = CONFIG_OF.get(program, "int8")
    built = gemmini_cc("--config", config, str(PROGRAMS / f"{program}.c"), "-O2", "-o", str(exe))
    assert built.returncode == 0, built.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_gemmini_stats_prints_one_summary_line_at_exit(tmp_path):
    exe = tmp_path / "tiled_matmul"
    assert gemmini_cc(str(PROGRAMS / "tiled_matmul.c"), "-o", str(exe)).returncode == 0
    run = subprocess.run([str(exe)], capture_output=True, text=True,
                         env={**os.environ, "GEMMINI_STATS": "1"})
    lines = [l for l in run.stderr.splitlines() if l.startswith("gemmini-stats:")]
    assert len(lines) == 1
    assert "config=int8" in lines[0] and "cycles=" in lines[0] and "utilization=" in lines[0]


def test_gemmini_cc_compiles_only_with_dash_c(tmp_path):
    obj = tmp_path / "mvin_mvout.o"
    assert gemmini_cc("-c", str(PROGRAMS / "mvin_mvout.c"), "-o", str(obj)).returncode == 0
    assert obj.exists()


def test_gemmini_cc_rejects_an_unknown_config():
    r = gemmini_cc("--config", "int4", str(PROGRAMS / "mvin_mvout.c"))
    assert r.returncode == 2 and "unknown Gemmini config 'int4'" in r.stderr
