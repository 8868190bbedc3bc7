"""bench.gemmini.summary: the Gemmini benchmarks in simulated cycles against the library, on
the demo MLP (the shipped bundle's kernel) and a small convolution (no shipped kernel)."""
import pytest

from bench.gemmini.problems import PROBLEMS, conv
from bench.gemmini.summary import format_table, summarize
from torch_llmbackend.targets import get_target

pytestmark = pytest.mark.skipif(not get_target("gemmini").availability("cpu").ok, reason="gemmini target unavailable")


def test_summary_reports_shipped_kernel_and_library_in_cycles():
    results = summarize({"demo_mlp": PROBLEMS["demo_mlp"], "conv3x3_8x8_8-8": conv(8, 8, 8, 3)})
    demo, small = results
    assert demo.runs == "shipped kernel" and demo.correct
    assert demo.library_cycles == 27_898 and demo.cycles == 24_847  # the simulator is deterministic
    assert 1.1 < demo.speedup < 1.2 and 0 < demo.utilization < 1
    assert small.runs == "library" and small.correct and small.speedup == 1.0
    table = format_table(results)
    assert "demo_mlp" in table and "shipped kernel" in table and "24,847" in table
    assert "faster on 1/2 (50%)" in table and f"geomean speed-up over the library: {(demo.speedup) ** 0.5:.3f}x" in table
