"""A cache folder that cannot be used costs the cache, never the compile: torch.compile on the
CPU goes on, correct, with one warning naming the folder and what to do."""
import logging
import os

import pytest

from torch_llmbackend.store.kernels import KernelStore

from .folders import cannot_write
from .models import MLP
from .test_backend import compile_and_compare

OPTIONS = {"target": "triton", "fallback": "eager"}


def compile_with_warnings(caplog, times=2):
    """Compile MLP (forward and backward) `times` times; the rows of the last compile."""
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        for _ in range(times):
            rows = compile_and_compare(MLP(), OPTIONS)
    assert rows and all(r["source"] == "fallback" for r in rows if r["subgraph"] is not None)
    return rows


def store_warnings(caplog):
    return [r.getMessage() for r in caplog.records if "kernel store" in r.getMessage()]


def test_a_read_only_cache_folder_is_read_and_the_compile_goes_on(cache_dir, caplog):
    with KernelStore(cache_dir):
        pass
    with cannot_write(cache_dir):
        rows = compile_with_warnings(caplog)
    (warning,) = store_warnings(caplog)  # once, for two compiles of two graphs each
    assert "opened read-only" in warning and cache_dir in warning
    assert all("not queued (the kernel store is read-only)" in r["reason"] for r in rows if r["subgraph"] is not None)


def test_a_corrupt_cache_db_is_named_and_the_compile_goes_on(cache_dir, caplog):
    with KernelStore(cache_dir):
        pass
    db = os.path.join(cache_dir, "kernels", "cache.db")
    with open(db, "wb") as f:
        f.write(b"this is not an SQLite database" * 100)
    compile_with_warnings(caplog)
    (warning,) = store_warnings(caplog)
    assert f"move {db} away" in warning and "goes on without a kernel store" in warning


def test_a_cache_path_that_is_a_file_is_named_and_the_compile_goes_on(cache_dir, caplog):
    with open(cache_dir, "w") as f:
        f.write("not a folder")
    compile_with_warnings(caplog)
    (warning,) = store_warnings(caplog)
    assert cache_dir in warning and "is not a folder" in warning


@pytest.mark.parametrize("bits", [0o777, 0o770])
def test_a_cache_folder_others_can_write_is_left_alone_and_the_compile_goes_on(cache_dir, caplog, bits):
    os.makedirs(cache_dir)
    os.chmod(cache_dir, bits)
    compile_with_warnings(caplog)
    (warning,) = store_warnings(caplog)
    assert f"chmod go-w {cache_dir}" in warning
    assert os.listdir(cache_dir) == []  # nothing read from it, nothing written to it
