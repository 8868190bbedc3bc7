"""Problems and the shared evaluator for the trust-boundary tests.

The problems are tiny fp32 graphs on CPU tensors; candidate kernels are real Triton kernels run by
the Triton interpreter inside the worker (the worker sets TRITON_INTERPRET=1 itself). One
Evaluator (one warm worker plus a spare) serves the whole session.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from torch_llmbackend.options import Options
from torch_llmbackend.records import Problem, TensorSpec

CORPUS = Path(__file__).parent / "corpus"


def _problem(name: str, forward: str, inputs: list[TensorSpec], outputs: list[TensorSpec], ops: tuple[str, ...], target: str = "triton") -> Problem:
    args = ", ".join(f"x{i}" for i in range(len(inputs))) if len(inputs) > 2 else ", ".join("xy"[: len(inputs)])
    make = ", ".join(f"torch.empty_strided({s.shape}, {s.stride})" for s in inputs)
    source = (
        "import torch\n\n\nclass Model(torch.nn.Module):\n"
        f"    def forward(self, {args}):\n        return {forward}\n\n\n"
        f"def get_inputs():\n    return [t.normal_() for t in ({make},)]\n\n\n"
        "def get_init_inputs():\n    return []\n"
    )
    numel = sum(s.numel for s in (*inputs, *outputs))
    return Problem(key=f"test-{name}", signature=name, target=target, ops=ops, inputs=tuple(inputs), outputs=tuple(outputs),
                   reference_source=source, flops=outputs[0].numel * len(ops), bytes_moved=4 * numel)


ROW = TensorSpec((4, 100), (100, 1), "float32", "cpu")
COL = TensorSpec((100, 4), (1, 100), "float32", "cpu")
CUDA_ROW = TensorSpec((4, 100), (100, 1), "float32", "cuda")

PROBLEMS = {
    # 400 elements: not a multiple of the 128-element blocks the kernels use
    "add_relu": _problem("add_relu", "(x + y).clamp(min=0)", [ROW, ROW], [ROW], ("aten.add.Tensor", "aten.clamp.default")),
    # the reference's output is a transposed view: strides (1, 100)
    "scale_t": _problem("scale_t", "(x * 2).t()", [ROW], [COL], ("aten.mul.Tensor", "aten.t.default")),
    # a reduction over all blocks, then an elementwise pass
    "center": _problem("center", "x - x.mean()", [ROW], [ROW], ("aten.mean.default", "aten.sub.Tensor")),
    "sum_prod": _problem("sum_prod", "x + y, x * y", [ROW, ROW], [ROW, ROW], ("aten.add.Tensor", "aten.mul.Tensor")),
    # C candidates: host C for Gemmini's simulator, CUDA C++ for NVRTC (refused before any build)
    "gemmini_add": _problem("gemmini_add", "x + y", [ROW, ROW], [ROW], ("aten.add.Tensor",), target="gemmini"),
    "cuda_add_relu": _problem("cuda_add_relu", "(x + y).clamp(min=0)", [CUDA_ROW, CUDA_ROW], [CUDA_ROW],
                              ("aten.add.Tensor", "aten.clamp.default"), target="cuda"),
}


@dataclass(frozen=True)
class Candidate:
    """One corpus file: its source and what its header promises."""

    path: Path
    source: str
    problem: str
    expect: tuple[str, ...]  # stages that count as the right rejection ("ok" for the good corpus)
    reason: str  # a regex the Evaluation's reason must match
    unchecked_expect: tuple[str, ...]  # stage when the static checks are skipped, if tested
    unchecked_reason: str
    marker: str  # a path or command line the candidate tries to create; must not exist after

    @property
    def name(self) -> str:
        return self.path.stem


def read_candidate(path: Path) -> Candidate:
    source = path.read_text()
    header = dict(re.findall(r"^# ([a-z-]+): (.*)$", source, re.M))
    assert "expect" in header and "problem" in header, f"{path.name}: the header needs problem: and expect:"
    split = lambda v: tuple(s.strip() for s in v.split("|")) if v else ()  # noqa: E731
    return Candidate(path, source, header["problem"], split(header["expect"]), header.get("reason", ""),
                     split(header.get("unchecked-expect", "")), header.get("unchecked-reason", ""), header.get("marker", ""))


def corpus(kind: str) -> list[Candidate]:
    return [read_candidate(p) for p in sorted((CORPUS / kind).glob("*.py"))]


def test_options(**overrides) -> Options:
    # 8 GiB of address space: a CUDA build of torch maps several GiB before any work, and
    # Inductor's compile needs room on top
    values = {"worker_timeout_s": 60.0, "worker_memory_mb": 8192}
    values.update(overrides)
    return Options(**values)


test_options.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def evaluator():
    from torch_llmbackend.evaluate import Evaluator

    ev = Evaluator(test_options(), baseline_names=("eager",))
    ev.warm_up(PROBLEMS["add_relu"])
    yield ev
    workers = [w for pool in ev._pools.values() for w in pool._idle]
    ev.close()
    # nothing left behind: no worker process, no worker directory
    assert workers and all(w.proc.poll() is not None and not os.path.exists(w.dir) for w in workers)


def process_exists(cmdline_fragment: str) -> bool:
    """Whether any process on this machine runs with `cmdline_fragment` in its command line."""
    needle = cmdline_fragment.replace(" ", "\0").encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            continue
    return False
