"""Compile time of whole models with target="gemmini" (offline, on the CPU) against Inductor's.

    pytest bench/gemmini/bench_gemmini_models.py --benchmark-enable -s

Three model shapes a new user tries first (issue 23): LeNet-5 at batch 4096, an MLP with a
16384-wide input, and a shallow, very wide MLP. Per model, in this order and in one process:
  inductor   torch.compile(model, backend="inductor"): its first call (compile + run), with
             Inductor's caches in a fresh directory;
  gemmini    torch.compile(model, backend="llm", target="gemmini", offline): its first call, with
             a fresh kernel cache and fresh gemmini_runtime kernel builds (the simulator core is
             built once beforehand, as an install does), so it pays Dynamo, the library lowering,
             the C builds, the verification in a worker and the first forward on the simulator;
  simulated  the compiled model's second call: one full-size simulated run.
The goal is gemmini <= 1.5 x (inductor + simulated). The gemmini figure includes the user's
first forward, itself a full-size simulated run, so extra_info also gives the compile alone
(gemmini - simulated) against the same budget. Timings are wall-clock seconds of single runs on a shared machine: read
them as figures, never as a pass/fail test.
"""
from __future__ import annotations

import os
import tempfile
import time

import pytest
import torch
from torch import nn

# fresh caches before Inductor or gemmini_runtime are imported: a cold compile is what is timed
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="bench-inductor-"))
os.environ.setdefault("GEMMINI_RUNTIME_CACHE", tempfile.mkdtemp(prefix="bench-gemmini-"))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.flatten(torch.max_pool2d(torch.relu(self.c2(x)), 2), 1)
        return self.f3(torch.relu(self.f2(torch.relu(self.f1(x)))))


def mlp(*widths: int) -> nn.Module:
    layers: list[nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


MODELS = {
    "lenet5-b4096": (LeNet5, (4096, 1, 32, 32)),
    "mlp-16384-input-b256": (lambda: mlp(16384, 256, 10), (256, 16384)),
    "wide-mlp-65536-b64": (lambda: mlp(512, 65536, 10), (64, 512)),
}


@pytest.fixture(scope="module", autouse=True)
def simulator_core_built():
    from gemmini_runtime.build import config_root

    for config in ("fp32", "int8"):
        config_root(config)


def first_call(compiled, x) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    out = compiled(x)
    return time.perf_counter() - start, out


@pytest.mark.parametrize("name", list(MODELS))
def test_gemmini_compile_against_inductor(benchmark, name, tmp_path):
    make, shape = MODELS[name]
    torch.manual_seed(0)
    model, x = make().eval(), torch.randn(*shape)
    with torch.no_grad():
        want = model(x)
        torch._dynamo.reset()
        inductor_s, _ = first_call(torch.compile(model, backend="inductor"), x)
        torch._dynamo.reset()
        options = {"target": "gemmini", "mode": "offline", "cache_dir": str(tmp_path), "progress": False, "log_table": False}
        compiled = torch.compile(model, backend="llm", options=options)
        gemmini_s, got = benchmark.pedantic(first_call, args=(compiled, x), rounds=1, iterations=1)
        simulated_s, _ = first_call(compiled, x)
    from torch_llmbackend.backend import report

    rows = [r for r in report() if r["target"] == "gemmini"]
    torch.testing.assert_close(got, want, rtol=1e-3, atol=1e-3)
    budget = 1.5 * (inductor_s + simulated_s)
    benchmark.extra_info.update(
        inductor_s=round(inductor_s, 2), gemmini_s=round(gemmini_s, 2), simulated_run_s=round(simulated_s, 2),
        ratio_to_inductor_plus_run=round(gemmini_s / (inductor_s + simulated_s), 3), within_budget=gemmini_s <= budget,
        compile_only_ratio=round((gemmini_s - simulated_s) / (inductor_s + simulated_s), 3),
        runs=[r["runs"] for r in rows], check=[r["check"] for r in rows],
        cycles=[r["kernel_time"] for r in rows], cores=os.cpu_count())
    print(f"\n{name}: gemmini compile {gemmini_s:.1f} s, Inductor {inductor_s:.1f} s, one simulated run {simulated_s:.1f} s: "
          f"{gemmini_s / (inductor_s + simulated_s):.2f}x (Inductor + run), the compile alone "
          f"{(gemmini_s - simulated_s) / (inductor_s + simulated_s):.2f}x; budget 1.5x; runs {[r['runs'] for r in rows]}, "
          f"check {[r['check'] for r in rows]}")
