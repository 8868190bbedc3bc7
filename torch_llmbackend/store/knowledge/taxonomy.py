"""The names techniques are recorded under, and a keyword map from free text (an LLM's plan or
reply, a kernel's source) to those names.

Statistics only add up if every search names the same idea the same way, so techniques are a
closed vocabulary; `classify_techniques` is how the agent tags what a candidate tried.
"""
from __future__ import annotations

import re

GPU_TECHNIQUES = (
    "tiling", "vectorized_loads", "fusion", "shared_memory_staging", "tensor_cores", "warp_reductions",
    "double_buffering", "launch_configuration", "persistent_kernel", "loop_unrolling", "coalescing",
    "online_softmax", "split_k", "autotuning", "block_reduction", "welford", "recomputation",
    "mixed_precision_accumulation", "swizzling", "algebraic_rewrite", "shape_generic",
)
GEMMINI_TECHNIQUES = (
    "loop_tiling", "dataflow_choice", "scratchpad_reuse", "loop_ws", "loop_conv_ws", "double_buffering",
    "epilogue_fusion", "config_hoisting", "loop_order", "accumulator_residency", "im2col", "dma_batching",
    "fusion", "algebraic_rewrite",
)
TECHNIQUES = tuple(dict.fromkeys(GPU_TECHNIQUES + GEMMINI_TECHNIQUES))

# (technique, pattern). Patterns look for what people and models actually write: API names,
# pragmas, and the usual phrases. Order does not matter; results follow TECHNIQUES order.
_PATTERNS: list[tuple[str, str]] = [
    ("tiling", r"\btil(e|es|ed|ing)\b|block_(m|n|k)\b|blocking\b"),
    ("vectorized_loads", r"vectori[sz]|float4|half2|__ldg|128-bit load|wide loads?"),
    ("fusion", r"\bfus(e|ed|es|ing|ion)\b|single kernel|one kernel"),
    ("shared_memory_staging", r"__shared__|shared memory|smem\b|shared-memory"),
    ("tensor_cores", r"tensor cores?|tl\.dot\b|\bwmma\b|\bmma\b|wgmma|\bhmma\b"),
    ("warp_reductions", r"__shfl|warp[- ](level )?(reduc|shuffle)|shuffle reduc"),
    ("double_buffering", r"double[- ]buffer|num_stages|cp\.async|software pipelin|pipelin(ed|ing) (the )?loads?"),
    ("launch_configuration", r"num_warps|launch config|grid size|block ?dim|threads per block|occupancy"),
    ("persistent_kernel", r"persistent"),
    ("loop_unrolling", r"unroll|tl\.static_range"),
    ("coalescing", r"coalesc"),
    ("online_softmax", r"online softmax|running max|online normali[sz]"),
    ("split_k", r"split[-_ ]?k\b|stream[-_ ]?k\b"),
    ("autotuning", r"autotun|triton\.autotune|triton\.Config"),
    ("block_reduction", r"block[- ]level reduc|tl\.sum|tl\.max|cub::BlockReduce|tree reduc"),
    ("welford", r"welford"),
    ("recomputation", r"recomput"),
    ("mixed_precision_accumulation", r"fp32 accumul|accumulat\w* in (fp32|float32|float)|acc_t"),
    ("swizzling", r"swizzl|grouped ordering|group_size_m|l2 (cache )?reuse"),
    ("algebraic_rewrite", r"algebraic|rewrit\w+ the math|fold(ed|ing)? (the )?(constant|scale)|exp2|log2e"),
    ("shape_generic", r"shape[- ]generic|every size|any size|run[- ]time sizes?|sizes? as (kernel )?arguments"),
    ("loop_tiling", r"tile_[ijk]\b|loop tiling|tiled_matmul_auto|tiled_conv_auto"),
    ("dataflow_choice", r"dataflow|weight[- ]stationary|output[- ]stationary|(?-i:\bWS\b|\bOS\b)"),
    ("scratchpad_reuse", r"scratchpad|\bspad\b"),
    ("loop_ws", r"loop_ws"),
    ("loop_conv_ws", r"loop_conv_ws"),
    ("epilogue_fusion", r"epilogue|activation on mvout|relu on mvout|fused (bias|activation)"),
    ("config_hoisting", r"config_(ex|ld|st)\b.*(once|hoist)|hoist\w* (the )?config|configure once"),
    ("loop_order", r"loop order|reorder\w* (the )?loops?|loop interchange"),
    ("accumulator_residency", r"accumulator (residen|reuse)|stay in the accumulator|keep .* in the accumulator|acc_addr"),
    ("im2col", r"im2col"),
    ("dma_batching", r"mvin\w* .*(wider|4\*?dim|block_mvin|max_block_len)|dma batch|fewer mvins?"),
]
_COMPILED = [(t, re.compile(p, re.IGNORECASE)) for t, p in _PATTERNS]

# The same idea has a different name per family of targets; when the target is known the generic
# name is mapped onto the target's own.
_GEMMINI_ALIASES = {"tiling": "loop_tiling", "shared_memory_staging": "scratchpad_reuse",
                    "loop_unrolling": "loop_order"}
_GPU_ONLY_FOR_GEMMINI_DROP = set(GPU_TECHNIQUES) - set(GEMMINI_TECHNIQUES) - set(_GEMMINI_ALIASES)


def techniques_for(target: str | None) -> tuple[str, ...]:
    if target == "gemmini":
        return GEMMINI_TECHNIQUES
    if target in ("cuda", "triton"):
        return GPU_TECHNIQUES
    return TECHNIQUES


def classify_techniques(text: str, target: str | None = None) -> list[str]:
    """Technique names mentioned in `text`, in taxonomy order. With `target`, only names that
    belong to that target are returned (generic ones are mapped, e.g. tiling -> loop_tiling on
    Gemmini)."""
    found = {t for t, rx in _COMPILED if rx.search(text or "")}
    if target == "gemmini":
        found = {_GEMMINI_ALIASES.get(t, t) for t in found} - _GPU_ONLY_FOR_GEMMINI_DROP
    elif target in ("cuda", "triton"):
        found &= set(GPU_TECHNIQUES)
    return [t for t in TECHNIQUES if t in found]


def normalize_technique(name: str) -> str:
    """Lower-case snake form, so "Vectorized loads" and "vectorized-loads" agree."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
