"""A kernel's source is checked again each time it is loaded into the caller's process: a store
entry or bundle rewritten after verification is refused by name, and none of it runs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from torch_llmbackend.targets import get_target
from torch_llmbackend.targets.base import RefusedSource

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "cache" / "kernels"


def shipped(target: str) -> str:
    return sorted(SHIPPED.glob(f"*_{target}.py"))[0].read_text()


@pytest.mark.parametrize(
    "payload, named",
    [
        # issue 17: a rewritten entry with a top-level open() ran in the caller
        ("open({marker!r}, 'w').close()", "`open` is not allowed"),
        # issue 17: after `_t = torch`, `_t.os.system(...)` was never checked
        ("_t = torch\n_t.os.system('touch {marker}')", "`torch` is a module"),
        ("torch.serialization.save(torch.zeros(1), {marker!r})", "torch.serialization.save"),
    ],
)
def test_a_tampered_triton_source_is_refused_by_load_and_none_of_it_runs(tmp_path, payload, named):
    marker = str(tmp_path / "ran")
    tampered = shipped("triton") + "\n" + payload.format(marker=marker) + "\n"
    workdir = tmp_path / "kernels"
    with pytest.raises(RefusedSource, match="refused to load a triton kernel") as refused:
        get_target("triton").load(tampered, str(workdir))
    assert named in str(refused.value)
    assert not os.path.exists(marker)
    assert not workdir.exists()  # not even written to disk for import


def test_the_untampered_source_loads(tmp_path):
    module = get_target("triton").load(shipped("triton"), str(tmp_path))
    assert hasattr(module, "ModelNew")


def test_a_tampered_gemmini_source_is_refused_by_load(tmp_path):
    marker = str(tmp_path / "ran")
    source = shipped("gemmini").replace('#include "include/gemmini.h"', f'#include "include/gemmini.h"\n'
                                        f'__attribute__((constructor)) static void own(void) {{ system("touch {marker}"); }}', 1)
    with pytest.raises(RefusedSource, match="`system` reaches the operating system"):
        get_target("gemmini").load(source, str(tmp_path / "kernels"))
    assert not os.path.exists(marker)


def test_gemmini_kernel_refuses_c_with_system_calls_before_building(tmp_path):
    """The same check where the C is built, so a module that skipped the Python checks (the
    worker's own path) still cannot get host C with system calls compiled and loaded."""
    from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

    marker = str(tmp_path / "ran")
    src = f'#include "include/gemmini.h"\nvoid kernel(elem_t *c) {{ system("touch {marker}"); }}\n'
    with pytest.raises(ValueError, match="refused to build the Gemmini C source.*`system`"):
        GemminiKernel(src, "kernel")
    assert not os.path.exists(marker)


def test_a_cuda_source_with_host_code_is_refused_by_load(tmp_path):
    source = shipped("cuda").replace('SOURCE = r"""', 'SOURCE = r"""\nint main() { return 0; }', 1)
    with pytest.raises(RefusedSource, match="host function `main`"):
        get_target("cuda").load(source, str(tmp_path))


def test_libraries_allowed_by_the_user_are_allowed_at_load_too(tmp_path):
    source = shipped("cuda").replace('SOURCE = r"""', 'SOURCE = r"""\n#include <cublas_v2.h>', 1)
    with pytest.raises(RefusedSource, match="cublas"):
        get_target("cuda").load(source, str(tmp_path))
    module = get_target("cuda").load(source, str(tmp_path), allow_libraries=True)  # importing builds nothing yet
    assert "cublas_v2.h" in module.SOURCE


def test_a_tampered_store_entry_falls_back_visibly_and_none_of_it_runs(cache_dir, tmp_path, caplog):
    """Issue 17: a rewritten cache entry with a top-level open() ran in the caller. Now the hit
    re-runs the static checks before the module is imported, and the subgraph falls back."""
    import logging

    import torch

    import torch_llmbackend
    from torch_llmbackend.machine import this_machine
    from torch_llmbackend.store.kernels import KernelEntry, KernelStore

    def fn(x, y):
        return torch.relu(x + y)

    x, y = torch.randn(4, 100), torch.randn(4, 100)
    options = {"target": "triton", "mode": "offline", "fallback": "eager", "prefer": "kernel", "log_table": False}
    torch.compile(fn, backend="llm", options=options)(x, y)  # the miss is queued
    marker = tmp_path / "ran"
    machine = this_machine(get_target("triton"), "cpu")
    with KernelStore(cache_dir) as store:
        (problem,) = store.pending()
        good = (ROOT / "tests" / "evaluate" / "corpus" / "good" / "two_kernels.py").read_text()
        tampered = good + f"\nopen({str(marker)!r}, 'w').close()\n"
        store.put(KernelEntry(problem.key, problem.target, problem.signature, tampered, provenance={"author": "attacker"},
                              verified_on=[machine], problem=problem.to_json()))
    torch._dynamo.reset()
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        out = torch.compile(fn, backend="llm", options=options)(x, y)
    torch.testing.assert_close(out, fn(x, y))
    assert not marker.exists()
    (row,) = [r for r in torch_llmbackend.report() if r["subgraph"] is not None]
    assert row["source"] == "cache" and row["runs"] == "eager" and "refused at load" in row["reason"]
    assert any("`open` is not allowed" in r.getMessage() for r in caplog.records)
