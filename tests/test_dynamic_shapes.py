"""Kernels that serve every shape: a dynamic graph keeps its kernel across sizes, a kernel found at
one size is proven and reused at others (in this process and the next), and a kernel that only
works at the prompt's sizes is refused. CPU, Triton interpreter, a scripted OpenAI-protocol server."""
import json
import os
import subprocess
import sys
import textwrap

import torch

import torch_llmbackend
from tests.agent.kernels import answer
from tests.test_search_e2e import AddRelu, options  # the same model and scripted-search options

# relu(x + y) for any number of elements; NaN stays NaN, as in eager's relu
GENERIC = '''\
import torch
import triton
import triton.language as tl


@triton.jit
def add_relu_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    s = tl.load(x_ptr + offsets, mask=mask) + tl.load(y_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, tl.where(s < 0, 0.0, s), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        out = torch.empty_like(x)
        n = x.numel()
        add_relu_kernel[(triton.cdiv(n, 1024),)](x, y, out, n, BLOCK=1024)
        return out
'''

# The same kernel with the prompt's size baked in: right at 3000 elements only.
HARDCODED = GENERIC.replace("n = x.numel()", "n = 3000").replace("triton.cdiv(n, 1024)", "3")




def test_one_compiled_model_keeps_one_kernel_across_sizes_with_no_new_requests(llm_server, cache_dir):
    llm_server.add(answer(GENERIC))
    model = torch.compile(AddRelu(), backend="llm", options={**options(llm_server, cache_dir), "max_rounds": 1})
    with torch.no_grad():
        x, y = torch.randn(3000), torch.randn(3000)
        torch.testing.assert_close(model(x, y), torch.relu(x + y))
        assert len(llm_server.requests) == 1
        for n in (5000, 7001, 12345):  # the second size makes Dynamo compile a dynamic graph
            x, y = torch.randn(n), torch.randn(n)
            torch.testing.assert_close(model(x, y), torch.relu(x + y))
    assert len(llm_server.requests) == 1
    (row,) = torch_llmbackend.report()
    assert row["source"] == "cache" and row["runs"] == "kernel" and "hit by structure" in row["reason"]
    assert "dynamic sizes: kernel in buckets" in row["reason"] and "[7] [7] kernel" in row["coverage"]
    slot = next(s for name, s in torch_llmbackend.runtime._SLOTS.items() if name.startswith("kd_"))
    assert slot.table.chosen[(13,)] and slot.table.chosen[(14,)]  # 7001 and 12345 (<= 2^13, 2^14) ran the kernel


FRESH_PROCESS = textwrap.dedent('''
    import json, sys, torch, torch_llmbackend
    class AddRelu(torch.nn.Module):
        def forward(self, x, y):
            return torch.relu(x + y)
    opts = json.loads(sys.argv[1])
    x, y = torch.randn(4096), torch.randn(4096)
    with torch.no_grad():
        out = torch.compile(AddRelu(), backend="llm", options=opts)(x, y)
    assert torch.equal(out, torch.relu(x + y))
    print(json.dumps(torch_llmbackend.report()))
''')


def _fresh_process(opts) -> dict:
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-c", FRESH_PROCESS, json.dumps(opts)], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = json.loads(proc.stdout.strip().splitlines()[-1])
    return row


def test_a_second_process_at_an_unseen_size_reuses_the_kernel_with_no_request(llm_server, cache_dir):
    llm_server.add(answer(GENERIC))
    opts = {**options(llm_server, cache_dir), "max_rounds": 1}
    with torch.no_grad():
        x, y = torch.randn(3000), torch.randn(3000)
        torch.compile(AddRelu(), backend="llm", options=opts)(x, y)
    assert len(llm_server.requests) == 1
    row = _fresh_process(opts)  # 4096 elements: never seen
    assert row["source"] == "cache" and row["runs"] == "kernel", row
    assert "hit by structure" in row["reason"] and row["sizes"] == "[4096] [4096]"
    again = _fresh_process(opts)  # the proof was stored: an exact hit, no worker
    assert again["reason"] == "hit in the cache"
    assert len(llm_server.requests) == 1


def test_a_kernel_that_hard_codes_the_prompt_size_is_refused_and_told_why(llm_server, cache_dir):
    llm_server.add(answer(HARDCODED), answer(GENERIC))
    with torch.no_grad():
        x, y = torch.randn(3000), torch.randn(3000)
        out = torch.compile(AddRelu(), backend="llm", options=options(llm_server, cache_dir))(x, y)
    torch.testing.assert_close(out, torch.relu(x + y))
    (row,) = torch_llmbackend.report()
    assert row["source"] == "llm" and row["runs"] == "kernel"
    feedback = llm_server.prompts()[1]
    assert "correct at the prompt's sizes [3000] [3000] but not at [3001] [3001]" in feedback
    assert "must serve every size" in feedback


def test_a_training_loop_with_a_short_last_batch_stays_right(cache_dir):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    twin = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    twin.load_state_dict(model.state_dict())
    compiled = torch.compile(model, backend="llm", options={"target": "triton", "fallback": "eager"})
    opt, opt_twin = torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(twin.parameters(), lr=0.1)
    data = torch.randn(8 + 8 + 8 + 3, 16)
    for start in range(0, len(data), 8):  # 8, 8, 8 and a last batch of 3
        x = data[start:start + 8]
        for m, o in ((compiled, opt), (twin, opt_twin)):
            o.zero_grad()
            m(x).square().mean().backward()
            o.step()
        for p, q in zip(model.parameters(), twin.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)
    rows = torch_llmbackend.report()  # the last compile: the dynamic graphs of the short batch
    assert {"forward", "backward"} <= {r["graph"] for r in rows}
    assert any(r["subgraph"] is not None for r in rows if r["graph"] == "backward")


def test_mark_dynamic_on_a_sequence_dimension(llm_server, cache_dir):
    """The sequence length is dynamic from the first call: one search, then every length is
    served by the same kernel where it was proven, and eagerly (still right) elsewhere."""
    llm_server.add(answer(GENERIC))
    model = torch.compile(AddRelu(), backend="llm", options={**options(llm_server, cache_dir), "max_rounds": 1})
    with torch.no_grad():
        for seq in (40, 96, 33):
            x, y = torch.randn(2, seq, 8), torch.randn(2, seq, 8)
            if seq == 40:
                torch._dynamo.mark_dynamic(x, 1)
                torch._dynamo.mark_dynamic(y, 1)
            torch.testing.assert_close(model(x, y), torch.relu(x + y))
    (row,) = torch_llmbackend.report()
    assert row["source"] == "llm" and row["runs"] == "kernel"
    assert "dynamic sizes: kernel in buckets" in row["reason"]
    assert len(llm_server.requests) == 1
