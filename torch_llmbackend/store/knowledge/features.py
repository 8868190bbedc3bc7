"""Features of one subgraph, as the knowledge base sees it: which family of ops it is, how big,
which dtype, and whether the device's roofline says it is memory-, compute- or latency-bound.

Two subgraphs with similar features tend to reward the same techniques, so features are what
records are indexed and ranked by. A "state" is the coarse bucket (bound, op family, target)
that technique statistics are kept per.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from ...records import Problem

# ---------------------------------------------------------------- device rooflines


@dataclass(frozen=True)
class DeviceProfile:
    """Peak rates of one device. Units are per second for GPUs/CPUs, per cycle for Gemmini
    (so `latency_floor` is in the same time unit: seconds or cycles)."""

    name: str
    bytes_per_unit: float  # memory bandwidth (B/s, or B/cycle)
    tensor_ops_per_unit: float  # matrix-unit peak for low-precision matmul-like work
    vector_ops_per_unit: float  # everything else (fp32, pointwise, reductions)
    latency_floor: float  # below this much work time, launch/setup overhead dominates
    time_unit: str  # "s" or "cycles"


H100 = DeviceProfile("h100", 3.35e12, 989e12, 67e12, 5e-6, "s")
H200 = DeviceProfile("h200", 4.8e12, 989e12, 67e12, 5e-6, "s")  # same chip, faster HBM3e
# Several cores with AVX2/AVX-512 and a dual-channel-ish memory system; a rough desktop/server
# figure is enough to tell a 4 KiB pointwise op (latency: Python and dispatch cost) from a GEMM.
CPU = DeviceProfile("cpu", 50e9, 1.0e12, 1.0e12, 10e-6, "s")


def gemmini_profile(dim: int = 16) -> DeviceProfile:
    """DIM x DIM MACs (2 ops each) per cycle; about 16 bytes per cycle of DMA (SPEC.md); a few
    hundred cycles of configuration and host issue make tiny problems latency-bound."""
    ops = 2.0 * dim * dim
    return DeviceProfile(f"gemmini{dim}", 16.0, ops, ops, 500.0, "cycles")


def device_profile(device: str) -> DeviceProfile:
    """Map a device string ("cpu", "cuda", "NVIDIA H100 80GB HBM3", "gemmini", "gemmini-dim32")
    to its roofline. Unknown GPUs use the H100 figures: the bound they give is what matters and
    it depends on ratios that are similar across recent data-centre GPUs."""
    d = (device or "").lower()
    if "gemmini" in d:
        m = re.search(r"dim\D?(\d+)", d)
        if m:
            return gemmini_profile(int(m.group(1)))
        return gemmini_profile(4 if "fp32" in d or "float" in d else 16)
    if d.startswith("cpu") or d in ("", "host"):
        return CPU
    return H200 if "h200" in d else H100


# ---------------------------------------------------------------- op families

FAMILIES = ("attention", "conv", "matmul", "normalization", "softmax", "reduction", "pointwise", "data_movement")

_MATMUL = {"mm", "addmm", "bmm", "baddbmm", "matmul", "linear", "addbmm", "dot", "mv", "addmv", "einsum"}
_CONV = {"convolution", "conv2d", "conv1d", "conv3d", "_convolution", "conv_transpose2d", "max_pool2d_with_indices",
         "avg_pool2d", "_adaptive_avg_pool2d"}
_NORM = {"native_layer_norm", "layer_norm", "native_batch_norm", "_native_batch_norm_legit",
         "_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional", "native_group_norm",
         "group_norm", "batch_norm", "instance_norm", "rms_norm", "_fused_rms_norm"}
_SOFTMAX = {"_softmax", "softmax", "_log_softmax", "log_softmax", "_safe_softmax"}
_ATTENTION = {"_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention",
              "scaled_dot_product_attention", "_scaled_dot_product_cudnn_attention",
              "_scaled_dot_product_flash_attention_for_cpu"}
_REDUCTION = {"sum", "mean", "amax", "amin", "max", "min", "var", "var_mean", "std", "argmax", "argmin", "prod",
              "cumsum", "cumprod", "logsumexp", "norm", "linalg_vector_norm", "any", "all"}
_MOVEMENT = {"view", "_unsafe_view", "reshape", "permute", "t", "transpose", "expand", "unsqueeze", "squeeze",
             "alias", "slice", "select", "as_strided", "clone", "_to_copy", "detach", "cat", "stack", "split",
             "split_with_sizes", "index", "index_select", "gather", "scatter", "constant_pad_nd", "copy",
             "empty", "full", "zeros", "ones", "repeat", "flip", "roll", "narrow"}


def op_base(name: str) -> str:
    """"aten.addmm.default" -> "addmm"; "aten::sum.dim_IntList" -> "sum"; "relu" -> "relu"."""
    n = name.replace("::", ".")
    parts = [p for p in n.split(".") if p]
    if parts and parts[0] in ("aten", "prims", "torch", "ops"):
        parts = parts[1:]
    if parts and parts[0] == "aten":
        parts = parts[1:]
    return (parts[0] if parts else n).rstrip("_") or n


def op_family(ops: list[str] | tuple[str, ...]) -> str:
    """The family that decides which techniques matter. The heaviest op class wins, and
    decomposed patterns count: exp + sum + div (with or without amax) is a softmax, and
    matmul + softmax pattern is attention, because that is how AOTAutograd often hands them over."""
    bases = {op_base(o) for o in ops}
    softmax_like = bool(bases & _SOFTMAX) or ({"exp", "sum"} <= bases and bool(bases & {"div", "mul", "reciprocal"}))
    if bases & _ATTENTION or (bases & _MATMUL and softmax_like):
        return "attention"
    if bases & _CONV:
        return "conv"
    if bases & _MATMUL:
        return "matmul"
    if bases & _NORM or ({"rsqrt"} <= bases and bool(bases & {"mean", "var", "var_mean", "sum"})):
        return "normalization"
    if softmax_like:
        return "softmax"
    if bases & _REDUCTION:
        return "reduction"
    if bases and bases <= _MOVEMENT:
        return "data_movement"
    return "pointwise"


# Families that share most of their techniques; used to give partial similarity.
_RELATED = {
    frozenset({"softmax", "reduction"}): 0.5,
    frozenset({"softmax", "normalization"}): 0.5,
    frozenset({"normalization", "reduction"}): 0.5,
    frozenset({"matmul", "attention"}): 0.5,
    frozenset({"matmul", "conv"}): 0.4,
    frozenset({"pointwise", "data_movement"}): 0.4,
    frozenset({"pointwise", "reduction"}): 0.2,
}


def family_similarity(a: str, b: str) -> float:
    return 1.0 if a == b else _RELATED.get(frozenset({a, b}), 0.0)


# ---------------------------------------------------------------- features

_ITEMSIZE = {"float64": 8, "int64": 8, "complex64": 8, "float32": 4, "int32": 4, "float16": 2, "bfloat16": 2,
             "int16": 2, "int8": 1, "uint8": 1, "bool": 1, "float8_e4m3fn": 1, "float8_e5m2": 1}
_LOW_PRECISION = {"float16", "bfloat16", "int8", "float8_e4m3fn", "float8_e5m2"}
_MATRIX_FAMILIES = {"matmul", "conv", "attention"}


@dataclass(frozen=True)
class Features:
    family: str
    ops: tuple[str, ...]  # base op names, sorted, views dropped; a multiset (repeats kept)
    dtype: str  # dtype of the largest input (the one that decides the data path)
    input_shapes: tuple[tuple[int, ...], ...]
    output_shapes: tuple[tuple[int, ...], ...]
    flops: float
    bytes_moved: float
    intensity: float  # flops per byte
    bound: str  # "memory" | "compute" | "latency"
    scale: float  # log2 of bytes moved: how big the problem is, comparable across shapes
    target: str
    profile: str  # device profile name the bound was computed for

    @property
    def state(self) -> str:
        return state_key(self.bound, self.family, self.target)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ops"] = list(self.ops)
        d["input_shapes"] = [list(s) for s in self.input_shapes]
        d["output_shapes"] = [list(s) for s in self.output_shapes]
        return d

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Features":
        d = dict(d)
        d["ops"] = tuple(d["ops"])
        d["input_shapes"] = tuple(tuple(s) for s in d["input_shapes"])
        d["output_shapes"] = tuple(tuple(s) for s in d["output_shapes"])
        return Features(**d)

    def summary(self) -> str:
        shapes = ", ".join("x".join(map(str, s)) or "scalar" for s in self.input_shapes[:4])
        return (f"{self.family} [{' '.join(self.ops[:8])}] {self.dtype} in=({shapes}) "
                f"AI={self.intensity:.2f} flop/B, {self.bound}-bound on {self.profile}")


def state_key(bound: str, family: str, target: str) -> str:
    return f"{bound}/{family}/{target}"


def _nbytes(spec) -> int:
    return spec.numel * _ITEMSIZE.get(spec.dtype, 4)


def features_of(problem: Problem, device: str) -> Features:
    """Compute the features of `problem` on `device` (see `device_profile`)."""
    prof = device_profile(device)
    ops = tuple(sorted(op_base(o) for o in problem.ops if op_base(o) not in _MOVEMENT)) or \
        tuple(sorted(op_base(o) for o in problem.ops))
    family = op_family(problem.ops)
    largest = max(problem.inputs, key=_nbytes, default=None) or max(problem.outputs, key=_nbytes, default=None)
    dtype = largest.dtype if largest is not None else "float32"
    nbytes = float(problem.bytes_moved or sum(_nbytes(t) for t in (*problem.inputs, *problem.outputs)))
    # Without an estimate from the graph, assume one operation per output element per compute op:
    # right for pointwise chains and a lower bound elsewhere, which only errs towards "memory".
    out_elems = sum(t.numel for t in problem.outputs)
    flops = float(problem.flops or out_elems * max(1, len(ops)))
    intensity = flops / nbytes if nbytes else 0.0
    bound = roofline_bound(flops, nbytes, dtype, family, prof)
    return Features(
        family=family,
        ops=ops,
        dtype=dtype,
        input_shapes=tuple(tuple(t.shape) for t in problem.inputs),
        output_shapes=tuple(tuple(t.shape) for t in problem.outputs),
        flops=flops,
        bytes_moved=nbytes,
        intensity=intensity,
        bound=bound,
        scale=math.log2(nbytes) if nbytes > 0 else 0.0,
        target=problem.target,
        profile=prof.name,
    )


def roofline_bound(flops: float, nbytes: float, dtype: str, family: str, prof: DeviceProfile) -> str:
    """Which roof the ideal kernel hits first. Matrix units only help matmul-like families in
    low precision (Gemmini's array is the only compute unit it has, so it always applies there)."""
    matrix_unit = prof.name.startswith("gemmini") or (family in _MATRIX_FAMILIES and dtype in _LOW_PRECISION)
    peak = prof.tensor_ops_per_unit if matrix_unit else prof.vector_ops_per_unit
    t_compute, t_memory = flops / peak, nbytes / prof.bytes_per_unit
    if max(t_compute, t_memory) < prof.latency_floor:
        return "latency"
    return "compute" if t_compute > t_memory else "memory"


# ---------------------------------------------------------------- similarity


def jaccard_multiset(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    ca, cb = Counter(a), Counter(b)
    union = sum((ca | cb).values())
    return sum((ca & cb).values()) / union if union else 1.0


# Structural similarity weights: the family decides most, then what the ops are, then the roofline
# regime, dtype and size. Target matters least: a lesson about memory-bound softmax transfers
# from Triton to CUDA better than a conv lesson on the same target does.
_WEIGHTS = {"family": 0.35, "ops": 0.2, "bound": 0.15, "dtype": 0.1, "scale": 0.1, "target": 0.1}


def similarity(a: Features, b: Features) -> float:
    """0..1, symmetric."""
    return (
        _WEIGHTS["family"] * family_similarity(a.family, b.family)
        + _WEIGHTS["ops"] * jaccard_multiset(a.ops, b.ops)
        + _WEIGHTS["bound"] * (a.bound == b.bound)
        + _WEIGHTS["dtype"] * (a.dtype == b.dtype)
        + _WEIGHTS["scale"] * math.exp(-abs(a.scale - b.scale) / 6.0)
        + _WEIGHTS["target"] * (a.target == b.target)
    )
