"""The benchmark problems: one KernelBench-format module per file under level1..level3.

Each file defines `Model(nn.Module)` built from `get_init_inputs()`, whose `forward` takes
`get_inputs()`, at fixed sizes chosen for an H100. Sizes are never scaled down: instead
`footprint()` runs a problem on the meta device (nothing is allocated) to learn its memory and
FLOPs, and smoke tests pick the smallest problems with `smallest_problems()`.

    from bench.problems import all_problems, load_problem
    for problem in all_problems(level=1):
        model, inputs = problem.instantiate("cuda", seed=0)
        out = model(*inputs)
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, NamedTuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

PROBLEMS_DIR = Path(__file__).resolve().parent
LEVELS = (1, 2, 3)
_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")


class ProblemError(ValueError):
    """A problem file that does not follow the format (named in the message)."""


@dataclass(frozen=True)
class ProblemMeta:
    id: str  # "level1/01_matmul_square": unique, sorts in suite order, used as benchmark group
    level: int
    name: str  # "01_matmul_square"
    path: str
    doc: str  # the module's one-line docstring
    dtype: torch.dtype  # declared by the name: "fp16" or "bf16" in it, else float32


class LoadedProblem(NamedTuple):
    Model: type
    get_inputs: Callable[[], list]
    get_init_inputs: Callable[[], list]
    meta: ProblemMeta

    def instantiate(self, device: str | torch.device = "cpu", seed: int = 0) -> tuple[torch.nn.Module, list]:
        """The model (in eval mode) and its inputs, created directly on `device`.

        Seeded, so eager and compiled variants built with the same seed see identical weights
        and inputs on a given device."""
        torch.manual_seed(seed)
        with torch.device(device):
            model = self.Model(*self.get_init_inputs())
            inputs = list(self.get_inputs())
        return model.eval(), inputs


def declared_dtype(name: str) -> torch.dtype:
    if "bf16" in name:
        return torch.bfloat16
    if "fp16" in name:
        return torch.float16
    return torch.float32


def load_problem(path: str | Path) -> LoadedProblem:
    """Import one problem file; raises ProblemError when it lacks part of the format."""
    path = Path(path).resolve()
    level_dir = path.parent.name
    if not (level_dir.startswith("level") and level_dir[5:].isdigit()):
        raise ProblemError(f"{path}: a problem lives in a levelN folder")
    name = path.stem
    if not _NAME.match(name):
        raise ProblemError(f"{path}: name must look like 07_lower_snake_case")
    spec = importlib.util.spec_from_file_location(f"bench_problem_{level_dir}_{name}", path)
    if spec is None or spec.loader is None:
        raise ProblemError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = [n for n in ("Model", "get_inputs", "get_init_inputs") if not hasattr(module, n)]
    if missing:
        raise ProblemError(f"{path}: missing {', '.join(missing)}")
    doc = (module.__doc__ or "").strip()
    if not doc or "\n" in doc:
        raise ProblemError(f"{path}: needs a one-line module docstring")
    meta = ProblemMeta(
        id=f"{level_dir}/{name}",
        level=int(level_dir[5:]),
        name=name,
        path=str(path),
        doc=doc,
        dtype=declared_dtype(name),
    )
    return LoadedProblem(module.Model, module.get_inputs, module.get_init_inputs, meta)


@lru_cache(maxsize=None)
def _all_problems() -> tuple[LoadedProblem, ...]:
    paths = sorted(p for level in LEVELS for p in (PROBLEMS_DIR / f"level{level}").glob("[0-9]*.py"))
    return tuple(load_problem(p) for p in paths)


def all_problems(level: int | None = None) -> list[LoadedProblem]:
    """Every problem in suite order (level, then number), or those of one level."""
    return [p for p in _all_problems() if level is None or p.meta.level == level]


def get_problem(problem_id: str) -> LoadedProblem:
    for p in _all_problems():
        if p.meta.id == problem_id:
            return p
    raise KeyError(f"no benchmark problem {problem_id!r}")


@dataclass(frozen=True)
class Footprint:
    input_bytes: int
    param_bytes: int  # parameters and buffers
    output_bytes: int
    produced_bytes: int  # every tensor the ops create, outputs included: a bound on the peak
    flops: int  # matmuls and convolutions, as torch's FlopCounterMode counts them
    output_shapes: tuple[tuple[int, ...], ...]
    output_dtypes: tuple[torch.dtype, ...]

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.param_bytes + self.produced_bytes


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


class _ProducedBytes(TorchDispatchMode):
    """Adds up the bytes of every new tensor an op returns (views and in-place results share
    memory with an input, so they are not counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not any(r.alias_info is not None for r in func._schema.returns):
            self.total += sum(_nbytes(t) for t in _tensors(out))
        return out


@lru_cache(maxsize=None)
def footprint(problem_id: str) -> Footprint:
    """Sizes and FLOPs of one forward pass, measured on the meta device (allocates nothing)."""
    problem = get_problem(problem_id)
    model, inputs = problem.instantiate("meta")
    params = list(model.parameters()) + list(model.buffers())
    produced = _ProducedBytes()
    flop_counter = FlopCounterMode(display=False)
    with torch.no_grad(), flop_counter, produced:
        out = model(*inputs)
    outs = _tensors(out)
    return Footprint(
        input_bytes=sum(_nbytes(t) for t in _tensors(inputs)),
        param_bytes=sum(_nbytes(t) for t in params),
        output_bytes=sum(_nbytes(t) for t in outs),
        produced_bytes=produced.total,
        flops=int(flop_counter.get_total_flops()),
        output_shapes=tuple(tuple(t.shape) for t in outs),
        output_dtypes=tuple(t.dtype for t in outs),
    )


def smallest_problems(n: int = 3, level: int = 1) -> list[LoadedProblem]:
    """The n problems of a level with the least memory and work: cheap enough for a CPU."""
    ranked = sorted(all_problems(level), key=lambda p: (footprint(p.meta.id).total_bytes, footprint(p.meta.id).flops))
    return ranked[:n]
