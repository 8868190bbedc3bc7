"""Gemmini's own test programs (gemmini-rocc-tests/bareMetalC), unmodified, against this
runtime. The repository holds none of them: point GEMMINI_ROCC_TESTS at a checkout of
ucb-bar/gemmini-rocc-tests and every program its bareMetalC/Makefile lists is built with
gemmini-cc (which defines BAREMETAL, selecting the small sizes) and run; each must exit 0.

    GEMMINI_ROCC_TESTS=~/gemmini-rocc-tests pytest -m slow tests/gemmini/test_gemmini_upstream.py
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = os.environ.get("GEMMINI_ROCC_TESTS")


def listed_programs(makefile: Path) -> list[str]:
    """the names in the Makefile's `tests = \\ ...` list"""
    text = makefile.read_text()
    m = re.search(r"^tests\s*=\s*\\\n((?:[ \t]+\S+[ \t]*\\?\n?)+)", text, re.M)
    if not m:
        raise ValueError(f"{makefile}: no `tests = \\` list")
    return [w for w in re.split(r"[\s\\]+", m.group(1)) if w]


def test_the_makefile_list_is_read_as_gemmini_writes_it(tmp_path):
    mk = tmp_path / "Makefile"
    mk.write_text("include x\n\ntests = \\\n\tmvin_mvout \\\n\tmatmul \\\n\ttemplate\n\ntests_baremetal = $(tests:=-baremetal)\n")
    assert listed_programs(mk) == ["mvin_mvout", "matmul", "template"]


PROGRAMS = listed_programs(Path(ROOT) / "bareMetalC" / "Makefile") if ROOT else []


@pytest.mark.slow
@pytest.mark.skipif(not ROOT, reason="GEMMINI_ROCC_TESTS does not name a gemmini-rocc-tests checkout")
@pytest.mark.parametrize("program", PROGRAMS)
def test_gemmini_program_passes_unmodified(program, tmp_path):
    src = Path(ROOT) / "bareMetalC" / f"{program}.c"
    exe = tmp_path / program
    built = subprocess.run([sys.executable, "-m", "gemmini_runtime.cc", str(src), "-O2", "-o", str(exe)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-4000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
