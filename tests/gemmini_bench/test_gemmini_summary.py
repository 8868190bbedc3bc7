"""bench.gemmini.summary: the Gemmini benchmarks in simulated cycles against the library, on
the demo MLP (the shipped bundle's kernel) and a small convolution (no shipped kernel)."""
import pytest

from bench.gemmini.problems import PROBLEMS, conv
from bench.gemmini.summary import Result, format_table, summarize
from torch_llmbackend.targets import get_target

pytestmark = pytest.mark.skipif(not get_target("gemmini").availability("cpu").ok, reason="gemmini target unavailable")


def test_summary_reports_the_library_in_cycles_and_a_shipped_kernel_that_no_longer_pays():
    """Under the cycle model's memory system (issue 21) the library's loop_ws overlaps its loads
    with its computes, and the shipped demo kernel (chosen under the model without one) verifies
    but runs 0.99x the library: the backend runs the library, and the summary says so."""
    results = summarize({"demo_mlp": PROBLEMS["demo_mlp"], "conv3x3_8x8_8-8": conv(8, 8, 8, 3)})
    demo, small = results
    assert demo.runs == "library" and demo.correct
    assert demo.library_cycles == demo.cycles == 20_829  # the simulator is deterministic
    assert 0 < demo.utilization < 1
    assert small.runs == "library" and small.correct and small.speedup == 1.0
    table = format_table(results)
    assert "demo_mlp" in table and "20,829" in table
    assert "faster on 0/2 (0%)" in table and "geomean speed-up over the library: 1.000x" in table


def test_the_table_shows_a_shipped_kernel_and_its_speed_up():
    rows = [Result("gemm", "shipped kernel", 24_000.0, 12_000.0, 0.8, True),
            Result("conv", "library", 5_000.0, 5_000.0, 0.5, True)]
    table = format_table(rows)
    assert "shipped kernel" in table and "12,000" in table and "2.000x" in table
    assert "faster on 1/2 (50%)" in table and f"geomean speed-up over the library: {2 ** 0.5:.3f}x" in table
