"""`llmbackend cache ...` on the shipped bundle: import re-verifies what this machine can run and
keeps the rest unverified; ls/show/export/rm work on the result."""
import json
from pathlib import Path

from torch_llmbackend.cli import main
from torch_llmbackend.store.bundle import read_bundle

SHIPPED = str(Path(__file__).resolve().parent.parent / "cache")


def test_import_verifies_what_runs_here_and_keeps_the_rest(cache_dir, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("LLMBACKEND_BASELINES", "eager")  # Inductor would cost seconds on a CPU
    assert main(["cache", "import", SHIPPED, "--cache-dir", cache_dir]) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "kept, not verified here" in out  # Triton (interpreter) vs CUDA/H100

    assert main(["cache", "ls", "--json", "--cache-dir", cache_dir]) == 0
    listed = json.loads(capsys.readouterr().out)
    # the Triton kernel built for the interpreter is verified here; those built for the H100 are
    # kept for a GPU machine, unverified, like the CUDA one
    by_place = {(r["target"], bool(r["verified_on"])): r for r in listed}
    assert by_place[("triton", True)]["verified_on"] == ["cpu-interpreter"] and by_place[("triton", True)]["author"] == "curated"
    assert ("cuda", False) in by_place and ("triton", False) in by_place and ("cuda", True) not in by_place
    gemmini = [r for r in listed if r["target"] == "gemmini"]
    assert gemmini and all(r["verified_on"] and r["speedup_vs_eager"] is None for r in gemmini)  # cycles, not us

    key = by_place[("triton", True)]["key"]
    assert main(["cache", "show", key[:12], "--cache-dir", cache_dir]) == 0
    assert "class ModelNew" in capsys.readouterr().out

    assert main(["cache", "export", str(tmp_path / "out.tar.gz"), "--cache-dir", cache_dir]) == 0
    assert f"exported {len(read_bundle(SHIPPED).entries)} kernel(s)" in capsys.readouterr().out  # GPU kernels kept
    assert main(["cache", "rm", key[:12], "--cache-dir", cache_dir]) == 0
    assert main(["cache", "ls", "--json", "--cache-dir", cache_dir]) == 0
    capsys.readouterr()


def test_a_tampered_bundle_kernel_is_refused_on_import(cache_dir, capsys, tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(SHIPPED, bundle)
    kernel = next((bundle / "kernels").glob("*_cuda.py"))
    kernel.write_text(kernel.read_text().replace("acc + b2[o]", "acc"))
    assert main(["cache", "import", str(bundle), "--cache-dir", cache_dir]) == 1
    assert "refused" in capsys.readouterr().out
