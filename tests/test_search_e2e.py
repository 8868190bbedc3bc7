"""The whole loop through torch.compile: a cache miss in search mode asks the (scripted) LLM, the
verified winner is stored, and a fresh process compiling the same model hits the cache and makes
no request at all."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest
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


HELD_BACK_S = 600.0


@pytest.mark.slow
def test_processes_compiling_the_same_graph_at_once_search_it_once(llm_server, cache_dir):
    """Three processes compile the same model against one endpoint and one cache folder. The
    first to reach the search asks the LLM; its reply is held back until the other two are
    waiting on its lock. They make no request and run the winner it stored."""
    others_waiting = threading.Event()

    def held_back_reply(body):
        # generous: on a loaded machine each process takes minutes to import and trace
        assert others_waiting.wait(HELD_BACK_S), "the other processes never waited for the search"
        return answer(GOOD)

    llm_server.add(held_back_reply)
    llm_server.default = answer(GOOD)  # a second search would be answered, and counted
    opts = {**options(llm_server, cache_dir), "max_rounds": 1, "request_timeout_s": HELD_BACK_S + 60}
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.getcwd()}
    script = "import logging; logging.basicConfig(level=logging.INFO)\n" + FRESH_PROCESS
    procs = [subprocess.Popen([sys.executable, "-c", script, json.dumps(opts)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)]
    waiting, logs = set(), {p.pid: [] for p in procs}

    def watch(proc):
        for line in proc.stderr:
            logs[proc.pid].append(line)
            if "another process is searching subgraph" in line:
                waiting.add(proc.pid)
                if len(waiting) == len(procs) - 1:
                    others_waiting.set()

    watchers = [threading.Thread(target=watch, args=(p,), daemon=True) for p in procs]
    for w in watchers:
        w.start()
    try:
        for p in procs:
            p.wait(timeout=HELD_BACK_S + 300)
    finally:
        for p in procs:
            p.kill()
    for w in watchers:
        w.join(timeout=10)
    outs = [p.stdout.read() for p in procs]  # one line each: it fits the pipe while they run
    for p in procs:
        assert p.returncode == 0, "".join(logs[p.pid])[-3000:]
    rows = [json.loads(out.strip().splitlines()[-1])[0] for out in outs]
    assert len(llm_server.requests) == 1  # one search for three processes, not three
    reasons = sorted(r["reason"] for r in rows)
    assert sum("found by another process's search" in r for r in reasons) == 2, reasons
    assert all(r["runs"] == "kernel" and r["verified"] for r in rows)
