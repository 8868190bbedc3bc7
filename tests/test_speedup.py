"""How speed-ups are shown in the summary table (and computed, everywhere)."""
from torch_llmbackend.backend import format_table
from torch_llmbackend.speedup import format_speedup


def test_small_speedups_keep_two_significant_digits():
    assert format_speedup(0.0024) == "0.0024x"
    assert format_speedup(0.05) == "0.05x"
    assert format_speedup(0.5) == "0.50x"
    assert format_speedup(1.234) == "1.23x"
    assert format_speedup(12.0) == "12.00x"


def test_the_summary_table_shows_a_very_slow_kernel_by_how_much():
    row = {"subgraph": 0, "key": "k" * 64, "target": "triton", "source": "cache", "runs": "kernel",
           "kernel_time": 410.0, "time_unit": "us", "speedup_vs_eager": 0.0024, "speedup_vs_inductor": 1.5,
           "speedup_vs_library": None, "ops": ["aten.mm.default"], "reason": "verified"}
    line = format_table([row], "inference", 0.1).splitlines()[2]
    assert "0.0024x" in line and "1.50x" in line and "0.00x" not in line
