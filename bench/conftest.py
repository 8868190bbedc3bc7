"""pytest setup for the benchmark suite: command-line options, the machine record, settings.

The suite times GPUs; without CUDA every benchmark is skipped unless `--bench-cpu` asks for a
CPU smoke run of the smallest level-1 problems.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

# `bench.problems` and `torch_llmbackend` import from the repository root without installing.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bench", "torch-llmbackend benchmark suite")
    group.addoption("--bench-cpu", action="store_true", help="without CUDA, run a CPU smoke run of a few small level-1 problems")
    group.addoption("--bench-rounds", type=int, default=50, help="timed rounds per benchmark (default 50)")
    group.addoption("--bench-warmup", type=int, default=5, help="untimed warm-up rounds per benchmark (default 5)")
    group.addoption(
        "--bench-min-round-ms",
        type=float,
        default=1.0,
        help="a round repeats the forward until it lasts about this long, so that one synchronize "
        "per round does not dominate small problems (default 1.0)",
    )
    group.addoption("--bench-seed", type=int, default=0, help="seed for weights and inputs (default 0)")
    group.addoption(
        "--bench-backends",
        default="eager,inductor,llm",
        help="comma-separated backends to time (default eager,inductor,llm); add 'dynamo' for "
        "torch.compile with a backend that returns Dynamo's graph untouched: the per-call cost "
        "every torch.compile backend pays before its own code runs",
    )
    group.addoption(
        "--bench-llm-cache",
        default="",
        help="cache_dir for backend='llm' (default: a fresh empty folder, so only the shipped bundle counts)",
    )


def machine_environment() -> dict[str, Any]:
    """What a timing depends on besides the code: device, library versions, precision flags."""
    env: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpu": None,
        "gpu_capability": None,
        "triton": None,
        "torch_llmbackend": None,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
    }
    try:
        import triton

        env["triton"] = triton.__version__
    except ImportError:
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version

        env["torch_llmbackend"] = version("torch-llmbackend")
    except PackageNotFoundError:
        env["torch_llmbackend"] = "source tree (not installed)"
    if torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name()
        env["gpu_capability"] = ".".join(map(str, torch.cuda.get_device_capability()))
    return env


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    machine_info.update(machine_environment())


@dataclass(frozen=True)
class BenchSettings:
    device: str  # "cuda" or, for a smoke run, "cpu"
    rounds: int
    warmup_rounds: int
    min_round_s: float
    seed: int
    llm_cache_dir: str


@pytest.fixture(scope="session")
def bench_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> BenchSettings:
    config = request.config
    if torch.cuda.is_available():
        device = "cuda"
        # Honest fp32: TF32 off, as the backend's own timing does unless a model enables it.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    elif config.getoption("--bench-cpu"):
        device = "cpu"
    else:
        pytest.skip("no CUDA device: the suite times GPUs (pass --bench-cpu for a CPU smoke run)")
    llm_cache = config.getoption("--bench-llm-cache") or str(tmp_path_factory.mktemp("llm-cache"))
    return BenchSettings(
        device=device,
        rounds=config.getoption("--bench-rounds"),
        warmup_rounds=config.getoption("--bench-warmup"),
        min_round_s=config.getoption("--bench-min-round-ms") / 1000.0,
        seed=config.getoption("--bench-seed"),
        llm_cache_dir=llm_cache,
    )


@pytest.fixture(scope="session")
def bench_environment(bench_settings: BenchSettings) -> dict[str, Any]:
    """The machine record for each benchmark's extra_info (after TF32 has been set)."""
    return machine_environment()


@pytest.fixture(scope="session")
def calls_per_round_cache() -> dict[str, int]:
    """Per problem, the forwards per timed round, shared by its three backends."""
    return {}
