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
            "fallback": "eager"}  # no Inductor compile for the ops left in PyTorch: seconds on a CPU


@pytest.fixture(autouse=True)
def cycle_baselines_only(monkeypatch):
    """The backend's evaluator also times eager and Inductor on the host; for a target timed in
    simulated cycles those microseconds compare with nothing, and compiling Inductor in the
    worker costs ~30 s on a CPU. Until the backend skips them for cycle-timed targets, the
    tests build the evaluator with the library baseline only."""
    from torch_llmbackend import backend
    from torch_llmbackend.evaluate import Evaluator

    def evaluator(self):
        if self._evaluator is None:
            self._evaluator = Evaluator(self.opts, baseline_names=())
        return self._evaluator

    monkeypatch.setattr(backend.GraphCompiler, "evaluator", evaluator)
