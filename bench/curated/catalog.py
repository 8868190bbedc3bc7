"""Which curated GPU kernel answers which subgraph of the benchmark suite.

bench/make_bundle.py compiles each benchmark problem offline, so every subgraph is queued with
the backend's own key; a queued subgraph whose aten op sequence is listed here is answered with
that file (as an LLM batch answer would be) and then verified and timed through the real path.
One file may answer several problems (the same ops at other shapes or dtypes): its kernels read
the shapes at run time. Ops are written without the "aten." prefix and ".default" suffix.

One copy of each kernel: a curated kernel that ships lives only in the shipped bundle
(cache/kernels/<key>_<target>.py, the file the manifest names for it); the ones that do not ship
(yet) live here. `path_of(name)` finds either: the manifest records each shipped kernel's curated
name as its provenance's batch request id ("curated-<name>", see make_bundle.answers_file).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from torch_llmbackend.graph import short_op_name

CURATED = Path(__file__).resolve().parent
SHIPPED_BUNDLE = CURATED.parents[1] / "cache"
_REQUEST_PREFIX = "curated-"


@lru_cache(maxsize=None)
def shipped_items() -> dict[str, list[dict]]:
    """curated name -> the shipped bundle's manifest items built from it (one per key it answers)."""
    manifest = json.loads((SHIPPED_BUNDLE / "manifest.json").read_text())
    out: dict[str, list[dict]] = {}
    for item in sorted(manifest["kernels"], key=lambda it: it["key"]):
        request = item["meta"].get("provenance", {}).get("batch_request_id", "")
        if request.startswith(_REQUEST_PREFIX):
            out.setdefault(request.removeprefix(_REQUEST_PREFIX), []).append(item)
    return out


def path_of(name: str) -> Path:
    """The one source of curated kernel `name` (e.g. "triton/softmax.py"): its shipped file, or
    bench/curated/<name> when it does not ship."""
    items = shipped_items().get(name)
    return SHIPPED_BUNDLE / items[0]["file"] if items else CURATED / name

LINEAR = "permute addmm"  # nn.Linear on a 2-D input: addmm(bias, x, permute(w, [1, 0]))
LINEAR_3D = "view permute addmm view"  # nn.Linear on a 3-D input
BN = "_native_batch_norm_legit_no_training getitem"  # BatchNorm2d in eval mode

TRITON = {
    # level 1
    "triton/mm.py": ["mm"],
    "triton/bmm.py": ["bmm"],
    "triton/softmax.py": ["_softmax"],
    "triton/log_softmax.py": ["_log_softmax"],
    "triton/layernorm.py": ["native_layer_norm getitem"],
    "triton/rmsnorm.py": ["pow.Tensor_Scalar mean.dim add.Tensor rsqrt mul.Tensor mul.Tensor"],
    "triton/sum_dim.py": ["sum.dim_IntList"],
    "triton/mean_dim.py": ["mean.dim"],
    "triton/amax_dim.py": ["amax"],
    "triton/avgpool2d.py": ["avg_pool2d"],
    "triton/cumsum.py": ["cumsum"],
    "triton/mm_fp16.py": ["mm"],  # the fp16 products (mm.py's bf16x6 is for fp32)
    "triton/linear_nobias_bf16.py": ["permute mm"],
    "triton/conv2d.py": ["convolution"],
    # level 2
    "triton/linear_relu.py": [f"{LINEAR} relu"],
    "triton/linear_gelu.py": [f"{LINEAR_3D} gelu"],
    "triton/linear_scale_residual.py": [f"{LINEAR_3D} mul.Tensor add.Tensor"],
    "triton/add_layernorm.py": ["add.Tensor native_layer_norm getitem"],
    "triton/add_rmsnorm.py": ["add.Tensor pow.Tensor_Scalar mean.dim add.Tensor rsqrt mul.Tensor mul.Tensor"],
    "triton/scale_softmax.py": ["mul.Tensor _softmax"],
    "triton/add_gelu.py": ["add.Tensor gelu clone"],
    "triton/layernorm_linear.py": [f"native_layer_norm getitem {LINEAR_3D}"],
    "triton/softmax_bmm.py": ["_softmax clone expand view expand view bmm view"],
    "triton/swiglu.py": ["permute view mm view sigmoid mul.Tensor permute view mm view mul.Tensor"],
    "triton/mask_softmax_fp16.py": ["mul.Tensor bitwise_not scalar_tensor where.self _softmax"],
    "triton/linear_tanh_fp16.py": [f"{LINEAR_3D} tanh"],
    "triton/linear_residual_layernorm_bf16.py": [f"{LINEAR_3D} add.Tensor native_layer_norm getitem"],
    "triton/conv_bn_relu.py": [f"convolution {BN} relu"],
    "triton/conv_relu.py": ["convolution relu"],
    # level 3; whole blocks too long to spell out are named by problem (see matches())
    "triton/resnet_basic_block.py": [f"convolution {BN} relu convolution {BN} add.Tensor relu"],
    "triton/resnet_bottleneck_block.py": [f"convolution {BN} relu convolution {BN} relu convolution {BN} add.Tensor relu"],
    "triton/vit_patch_embed.py": ["convolution view permute expand cat add.Tensor native_layer_norm getitem"],
    "triton/mlp3.py": [f"{LINEAR} relu {LINEAR} relu {LINEAR}"],
    "triton/rmsnorm_linear.py": ["pow.Tensor_Scalar mean.dim add.Tensor rsqrt mul.Tensor mul.Tensor permute view mm view"],
    "triton/attention_block.py": ["@level3/02_attention_block"],
    "triton/transformer_block_prenorm.py": ["@level3/03_transformer_block_prenorm"],
    "triton/gpt_block_attn_swiglu.py": ["@level3/06_gpt_block_rmsnorm_swiglu"],
    "triton/mlp_mixer_block.py": ["@level3/11_mlp_mixer_block"],
    "triton/bert_layer_bf16.py": ["@level3/10_bert_layer_bf16"],
}


def short_ops(ops) -> str:
    """("aten.add.Tensor", "aten.relu.default") -> "add.Tensor relu"."""
    return " ".join(short_op_name(op) for op in ops)


def matches(pattern: str, ops, problem_id: str) -> bool:
    """A pattern is an op sequence, or "@<problem id>" for a whole block whose op sequence is too
    long to spell out: the largest subgraph (BLOCK_OPS ops or more) of that benchmark problem."""
    if pattern.startswith("@"):
        return pattern[1:] == problem_id and len(ops) >= BLOCK_OPS
    return pattern == short_ops(ops)


BLOCK_OPS = 20
