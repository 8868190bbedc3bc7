"""What the static checks cost on a cache hit: they run again on every load of a cached kernel
(Target.load), before any of it is imported. Timed on the largest shipped kernel module.

    pytest bench/bench_static_checks.py --benchmark-enable
"""
from pathlib import Path

from torch_llmbackend.evaluate.static_checks import check_candidate
from torch_llmbackend.targets import get_target

ROOT = Path(__file__).resolve().parents[1]
KERNELS = [*(ROOT / "cache" / "kernels").glob("*.py"), *(ROOT / "bench" / "curated").rglob("*_*.py"),
           *(ROOT / "bench" / "curated" / "triton").glob("*.py")]


def _target_of(path: Path) -> str:
    return next((t for t in ("gemmini", "cuda") if path.stem.endswith(f"_{t}")), "triton")


def test_static_checks_on_the_largest_shipped_kernel(benchmark):
    path = max(KERNELS, key=lambda p: p.stat().st_size)
    source, allowed = path.read_text(), get_target(_target_of(path)).allowed_imports
    benchmark.extra_info.update(kernel=str(path.relative_to(ROOT)), chars=len(source))
    assert benchmark(check_candidate, source, allowed) == []


def test_static_checks_on_the_largest_shipped_c_kernel(benchmark):
    """A module holding C: the C checks (Gemmini's macro expansion included) add to the Python ones."""
    path = max((p for p in KERNELS if _target_of(p) != "triton"), key=lambda p: p.stat().st_size)
    source, allowed = path.read_text(), get_target(_target_of(path)).allowed_imports
    benchmark.extra_info.update(kernel=str(path.relative_to(ROOT)), chars=len(source))
    assert benchmark(check_candidate, source, allowed) == []
