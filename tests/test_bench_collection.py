"""`make bench` runs `pytest bench`: every benchmark file under bench/ must match pytest's
python_files, or the run silently skips it (it once collected none of the top-level bench_*.py)."""
from fnmatch import fnmatch
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_every_bench_file_is_collected_by_pytest_bench(pytestconfig):
    patterns = pytestconfig.getini("python_files")
    files = sorted(BENCH.rglob("bench_*.py"))
    assert {"bench_problems.py", "bench_compile.py", "bench_dispatch.py", "bench_gemmini_target.py"} <= {
        f.name for f in files}
    missed = [str(f.relative_to(BENCH)) for f in files if not any(fnmatch(f.name, p) for p in patterns)]
    assert missed == []


def test_no_conftest_collects_bench_files_a_second_time():
    """python_files collects them; a pytest_collect_file hook as well would run each one twice."""
    hooks = [c for c in BENCH.rglob("conftest.py") if "def pytest_collect_file" in c.read_text()]
    assert hooks == []
