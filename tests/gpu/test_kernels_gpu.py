"""Our subgraph kernels on the GPU, through the real path: the backend's graph code builds each
Problem, the Evaluator builds, verifies and times the kernel against eager and Inductor in its
worker, and the backend, given the kernel in its store, runs whichever of kernel / baselines is
fastest. Run with `-s` to see the timing table and profiles."""
import pytest
import torch

from tests.graphs import problems_of
from tests.gpu.cases import CASES, case_named
from tests.gpu.seeding import seed_and_compile
from torch_llmbackend.evaluate.gpu_profile import profile_summary
from torch_llmbackend.targets import get_target

pytestmark = pytest.mark.gpu


def _median(timings, name):
    t = timings.get(name) or {}
    return t.get("median")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_kernel_is_verified_and_timed_against_eager_and_inductor(case, evaluator):
    (problem,) = problems_of(case.fn, *case.inputs("cuda"), target=case.target)
    ev = evaluator.evaluate(problem, case.source)
    assert ev.ok, f"{ev.stage}: {ev.reason}"
    kernel, eager, inductor = (_median(ev.timings, n) for n in ("candidate", "eager", "inductor"))
    assert kernel and eager and inductor, ev.timings
    print(f"\n[kernel] {case.name:18} {case.target:6} {problem.inputs[0].dtype:8} kernel {kernel:8.1f} us | eager {eager:8.1f} us "
          f"| inductor {inductor:8.1f} us | x{eager / kernel:.2f} vs eager, x{inductor / kernel:.2f} vs inductor "
          f"| {ev.timings.get('device')}")
    if ev.profile:
        print(ev.profile)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_backend_runs_the_fastest_of_kernel_eager_and_inductor(case, cache_dir):
    inputs = case.inputs("cuda", seed=3)
    _, out, rows, seeded = seed_and_compile(case.fn, inputs, case.target, cache_dir, lambda p: case.source)
    assert len(seeded) == 1
    (row,) = [r for r in rows if r["key"] == seeded[0]]
    assert row["verified"], row["reason"]
    kernel, eager, inductor = row["kernel_time"], row["eager_time"], row["inductor_time"]
    faster = kernel < min(eager, inductor)
    assert (row["runs"] == "kernel") == faster, row
    expected = case.fn(*inputs)
    tol = 1e-4 if expected.dtype == torch.float32 else 1e-2
    torch.testing.assert_close(out, expected, rtol=tol, atol=tol)
    print(f"\n[choice] {case.name:18} runs {row['runs']:30} kernel {kernel:.1f} us, eager {eager:.1f} us, inductor {inductor:.1f} us")


@pytest.mark.parametrize("name", ["cu_softmax", "tri_layernorm"])
def test_profile_summary_says_where_the_time_goes(name, tmp_path):
    case = case_named(name)
    (problem,) = problems_of(case.fn, *case.inputs("cuda"), target=case.target)
    module = get_target(case.target).load(case.source, str(tmp_path))
    g = torch.Generator(device="cuda").manual_seed(0)
    inputs = [torch.randn(s.shape, generator=g, device="cuda").to(getattr(torch, s.dtype)) for s in problem.inputs]
    text = profile_summary(module.ModelNew(), inputs, problem)
    print(f"\n[profile] {name}\n{text}")
    lines = text.splitlines()
    assert lines[0].startswith("profile (") and len(lines) <= 12
    assert "roofline (H100" in text or "roofline (H200" in text or "no peak figures" in text
    assert ("softmax_rows" if name == "cu_softmax" else "layernorm_rows") in text
