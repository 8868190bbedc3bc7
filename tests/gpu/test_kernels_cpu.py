"""Our subgraph kernels, checked on the CPU as far as a CPU can: each one's problem is the
subgraph the backend builds for its PyTorch function, it passes the static checks of its target,
Triton kernels match the reference in Triton's interpreter on tiny shapes, and CUDA sources
compile with NVRTC for sm_90 (where NVRTC is installed). The GPU runs are test_kernels_gpu.py."""
import ast
import os

import pytest
import torch

from tests.graphs import problems_of
from tests.gpu.cases import CASES, CUDA_CASES, TRITON_CASES
from torch_llmbackend.evaluate.static_checks import check_candidate
from torch_llmbackend.targets import get_target
from torch_llmbackend.targets.cuda_loader import compile_cuda, toolchain_status


def _inputs_of(problem, seed=1):
    """Fresh inputs in the subgraph's own order (first use), which need not be the function's."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s.shape, generator=g).to(getattr(torch, s.dtype)) for s in problem.inputs]


def _reference(problem):
    namespace = {}
    exec(compile(problem.reference_source, "<reference>", "exec"), namespace)  # trusted: rendered by us
    return namespace["Model"]()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_function_makes_one_subgraph(case):
    (problem,) = problems_of(case.fn, *case.inputs("cpu"), target=case.target)
    assert len(problem.inputs) == len(case.cpu_shapes) and len(problem.outputs) == 1


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_kernel_module_passes_the_static_checks(case):
    violations = check_candidate(case.source, get_target(case.target).allowed_imports)
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1", reason="needs Triton's interpreter (TRITON_INTERPRET=1)")
@pytest.mark.parametrize("case", TRITON_CASES, ids=lambda c: c.name)
def test_triton_kernel_matches_the_reference_in_the_interpreter(case, tmp_path):
    (problem,) = problems_of(case.fn, *case.inputs("cpu"), target=case.target)
    inputs = _inputs_of(problem)
    expected = _reference(problem)(*inputs)
    module = get_target("triton").load(case.source, str(tmp_path))
    got = module.ModelNew()(*inputs)
    tol = 1e-4 if expected.dtype == torch.float32 else 1e-2
    torch.testing.assert_close(got, expected, rtol=tol, atol=tol)
    assert got.shape == expected.shape and got.stride() == expected.stride() and got.dtype == expected.dtype


@pytest.mark.skipif(not toolchain_status()[0], reason="NVRTC (cuda-python or CuPy) is not installed")
@pytest.mark.parametrize("case", CUDA_CASES, ids=lambda c: c.name)
def test_cuda_source_compiles_for_hopper(case, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMBACKEND_CACHE_DIR", str(tmp_path))
    tree = ast.parse(case.source)
    (src,) = [n.value.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "CUDA_SRC"]
    built = compile_cuda(src, "sm_90")
    assert built.cubin[:4] == b"\x7fELF"
    assert "warning" not in built.log
