"""A store you can trust: the cache folder is the user's alone, every row is signed with a secret
kept elsewhere, and a row without this user's signature is read as a claim to check, not as a
verified kernel."""
import json
import logging
import os
import stat
import subprocess
import sys

import diskcache
import pytest

from torch_llmbackend.store.kernels import KernelEntry, KernelStore, open_store
from torch_llmbackend.store.permissions import UnsafePath
from torch_llmbackend.store.seal import content_hash
from torch_llmbackend.store.secret import SecretUnavailable, user_secret

from .folders import cannot_write, someone_elses_folder

MACHINE = {"device": "cpu-interpreter", "torch": "2.x"}
SOURCE = "import torch\n\nclass ModelNew(torch.nn.Module):\n    pass\n"


def entry(key="k" * 64, **kw):
    kw.setdefault("verified_on", [MACHINE])
    kw.setdefault("problem", {"reference": "the true reference"})
    return KernelEntry(key=key, target="triton", signature="sig", source=SOURCE, **kw)


def forge(store, key, edit, fmt=1, mac=None):
    """Rewrite a row as someone who can write the cache folder but lacks the secret: edit the
    payload and recompute its content hash (all that the store used to check)."""
    payload = json.loads(store.raw(key))["payload"]
    edit(payload)
    doc = {"format": fmt, "sha256": content_hash(payload), "payload": payload}
    if fmt == 2:
        doc["mac"] = mac
    store.put_raw(key, json.dumps(doc).encode())


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def secret_file(tmp_path, monkeypatch):
    path = tmp_path / "config" / "secret"
    monkeypatch.setenv("LLMBACKEND_SECRET_FILE", str(path))
    return path


# -- the cache folder ----------------------------------------------------------------------------
def test_the_cache_folder_is_created_private(tmp_path):
    with KernelStore(str(tmp_path / "cache")):
        pass
    assert mode(tmp_path / "cache") == 0o700


@pytest.mark.parametrize("bits", [0o775, 0o757, 0o777])
def test_a_folder_others_can_write_is_refused_naming_the_fix(tmp_path, bits):
    folder = tmp_path / "cache"
    with KernelStore(str(folder)) as store:
        store.put(entry())
    folder.chmod(bits)
    with pytest.raises(UnsafePath) as e:
        KernelStore(str(folder))
    assert str(folder) in str(e.value) and f"chmod go-w {folder}" in str(e.value)


def test_a_compile_does_not_use_an_unsafe_folder_at_all(tmp_path, caplog):
    folder = tmp_path / "cache"
    with KernelStore(str(folder)) as store:
        store.put(entry())
    folder.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        store = open_store(str(folder))
        again = open_store(str(folder))
    assert store.keys() == [] and store.get("k" * 64) is None  # what it holds may be planted
    store.put(entry(key="n" * 64))  # and nothing is written to it
    assert again.keys() == [] and sorted(os.listdir(folder)) == ["kernels"]
    assert not store.module_dir().startswith(str(folder))  # kernels are not imported from it either
    assert caplog.text.count("kernel store not used") == 1 and "chmod go-w" in caplog.text


def test_a_folder_owned_by_someone_else_is_refused(tmp_path):
    theirs = someone_elses_folder(tmp_path)
    with pytest.raises(UnsafePath, match="owned by uid"):
        KernelStore(theirs)


def test_a_cache_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnsafePath, match="is not a folder"):
        KernelStore(str(tmp_path / "file"))


# -- the secret ----------------------------------------------------------------------------------
def test_the_secret_is_created_once_0600_in_a_0700_folder(secret_file):
    first = user_secret()
    assert len(first) == 32 and mode(secret_file) == 0o600 and mode(secret_file.parent) == 0o700
    assert bytes.fromhex(secret_file.read_text().strip()) == first


def test_processes_creating_the_secret_at_once_agree_on_one(secret_file):
    code = "from torch_llmbackend.store.secret import user_secret; print(user_secret().hex())"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(4)]
    seen = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert seen == {secret_file.read_text().strip()}


@pytest.mark.parametrize("bits", [0o644, 0o640, 0o604])
def test_a_secret_others_can_read_is_refused_as_ssh_refuses_a_key(secret_file, bits):
    secret_file.parent.mkdir(mode=0o700)
    secret_file.write_text("ab" * 32 + "\n")
    secret_file.chmod(bits)
    with pytest.raises(SecretUnavailable, match=f"permissions {bits:04o} .* are too open; fix: chmod 600"):
        user_secret()


def test_a_secret_owned_by_someone_else_is_refused(secret_file):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    secret_file.parent.mkdir(mode=0o700)
    secret_file.write_text("ab" * 32 + "\n")
    secret_file.chmod(0o600)
    os.chown(secret_file, 65534, 65534)
    with pytest.raises(SecretUnavailable, match="owned by uid 65534"):
        user_secret()


def test_a_secret_in_a_folder_others_can_write_is_refused(secret_file):
    secret_file.parent.mkdir(mode=0o777)
    secret_file.parent.chmod(0o777)
    with pytest.raises(SecretUnavailable, match="writable by"):
        user_secret()


def test_without_a_usable_secret_nothing_is_trusted_and_the_warning_says_why(tmp_path, secret_file, caplog):
    secret_file.parent.mkdir(mode=0o700)
    secret_file.write_text("not hex\n")
    secret_file.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"), KernelStore(str(tmp_path / "c")) as store:
        store.put(entry())
        got = store.get("k" * 64)
    assert not got.trusted and not got.verified_here(MACHINE)
    assert str(secret_file) in caplog.text and "malformed" in caplog.text


# -- signed rows ---------------------------------------------------------------------------------
def test_a_row_this_user_wrote_is_trusted(tmp_path):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry())
        got = store.get("k" * 64)
    assert got.trusted and got.verified_here(MACHINE) and got.problem == {"reference": "the true reference"}
    assert json.loads(store.raw("k" * 64))["mac"]


@pytest.mark.parametrize("fmt, mac", [(1, None), (2, None), (2, "0" * 64)])
def test_a_row_rewritten_without_the_secret_is_not_trusted(tmp_path, fmt, mac, caplog):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry())
        forge(store, "k" * 64, lambda p: p.update(source=SOURCE + "import os\n",
                                                  problem={"reference": "a forged one"}), fmt, mac)
        with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
            got = store.get("k" * 64)
    # readable, so it can be verified again, but none of its claims survive
    assert got is not None and got.source.endswith("import os\n")
    assert not got.trusted and not got.verified_here(MACHINE)
    assert got.verified_on == [] and got.problem == {} and got.timings == {}
    assert "no valid signature" in caplog.text


def test_a_row_signed_with_another_secret_is_not_trusted(tmp_path, monkeypatch):
    with KernelStore(str(tmp_path / "c")) as store:
        store.put(entry())
    monkeypatch.setenv("LLMBACKEND_SECRET_FILE", str(tmp_path / "other" / "secret"))
    with KernelStore(str(tmp_path / "c")) as store:
        assert not store.get("k" * 64).verified_here(MACHINE)


def test_a_tampered_payload_is_still_refused_by_its_content_hash(tmp_path, caplog):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry())
        store.put_raw("k" * 64, store.raw("k" * 64).replace(b"pass", b"import os"))
        with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
            assert store.get("k" * 64) is None
    assert "hash mismatch" in caplog.text


def test_a_bundle_entry_is_never_trusted(tmp_path):
    from torch_llmbackend.store.bundle import export_bundle, read_bundle

    export_bundle([entry()], str(tmp_path / "b"))
    (got,) = read_bundle(str(tmp_path / "b")).entries
    assert got.verified_on == [MACHINE] and not got.verified_here(MACHINE)


def test_an_unsigned_pending_problem_is_skipped(tmp_path, caplog):
    from torch_llmbackend.records import Problem, TensorSpec

    spec = TensorSpec((4,), (1,), "float32", "cpu")
    problem = Problem("q" * 64, "sig", "triton", ("aten.relu.default",), (spec,), (spec,), "src")
    with KernelStore(str(tmp_path)) as store:
        store.add_pending(problem)
        assert [p.key for p in store.pending()] == ["q" * 64]
        row = "pending:" + "q" * 64
        payload = json.loads(store._cache.get(row))["payload"]
        payload["reference_source"] = "forged"
        store._cache.set(row, json.dumps({"format": 1, "sha256": content_hash(payload), "payload": payload}).encode())
        with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
            assert store.pending() == []
    assert "no valid signature" in caplog.text


def test_a_row_with_a_pickled_key_does_not_stop_a_listing(tmp_path, caplog):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry())
    with diskcache.Cache(str(tmp_path / "kernels")) as raw_cache:
        raw_cache.set(("kernel:", "p" * 64), b"planted")  # a tuple key is stored pickled
    with KernelStore(str(tmp_path)) as store, caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        assert store.keys() == ["k" * 64]
        assert [e.key for e in store.entries()] == ["k" * 64]
    assert "pickled key" in caplog.text


# -- a folder this user can only read --------------------------------------------------------------
def test_a_read_only_folder_is_read_and_never_written(tmp_path, caplog):
    folder = str(tmp_path / "cache")
    with KernelStore(folder) as store:
        store.put(entry())
    with cannot_write(folder), caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        store = open_store(folder)
        assert store.readonly and store.get("k" * 64).verified_here(MACHINE)
        store.put(entry(key="n" * 64))  # best effort: nothing happens, nothing raised
        assert store.keys() == ["k" * 64]
        assert not store.module_dir().startswith(folder)
        store.close()
        assert store.get("k" * 64) is not None  # reopens after close, as the compile does per graph
    assert caplog.text.count("opened read-only") == 1 and folder in caplog.text


# -- a forged row in a real compile -----------------------------------------------------------------
# The demo model's Gemmini kernel ships in the bundle and runs on the CPU simulator. Someone who
# can write the cache folder, but has not the secret, plants it as a row that claims to be
# verified on this machine; the compile must verify it again before it runs.
def _plant_demo_kernel(cache_dir, edit_source=lambda s: s):
    from torch_llmbackend.machine import this_machine
    from torch_llmbackend.store.bundle import shipped_entries
    from torch_llmbackend.targets import get_target

    machine = this_machine(get_target("gemmini"), "cpu")
    (shipped,) = [e for e in shipped_entries().values() if e.target == "gemmini" and "RELU, 1.0f" in e.source]
    with KernelStore(cache_dir) as store:
        store.put(KernelEntry.from_json({**shipped.to_json(), "source": edit_source(shipped.source)}))
        forge(store, shipped.key, lambda p: p.update(verified_on=[machine]))
    return shipped.key


@pytest.mark.slow
def test_a_planted_wrong_kernel_is_verified_before_use_and_never_runs(cache_dir, capsys):
    import torch_llmbackend
    from torch_llmbackend.demo import run_demo

    key = _plant_demo_kernel(cache_dir, lambda s: s.replace("RELU, 1.0f", "NO_ACTIVATION, 1.0f"))
    assert run_demo(cache_dir=cache_dir, target="gemmini") == 0  # the output matches eager
    (row,) = torch_llmbackend.report()
    assert row["key"] == key and row["runs"] != "kernel"
    assert "cached kernel failed verification here" in row["reason"]


@pytest.mark.slow
def test_a_planted_right_kernel_is_verified_again_then_stored_signed(cache_dir, capsys):
    import torch_llmbackend
    from torch_llmbackend.demo import run_demo

    key = _plant_demo_kernel(cache_dir)
    assert run_demo(cache_dir=cache_dir, target="gemmini") == 0
    (row,) = torch_llmbackend.report()
    # verified again (it then ties the library under the memory model, so either may run)
    assert row["verified"] and "hit in the cache, verified on first use" in row["reason"]
    with KernelStore(cache_dir) as store:
        stored = store.get(key)
    assert stored.trusted and len(stored.verified_on) == 1 and stored.problem  # this machine's word now


def test_a_cache_folder_the_knowledge_base_made_first_is_private_too(tmp_path):
    from torch_llmbackend.store.knowledge import KnowledgeBase

    old = os.umask(0o002)  # a common default where each user has a group of their own
    try:
        KnowledgeBase(str(tmp_path / "cache"))
    finally:
        os.umask(old)
    assert mode(tmp_path / "cache") == 0o700
    with KernelStore(str(tmp_path / "cache")):
        pass
