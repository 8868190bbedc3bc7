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


# -- defects a user met ------------------------------------------------------------------------------
import argparse  # noqa: E402
import logging  # noqa: E402

import diskcache  # noqa: E402
import pytest  # noqa: E402

from torch_llmbackend.cli import build_parser  # noqa: E402
from torch_llmbackend.store.bundle import export_bundle, shipped_entries  # noqa: E402
from torch_llmbackend.store.kernels import KernelEntry, KernelStore  # noqa: E402

SOURCE = "import torch\n\nclass ModelNew(torch.nn.Module):\n    NAME = {!r}\n"
KEY = "ab" * 32


def put(cache_dir, *keys):
    with KernelStore(cache_dir) as store:
        for key in keys:
            store.put(KernelEntry(key=key, target="gemmini", signature="sig", source=SOURCE.format(key),
                                  provenance={"author": "library" if key.endswith(".library") else "curated"}))


def fails(argv, capsys):
    """The command's exit status and what it said, for a command that stops with a message."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code, capsys.readouterr()


def test_show_with_a_full_key_picks_it_over_its_library_baseline(cache_dir, capsys):
    put(cache_dir, KEY, KEY + ".library")
    assert main(["cache", "show", KEY, "--cache-dir", cache_dir]) == 0
    assert f"NAME = {KEY!r}" in capsys.readouterr().out
    assert main(["cache", "show", KEY[:12] + ".library", "--cache-dir", cache_dir]) == 0
    assert f"NAME = {KEY + '.library'!r}" in capsys.readouterr().out
    assert main(["cache", "show", KEY[:12], "--cache-dir", cache_dir]) == 0  # a prefix names the kernel
    assert f"NAME = {KEY!r}" in capsys.readouterr().out


def test_ls_tells_a_kernel_from_its_library_baseline(cache_dir, capsys):
    put(cache_dir, KEY, KEY + ".library")
    assert main(["cache", "ls", "--cache-dir", cache_dir]) == 0
    lines = capsys.readouterr().out.splitlines()[1:3]
    assert lines[0].split()[0] == KEY[:16] and lines[1].split()[0] == KEY[:16] + ".library"


def test_show_and_rm_on_a_refused_entry(cache_dir, capsys):
    put(cache_dir, KEY)
    with KernelStore(cache_dir) as store:
        store.put_raw(KEY, store.raw(KEY).replace(b"NAME", b"EVIL"))  # fails its content hash
    code, said = fails(["cache", "show", KEY[:12], "--cache-dir", cache_dir], capsys)
    assert code and "refused by the store" in str(code) and "cache rm" in str(code)
    assert main(["cache", "rm", KEY[:12], "--cache-dir", cache_dir]) == 0  # what a user then does
    assert f"removed {KEY[:16]}" in capsys.readouterr().out
    with KernelStore(cache_dir) as store:
        assert store.keys() == []


def test_a_row_with_a_pickled_key_does_not_crash_ls_verify_or_export(cache_dir, capsys, tmp_path, caplog):
    put(cache_dir, KEY)
    with diskcache.Cache(f"{cache_dir}/kernels") as raw_cache:
        raw_cache.set(("kernel:", "planted"), b"x")  # a tuple key is stored pickled
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        assert main(["cache", "ls", "--cache-dir", cache_dir]) == 0
        assert "1 kernel(s)" in capsys.readouterr().out
        # the entry's signature ("sig") is no graph record, so it cannot be verified: a failure, not a crash
        assert main(["cache", "verify", "--cache-dir", cache_dir]) == 1
        assert "graph record is refused" in capsys.readouterr().out
        assert main(["cache", "export", str(tmp_path / "b"), "--cache-dir", cache_dir]) == 0
    assert "exported 1 kernel(s)" in capsys.readouterr().out
    assert "pickled key" in caplog.text


def test_an_import_whose_every_kernel_is_rejected_fails_and_says_all_of_why(cache_dir, capsys, tmp_path):
    (cpu_kernel,) = [e for e in shipped_entries().values()
                     if e.target == "triton" and e.problem["inputs"][0]["device"] == "cpu"]
    source = "import os\nimport subprocess\n\nclass ModelNew:\n    pass\n"  # two findings, two lines
    bad = KernelEntry.from_json({**cpu_kernel.to_json(), "source": source})
    export_bundle([bad], str(tmp_path / "bundle"))
    assert main(["cache", "import", str(tmp_path / "bundle"), "--cache-dir", cache_dir]) == 1
    out = capsys.readouterr().out
    assert "rejected" in out and "'os'" in out and "'subprocess'" in out  # the whole reason, not its first line
    assert "imported 0 of 1 kernel(s); 1 rejected" in out


def test_an_unsigned_entry_is_verified_against_its_record_never_its_own_problem(cache_dir, capsys, monkeypatch):
    """`cache verify` on a row with no valid signature and a forged problem record: the problem is
    rendered here from the entry's signature (the record its key is the hash of), so the forged
    reference is never used; the entry is then stored signed, with the rendered problem."""
    import json

    import torch

    from tests.agent.kernels import GOOD
    from tests.graphs import problems_of
    from torch_llmbackend.store.seal import content_hash

    monkeypatch.setenv("LLMBACKEND_BASELINES", "eager")
    (problem,) = problems_of(lambda x, y: torch.relu(x + y), torch.randn(4, 40), torch.randn(4, 40))
    with KernelStore(cache_dir) as store:
        store.put(KernelEntry(key=problem.key, target="triton", signature=problem.signature, source=GOOD))
        payload = json.loads(store.raw(problem.key))["payload"]
        payload["problem"] = {"reference_source": "forged"}
        store.put_raw(problem.key, json.dumps({"format": 1, "sha256": content_hash(payload), "payload": payload}).encode())
    assert main(["cache", "ls", "--cache-dir", cache_dir]) == 0
    assert "unsigned: verified again before use" in capsys.readouterr().out
    assert main(["cache", "verify", problem.key[:12], "--cache-dir", cache_dir]) == 0
    assert "ok" in capsys.readouterr().out
    with KernelStore(cache_dir) as store:
        stored = store.get(problem.key)
    assert stored.trusted and stored.problem["reference_source"] == problem.reference_source


def test_an_unsafe_cache_folder_stops_the_command_with_the_fix(cache_dir, capsys):
    import os

    put(cache_dir, KEY)
    os.chmod(cache_dir, 0o777)
    assert main(["cache", "ls", "--cache-dir", cache_dir]) == 1
    assert f"chmod go-w {cache_dir}" in capsys.readouterr().err


def test_version(capsys):
    from torch_llmbackend import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"llmbackend {__version__}"


@pytest.mark.parametrize("group, commands", [("cache", "{ls,show,rm,verify,export,import,plans}"),
                                             ("batch", "{export,import}"),
                                             ("kb", "{ls,show,search,stats,export,import,rollback}")])
def test_a_command_group_alone_prints_its_own_help(capsys, group, commands):
    assert main([group]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"usage: llmbackend {group}") and commands in out


def _commands(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield path + (name,), sub
                yield from _commands(sub, path + (name,))


def test_every_positional_argument_has_help():
    missing = [(" ".join(path), a.dest) for path, p in _commands(build_parser()) for a in p._actions
               if not a.option_strings and not isinstance(a, argparse._SubParsersAction) and not a.help]
    assert missing == []


def test_cache_dir_is_described_one_way_everywhere():
    helps = {a.help for _, p in _commands(build_parser()) for a in p._actions if "--cache-dir" in a.option_strings}
    assert len(helps) == 1 or all(h.startswith(min(helps, key=len)) for h in helps), helps


def test_batch_on_an_unsafe_cache_folder_stops_with_the_fix(cache_dir, capsys, tmp_path):
    import os

    put(cache_dir, KEY)
    os.chmod(cache_dir, 0o777)
    assert main(["batch", "export", str(tmp_path / "requests.jsonl"), "--cache-dir", cache_dir]) == 1
    assert f"chmod go-w {cache_dir}" in capsys.readouterr().err


def test_ls_reads_a_folder_it_cannot_write(cache_dir, capsys):
    from .folders import cannot_write

    put(cache_dir, KEY)
    with cannot_write(cache_dir):
        assert main(["cache", "ls", "--cache-dir", cache_dir]) == 0
        assert KEY[:16] in capsys.readouterr().out
        assert main(["cache", "rm", KEY, "--cache-dir", cache_dir]) == 1  # a write says why it cannot
        assert "cannot be opened" in capsys.readouterr().err
