"""`llmbackend demo` without a GPU: the shipped bundle's Gemmini kernel for the demo model is
verified on first use, beats the library baseline in simulated cycles, runs, and matches eager."""
import torch_llmbackend
from torch_llmbackend.demo import run_demo


def test_the_cpu_demo_verifies_the_shipped_gemmini_kernel_and_runs_the_faster(cache_dir, capsys):
    """The shipped demo-MLP kernel is verified on first use and timed against the library. Under
    the cycle model with a memory system (issue 21) it ties the library (0.99x), so the library
    runs, and the report says why."""
    assert run_demo(cache_dir=cache_dir, target="gemmini") == 0
    (row,) = torch_llmbackend.report()
    assert row["verified"] and "shipped bundle, verified on first use" in row["reason"]
    assert row["runs"] == "library" and "not faster than the library" in row["reason"]
    assert row["time_unit"] == "cycles" and row["kernel_time"] == row["library_time"] > 0
    assert row["stats"]["macs"] == 16 * 64 * 128 + 16 * 128 * 32
    assert "-> OK" in capsys.readouterr().out


def test_the_shipped_bundle_is_verified_on_each_machine_and_never_altered(cache_dir, tmp_path):
    from torch_llmbackend.store.bundle import shipped_entries

    before = {k: list(e.verified_on) for k, e in shipped_entries().items()}
    assert run_demo(cache_dir=cache_dir, target="gemmini") == 0
    assert run_demo(cache_dir=str(tmp_path / "another"), target="gemmini") == 0
    (row,) = torch_llmbackend.report()
    assert "verified on first use" in row["reason"]  # a fresh store: verified again, not trusted
    assert {k: list(e.verified_on) for k, e in shipped_entries().items()} == before
