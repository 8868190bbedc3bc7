"""Gemmini target tests: models compiled with backend="llm" onto the simulated Gemmini.

Candidates are built with gemmini_runtime (a C compiler per kernel, cached on disk) and run on
its simulator in the evaluator's worker."""
import pytest

from tests.agent.llm_server import ScriptedLLMServer


@pytest.fixture
def llm_server():
    """A real chat-completions server on 127.0.0.1 answering from `server.script`."""
    server = ScriptedLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def gemmini_options(cache_dir):
    return {"target": "gemmini", "mode": "offline", "cache_dir": cache_dir, "log_table": False, "progress": False,
            # no Inductor compiles (the ops left in PyTorch, the Inductor baseline): seconds each on
            # a CPU, and host microseconds do not compare with Gemmini's cycles anyway
            "fallback": "eager", "baselines": "eager"}
