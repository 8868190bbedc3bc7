"""Models nobody here wrote (bench/models: torchvision, transformers, timm, from configs with
random weights) under eager, Inductor and backend="llm" (offline, the shipped bundle), in one
run: inference (eval, no_grad) and, for the models marked trainable, a training step (forward,
loss, backward, SGD step). Outputs (and gradients) are checked against eager on the same
weights; the first call's seconds (the compile), the time per call and the peak memory go
into extra_info.

    pytest bench/bench_models.py --benchmark-enable --benchmark-json bench/results/DATE-models.json
    (-k hf_ for one family; --bench-models-dtype bfloat16 for bf16)

A second run with the same --bench-llm-cache is a second process on a warm machine: its
first_call_s is the cached compile (llm's plans, Inductor's own caches).
"""
from __future__ import annotations

import time

import pytest
import torch

from bench.bench_problems import check_outputs, compiler_for, llm_decisions, synchronizer, timed_step
from bench.models import MODELS, available

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="times CUDA models")]

BACKENDS = ("eager", "inductor", "llm")
CALLS = 5
CASES = [(name, mode, backend) for name, spec in MODELS.items()
         for mode in (("infer", "train") if spec.trainable else ("infer",)) for backend in BACKENDS]


def _loss(out) -> torch.Tensor:
    first = out[0] if isinstance(out, (tuple, list)) else out
    return first.float().square().mean()


def _train_step(model, optimizer):
    def step(*inputs):
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(model(*inputs))
        loss.backward()
        optimizer.step()
        return loss
    return step


@pytest.mark.parametrize("name,mode,backend", CASES, ids=[f"{n}-{m}-{b}" for n, m, b in CASES])
def test_model(benchmark, bench_settings, name, mode, backend):
    if name not in available():
        pytest.skip(f"{MODELS[name].library} is not installed")
    spec = MODELS[name]
    device, sync = "cuda", synchronizer("cuda")
    dtype = torch.float32
    torch._dynamo.reset()
    model, inputs = spec.build(device, dtype)
    twin, _ = spec.build(device, dtype)  # same seed: the same weights
    fn = compiler_for(backend, bench_settings)(model)
    benchmark.group = f"{name}-{mode}"
    benchmark.extra_info.update(model=name, library=spec.library, mode=mode, backend=backend, dtype="float32",
                                device=torch.cuda.get_device_name(), batch=spec.batch)
    torch.cuda.reset_peak_memory_stats()
    if mode == "infer":
        with torch.no_grad():
            expected = twin(*inputs)
            sync()
            start = time.perf_counter()
            got = fn(*inputs)
            sync()
            first_s = time.perf_counter() - start
            check = check_outputs(got, expected)
            step = timed_step(fn, inputs, CALLS, sync)
            benchmark.pedantic(step, iterations=CALLS, rounds=bench_settings.rounds, warmup_rounds=1)
    else:
        model.train(), twin.train()
        _loss(twin(*inputs)).backward()
        sync()
        start = time.perf_counter()
        _loss(fn(*inputs)).backward()
        sync()
        first_s = time.perf_counter() - start
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        want = [p.grad for p in twin.parameters() if p.grad is not None]
        check = check_outputs(tuple(grads), tuple(want))
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
        step = _train_step(fn, optimizer)
        benchmark.pedantic(timed_step(step, inputs, CALLS, sync), iterations=CALLS, rounds=bench_settings.rounds,
                           warmup_rounds=1)
    benchmark.extra_info.update(first_call_s=first_s, correct=check.correct, max_abs_error=check.max_abs_error,
                                peak_memory_mb=torch.cuda.max_memory_allocated() / 2**20)
    if backend == "llm":
        benchmark.extra_info["llm_decisions"] = llm_decisions()[:40]
    torch._dynamo.reset()
    assert check.correct, f"{backend} {mode} of {name} differs from eager: {check.reason}"
