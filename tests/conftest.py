"""Shared fixtures. Triton kernels run in the interpreter on CPU tensors, so TRITON_INTERPRET
must be set before triton is first imported anywhere in the test process (and it is inherited
by worker processes)."""
import os

os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402
import torch  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private kernel cache for one test; no endpoint configured, so mode is offline."""
    path = str(tmp_path / "cache")
    monkeypatch.setenv("LLMBACKEND_CACHE_DIR", path)
    for var in ("LLMBACKEND_BASE_URL", "OPENAI_API_KEY", "LLMBACKEND_MODE", "LLMBACKEND_TARGET"):
        monkeypatch.delenv(var, raising=False)
    torch._dynamo.reset()
    yield path
    torch._dynamo.reset()
