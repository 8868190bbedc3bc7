"""`llmbackend demo` without a GPU: the shipped bundle's Gemmini kernel for the demo model is
verified on first use, beats the library baseline in simulated cycles, runs, and matches eager."""
import torch_llmbackend
from torch_llmbackend.demo import run_demo


def test_the_cpu_demo_runs_the_shipped_gemmini_kernel(cache_dir, capsys):
    assert run_demo(cache_dir=cache_dir, target="gemmini") == 0
    (row,) = torch_llmbackend.report()
    assert row["source"] == "cache" and row["runs"] == "kernel" and row["verified"]
    assert "shipped bundle, verified on first use" in row["reason"]
    assert row["time_unit"] == "cycles" and row["speedup_vs_library"] > 1.0
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
