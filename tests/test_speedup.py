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


def test_speedup_needs_both_times():
    from torch_llmbackend.speedup import speedup, speedup_of

    assert speedup(2.0, 1.0) == 2.0
    assert speedup(None, 1.0) is None and speedup(2.0, 0.0) is None and speedup(0.0, 1.0) is None
    timings = {"candidate": {"median": 4.0}, "eager": {"median": 10.0}, "inductor": {"error": "OOM"},
               "device": "cpu"}
    assert speedup_of(timings, "eager") == 2.5
    assert speedup_of(timings, "inductor") is None  # an untimed baseline has no ratio
    assert speedup_of(timings, "library") is None and speedup_of(timings, "device") is None


def test_an_evaluation_whose_baseline_failed_to_time_has_no_speedup_over_it():
    """It used to raise KeyError: 'median' for a baseline that holds only its error."""
    from torch_llmbackend.records import Evaluation

    ev = Evaluation(True, "ok", "", timings={"candidate": {"median": 1.0}, "inductor": {"error": "OOM"}})
    assert ev.speedup("inductor") is None
