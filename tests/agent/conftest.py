import os

# Before anything imports triton: candidates in these tests run on CPU tensors in the interpreter.
os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def evaluator():
    """The real evaluator (worker process, static checks, verification, timing), shared by the
    tests that need it: starting a worker and importing triton costs seconds. The Inductor
    baseline is left out because compiling it costs seconds more on a CPU."""
    from torch_llmbackend.evaluate import Evaluator
    from torch_llmbackend.options import Options

    ev = Evaluator(Options(worker_timeout_s=120.0), baseline_names=("eager",))
    yield ev
    ev.close()
