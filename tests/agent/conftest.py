import os

# Before anything imports triton: candidates in these tests run on CPU tensors in the interpreter.
os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402

from tests.agent.llm_server import ScriptedLLMServer  # noqa: E402


@pytest.fixture
def llm_server():
    """A real chat-completions server on 127.0.0.1 answering from `server.script`."""
    server = ScriptedLLMServer().start()
    yield server
    server.stop()
