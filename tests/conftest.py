"""Shared fixtures. Without a GPU, Triton kernels run in the interpreter on CPU tensors, so
TRITON_INTERPRET must be set before triton is first imported anywhere in the test process (it is
inherited by worker processes). With a GPU, Triton compiles for real and the GPU tests run."""
import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
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


@pytest.fixture
def llm_server():
    """A real chat-completions server on 127.0.0.1 answering from `server.script`."""
    from tests.agent.llm_server import ScriptedLLMServer

    server = ScriptedLLMServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True, scope="session")
def store_secret(tmp_path_factory):
    """The kernel store's signing secret for this test run, so that no test creates one in the
    real ~/.config (worker processes and CLI subprocesses inherit the variable)."""
    path = str(tmp_path_factory.mktemp("secret") / "secret")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLMBACKEND_SECRET_FILE", path)
        yield path
