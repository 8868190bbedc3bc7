"""The winner store: JSON only, hash-checked, safe under several processes."""
import logging
import multiprocessing as mp
import pickle

import diskcache

from torch_llmbackend.store.kernels import KernelEntry, KernelStore

SOURCE = "import torch\n\nclass ModelNew(torch.nn.Module):\n    pass\n"


def entry(key="k" * 64, **kw):
    kw.setdefault("provenance", {"author": "curated"})
    return KernelEntry(key=key, target="triton", signature="sig", source=SOURCE, **kw)


def test_put_then_get_round_trips(tmp_path):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry(timings={"candidate": {"median": 1.0}}))
        got = store.get("k" * 64)
    assert got.source == SOURCE and got.provenance == {"author": "curated"}
    assert got.timings["candidate"]["median"] == 1.0


def test_a_tampered_entry_is_refused_with_a_warning_naming_the_key(tmp_path, caplog):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry())
        raw = store.raw("k" * 64)
        store.put_raw("k" * 64, raw.replace(b"pass", b"import os"))
        with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
            assert store.get("k" * 64) is None
    assert "kkkkkkkkkkkkkkkk" in caplog.text and "hash mismatch" in caplog.text


def test_a_truncated_entry_is_refused(tmp_path, caplog):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry())
        store.put_raw("k" * 64, store.raw("k" * 64)[:40])
        with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
            assert store.get("k" * 64) is None
    assert "unreadable" in caplog.text


class Boom:
    def __reduce__(self):
        return (print, ("pickle payload ran",))


def test_a_pickled_row_is_never_unpickled(tmp_path, caplog, capsys):
    # Someone with write access to the folder plants a pickled value under a kernel key.
    store = KernelStore(str(tmp_path))
    store.close()
    with diskcache.Cache(str(tmp_path / "kernels")) as raw_cache:
        raw_cache.set("kernel:" + "p" * 64, Boom())
    with KernelStore(str(tmp_path)) as store, caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        assert store.get("p" * 64) is None
    assert "pickle payload ran" not in capsys.readouterr().out
    assert "pickled" in caplog.text


def _writer(path, worker):
    with KernelStore(path) as store:
        for i in range(25):
            key = f"{worker:02d}{i:02d}".ljust(64, "0")
            store.put(entry(key=key, provenance={"author": f"w{worker}", "i": i}))
            other = store.get(f"{(worker + 1) % 8:02d}{i:02d}".ljust(64, "0"))
            assert other is None or other.provenance["i"] == i


def test_eight_processes_writing_and_reading_leave_the_store_consistent(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 8
    with KernelStore(str(tmp_path)) as store:
        keys = store.keys()
        assert len(keys) == 200
        assert all(store.get(k) is not None for k in keys)


def test_pending_problems_queue(tmp_path):
    from torch_llmbackend.records import Problem, TensorSpec

    spec = TensorSpec((4,), (1,), "float32", "cpu")
    problem = Problem("q" * 64, "sig", "triton", ("aten.relu.default",), (spec,), (spec,), "src")
    with KernelStore(str(tmp_path)) as store:
        store.add_pending(problem)
        assert [p.key for p in store.pending()] == ["q" * 64]
        store.clear_pending("q" * 64)
        assert store.pending() == []


def test_pickle_module_is_not_what_the_store_writes(tmp_path):
    with KernelStore(str(tmp_path)) as store:
        store.put(entry())
        raw = store.raw("k" * 64)
    assert raw.startswith(b"{") and pickle.PROTO not in raw[:1]
