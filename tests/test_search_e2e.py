"""The whole loop through torch.compile: a cache miss in search mode asks the (scripted) LLM, the
verified winner is stored, and a fresh process compiling the same model hits the cache and makes
no request at all."""
import json
import os
import subprocess
import sys
import textwrap

import torch

import torch_llmbackend
from tests.agent.kernels import BROKEN, GOOD, answer


class AddRelu(torch.nn.Module):
    def forward(self, x, y):
        return torch.relu(x + y)


def options(server, cache_dir):
    return {"target": "triton", "base_url": server.base_url, "model": "scripted", "cache_dir": cache_dir,
            "fallback": "eager", "prefer": "kernel", "baselines": "eager", "max_rounds": 2,
            "use_knowledge": False, "progress": False, "request_timeout_s": 30.0}


FRESH_PROCESS = textwrap.dedent('''
    import json, sys, torch, torch_llmbackend
    class AddRelu(torch.nn.Module):
        def forward(self, x, y):
            return torch.relu(x + y)
    opts = json.loads(sys.argv[1])
    x, y = torch.randn(4, 40), torch.randn(4, 40)
    with torch.no_grad():
        out = torch.compile(AddRelu(), backend="llm", options=opts)(x, y)
    assert torch.equal(out, torch.relu(x + y))
    print(json.dumps(torch_llmbackend.report()))
''')


def test_a_miss_is_searched_stored_and_then_hit_in_a_fresh_process(llm_server, cache_dir):
    llm_server.add(answer(BROKEN), answer(GOOD))
    opts = options(llm_server, cache_dir)
    x, y = torch.randn(4, 40), torch.randn(4, 40)
    with torch.no_grad():
        out = torch.compile(AddRelu(), backend="llm", options=opts)(x, y)
    torch.testing.assert_close(out, torch.relu(x + y))
    (row,) = torch_llmbackend.report()
    assert row["source"] == "llm" and row["runs"] == "kernel" and row["verified"]
    assert row["usage"]["requests"] == 2 and row["usage"]["total_tokens"] > 0
    assert "relu_that_does_not_exist" in llm_server.prompts()[1]  # the build error was fed back
    requests_before = len(llm_server.requests)

    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-c", FRESH_PROCESS, json.dumps(opts)], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (fresh,) = json.loads(proc.stdout.strip().splitlines()[-1])
    assert fresh["source"] == "cache" and fresh["runs"] == "kernel"
    assert fresh["reason"] == "hit in the cache"  # verified when stored: no second verification here
    assert len(llm_server.requests) == requests_before  # zero requests from the fresh process
