"""All user-facing settings in one validated dataclass.

Sources, later ones winning: the defaults below, `LLMBACKEND_<NAME>` environment variables,
then `torch.compile(..., options={...})`. An unknown name or a value of the wrong type or
outside its choices is an `OptionsError` that lists what is valid, never a silent default.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .targets import TARGET_CLASSES

TARGETS = ("auto", *TARGET_CLASSES)  # auto: cuda on a CUDA device, else none (see backend._pick_target)
MODES = ("search", "offline")
FALLBACKS = ("auto", "inductor", "eager")
PREFERS = ("fastest", "kernel")
BASELINES = ("eager", "inductor")


class OptionsError(ValueError):
    pass


OFF_WORDS = ("0", "false", "no", "off")


def switched_off(variable: str) -> bool:
    """True where an on-by-default switch in the environment (LLMBACKEND_NCU, ...) is set off."""
    return os.environ.get(variable, "1") in OFF_WORDS


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return os.path.join(base, "torch_llmbackend")


def cache_dir_help() -> str:
    """The one description of every command's --cache-dir."""
    return f"the cache folder (default: the cache_dir option, i.e. $LLMBACKEND_CACHE_DIR, else {default_cache_dir()})"


@dataclass(frozen=True)
class Options:
    # what runs where
    target: str = "auto"  # auto: cuda when the inputs are on a CUDA device, else none
    mode: str = ""  # "" = search when an endpoint or key is configured, else offline
    fallback: str = "auto"  # auto: on a GPU the faster of eager/Inductor by timing, on CPU Inductor
    prefer: str = "fastest"  # "kernel": use a verified kernel even when a baseline is faster
    min_subgraph_ops: int = 1  # compute ops a subgraph needs before it is worth a kernel
    use_shipped_bundle: bool = True
    cuda_graphs: bool = True  # on a GPU, replay an inference graph as a CUDA graph where timed faster
    # storage
    cache_dir: str = field(default_factory=default_cache_dir)
    # LLM endpoint (OpenAI-compatible)
    base_url: str = ""
    model: str = ""
    api_key: str = field(default="", repr=False)
    temperature: float = 0.2
    max_tokens: int = 8192  # per reply
    request_timeout_s: float = 120.0
    retries: int = 3
    max_concurrency: int = 4  # requests in flight across subgraphs
    price_prompt_per_mtok: float = 0.0
    price_completion_per_mtok: float = 0.0
    # search budgets (per subgraph)
    max_rounds: int = 4
    max_search_tokens: int = 200_000
    max_search_seconds: float = 600.0
    target_speedup: float = 2.0  # stop early once a candidate beats the best baseline by this
    samples_per_round: int = 1
    plan_first: bool = False
    use_knowledge: bool = True
    # trust boundary
    worker_timeout_s: float = 120.0
    worker_memory_mb: int = 16384
    allow_libraries: bool = False  # cuBLAS/cuDNN/ATen calls from CUDA C++ candidates
    baselines: str = "eager,inductor"  # what candidates are timed against (comma-separated)
    # visibility
    log_table: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        _check_choice("target", self.target, TARGETS)
        if self.mode:
            _check_choice("mode", self.mode, MODES)
        _check_choice("fallback", self.fallback, FALLBACKS)
        _check_choice("prefer", self.prefer, PREFERS)
        bad = [b for b in self.baseline_names if b not in BASELINES]
        if bad or not self.baseline_names:
            raise OptionsError(f"option baselines={self.baselines!r}: choose from {', '.join(BASELINES)}")
        for name, valid in _RANGES.items():
            valid.check(name, getattr(self, name))
        if not self.cache_dir.strip():
            raise OptionsError(f"option cache_dir={self.cache_dir!r} must name a folder (unset it for the default, "
                               f"{default_cache_dir()})")
        if not self.mode:
            object.__setattr__(self, "mode", "search" if (self.base_url or self.api_key) else "offline")

    @property
    def baseline_names(self) -> tuple[str, ...]:
        return tuple(b.strip() for b in self.baselines.split(",") if b.strip())

    @property
    def search(self) -> bool:
        return self.mode == "search"

    def public(self) -> dict[str, Any]:
        """The settings as a dict, with the API key masked (for logs and reports)."""
        d = dataclasses.asdict(self)
        d["api_key"] = "***" if self.api_key else ""
        return d

    @staticmethod
    def resolve(options: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> "Options":
        env = os.environ if env is None else env
        fields = {f.name: f for f in dataclasses.fields(Options)}
        values: dict[str, Any] = {}
        for name, f in fields.items():
            raw = env.get(f"LLMBACKEND_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = _parse_env(name, raw, f.type)
        if "api_key" not in values and env.get("OPENAI_API_KEY"):
            values["api_key"] = env["OPENAI_API_KEY"]
        for name, value in (options or {}).items():
            if name not in fields:
                raise OptionsError(f"unknown option {name!r}; valid options: {', '.join(sorted(fields))}")
            values[name] = _check_type(name, value, fields[name].type)
        return Options(**values)


@dataclass(frozen=True)
class _Range:
    """Where a numeric option makes sense; NaN and infinities never do."""

    low: float
    high: float = math.inf
    low_open: bool = False  # True: the value must be above `low`, not equal to it

    def check(self, name: str, value: float) -> None:
        above = value > self.low if self.low_open else value >= self.low
        if not (math.isfinite(value) and above and value <= self.high):
            raise OptionsError(f"option {name}={value!r} is out of range: it must be {self}")

    def __str__(self) -> str:
        low = f"{'above' if self.low_open else 'at least'} {self.low:g}"
        return f"{low} and at most {self.high:g}" if math.isfinite(self.high) else f"a finite number {low}"


_RANGES = {
    "min_subgraph_ops": _Range(1),
    "temperature": _Range(0, 2),  # what OpenAI-compatible endpoints accept
    "max_tokens": _Range(1),
    "request_timeout_s": _Range(0, low_open=True),
    "retries": _Range(0),
    "max_concurrency": _Range(1),
    "price_prompt_per_mtok": _Range(0),
    "price_completion_per_mtok": _Range(0),
    "max_rounds": _Range(1),
    "max_search_tokens": _Range(1),
    "max_search_seconds": _Range(0, low_open=True),
    "target_speedup": _Range(1),  # a kernel runs only when faster than the baselines: below 1 never pays
    "samples_per_round": _Range(1),
    "worker_timeout_s": _Range(0, low_open=True),
    "worker_memory_mb": _Range(0),  # 0: no limit
}


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionsError(f"option {name}={value!r} is not one of {', '.join(choices)}")


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def _check_type(name: str, value: Any, type_name: str) -> Any:
    want = _TYPES[type_name]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) and want is not bool:
        raise OptionsError(f"option {name} must be {type_name}, got {value!r}")
    if not isinstance(value, want):
        raise OptionsError(f"option {name} must be {type_name}, got {type(value).__name__} {value!r}")
    return value


def _parse_env(name: str, raw: str, type_name: str) -> Any:
    try:
        if type_name == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in OFF_WORDS:
                return False
            raise ValueError(raw)
        return _TYPES[type_name](raw)
    except ValueError:
        raise OptionsError(f"environment variable LLMBACKEND_{name.upper()}={raw!r} is not a valid {type_name}") from None
