"""Plain records passed between the layers (graph -> agent/evaluate -> store -> backend).

This module imports nothing from the package but speedup.py (which imports nothing), so every
layer may use it without creating an import cycle. Records are JSON-friendly: `to_json()` / `from_json()` round-trip them through
the store, bundles and worker pipes without pickling.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .speedup import speedup_of


@dataclass(frozen=True)
class TensorSpec:
    """Static description of one tensor crossing a subgraph boundary."""

    shape: tuple[int, ...]
    stride: tuple[int, ...]
    dtype: str  # torch dtype name without the "torch." prefix, e.g. "float32"
    device: str  # device type only ("cpu", "cuda"); the index never enters keys

    def to_json(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "stride": list(self.stride), "dtype": self.dtype, "device": self.device}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "TensorSpec":
        return TensorSpec(tuple(d["shape"]), tuple(d["stride"]), d["dtype"], d["device"])

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


@dataclass(frozen=True)
class Problem:
    """One subgraph, self-contained: what the agent must write a kernel for and what the
    evaluator verifies a candidate against.

    `reference_source` is a KernelBench-style module: `Model(nn.Module)` whose forward takes the
    subgraph inputs positionally and returns one tensor (one output) or a tuple (several),
    `get_inputs()` and `get_init_inputs()` (always `[]`: parameters are graph inputs after
    AOTAutograd). A candidate is a module defining `ModelNew` with the same contract.
    """

    key: str
    signature: str  # canonical, human-readable text the key is the hash of
    target: str  # "triton" | "cuda" | "gemmini"
    ops: tuple[str, ...]  # aten op names in graph order, e.g. ("aten.addmm.default", ...)
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    reference_source: str
    flops: int = 0  # estimated useful floating-point (or int) operations, for the roofline
    bytes_moved: int = 0  # minimum bytes: each input read once, each output written once
    allow_tf32: bool = False  # the user's model lets fp32 matmuls/convs use TF32 (then so may kernels)
    # The shape-free key (graph/signature.py): the same for this computation at any sizes.
    structural_key: str = ""
    # For a subgraph of a dynamic graph: its symbolic signature, and the assignment of its size
    # symbols (d0, d1, ...) that this concrete problem was rendered at.
    symbolic: str = ""
    sizes: tuple[tuple[str, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["inputs"] = [t.to_json() for t in self.inputs]
        d["outputs"] = [t.to_json() for t in self.outputs]
        d["ops"] = list(self.ops)
        d["sizes"] = [list(p) for p in self.sizes]
        return d

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Problem":
        names = {f.name for f in dataclasses.fields(Problem)}
        d = {k: v for k, v in d.items() if k in names}
        d["inputs"] = tuple(TensorSpec.from_json(t) for t in d["inputs"])
        d["outputs"] = tuple(TensorSpec.from_json(t) for t in d["outputs"])
        d["ops"] = tuple(d["ops"])
        d["sizes"] = tuple((str(k), int(v)) for k, v in d.get("sizes", ()))
        return Problem(**d)

    def shape_text(self) -> str:
        """The sizes this problem is at, as people write them: '[8,128] [128]'."""
        return " ".join("[" + ",".join(map(str, t.shape)) + "]" for t in self.inputs)


@dataclass
class Timing:
    """Median and spread of one callable's run time, in microseconds (or simulated cycles)."""

    median: float
    p20: float
    p80: float
    runs: int
    unit: str = "us"  # "us" on a GPU/CPU clock, "cycles" for the Gemmini simulator
    # On a GPU: the kernels' own time per call (cold L2, launch cost hidden) and the host time of
    # issuing one call (what a CPU-bound caller pays per call); `median` is the larger of the two
    # when both were measured.
    gpu_median: float | None = None
    steady: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Timing":
        names = {f.name for f in dataclasses.fields(Timing)}
        return Timing(**{k: v for k, v in d.items() if k in names})


@dataclass
class Evaluation:
    """What the trust boundary says about one candidate for one problem.

    `stage` is where it stopped: "extract", "static", "build", "guard" (called PyTorch compute at
    run time), "verify", "timing", "crash" (the worker died or hung), or "ok". `reason` is plain
    text fit to show a user and to feed back to the LLM.
    """

    ok: bool
    stage: str
    reason: str
    verification: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)  # name -> Timing json; "device" -> str
    flags: list[str] = field(default_factory=list)  # e.g. "beyond-roofline"
    profile: str = ""  # a few lines the LLM can act on

    def speedup(self, baseline: str) -> float | None:
        return speedup_of(self.timings, baseline)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Evaluation":
        return Evaluation(**d)
