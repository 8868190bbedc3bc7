"""Collect this directory's bench_*.py files, so that `pytest bench/gemmini` (and `pytest
bench`) run them without naming each file."""
import pytest


def pytest_collect_file(file_path, parent):
    if file_path.name.startswith("bench_") and file_path.suffix == ".py":
        return pytest.Module.from_parent(parent, path=file_path)
    return None
