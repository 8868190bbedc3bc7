from conftest import conv_problem, decomposed_softmax_problem, layernorm_problem, matmul_problem, problem, spec, softmax_problem

from torch_llmbackend.store.knowledge.features import device_profile, features_of, op_base, similarity


def test_op_family_from_aten_names_and_decomposed_patterns():
    assert features_of(softmax_problem(), "cuda").family == "softmax"
    assert features_of(decomposed_softmax_problem(), "cuda").family == "softmax"
    assert features_of(conv_problem(), "cuda").family == "conv"
    assert features_of(layernorm_problem(), "cuda").family == "normalization"
    assert features_of(matmul_problem(), "cuda").family == "matmul"
    attn = problem("attn", ("aten.bmm.default", "aten._softmax.default", "aten.bmm.default"),
                   [spec(8, 512, 64)] * 3, [spec(8, 512, 64)])
    assert features_of(attn, "cuda").family == "attention"
    add_relu = problem("pw", ("aten.add.Tensor", "aten.relu.default"), [spec(1024, 1024)] * 2, [spec(1024, 1024)])
    assert features_of(add_relu, "cuda").family == "pointwise"
    assert op_base("aten::sum.dim_IntList") == "sum" and op_base("aten.relu_.default") == "relu"


def test_roofline_bound_on_h100():
    big_fp16_mm = features_of(matmul_problem(4096, 4096, 4096, "float16"), "NVIDIA H100 80GB HBM3")
    assert big_fp16_mm.bound == "compute" and big_fp16_mm.profile == "h100"
    assert big_fp16_mm.intensity > 1000
    assert features_of(softmax_problem(), "cuda").bound == "memory"
    tiny = problem("tiny", ("aten.add.Tensor",), [spec(32, 32)] * 2, [spec(32, 32)])
    assert features_of(tiny, "cuda").bound == "latency"
    # state = (bound, family, target)
    assert features_of(softmax_problem(), "cuda").state == "memory/softmax/triton"


def test_gemmini_profile_counts_cycles_and_dim():
    assert device_profile("NVIDIA H200").name == "h200" and device_profile("cpu").name == "cpu"
    assert device_profile("gemmini").name == "gemmini16"
    assert device_profile("gemmini-dim32").name == "gemmini32"
    # 512x512x512 int8 matmul: 2*512^3 ops / 512 ops per cycle = 262k cycles of compute vs
    # 786 KiB / 16 B per cycle = 49k cycles of DMA -> compute-bound on the array.
    mm = matmul_problem(512, 512, 512, dtype="int8", target="gemmini")
    f = features_of(mm, "gemmini")
    assert f.bound == "compute" and f.profile == "gemmini16"
    small = features_of(matmul_problem(16, 16, 16, dtype="int8", target="gemmini"), "gemmini")
    assert small.bound == "latency"


def test_similarity_prefers_same_family():
    new = features_of(decomposed_softmax_problem(), "cuda")
    assert similarity(new, features_of(softmax_problem(), "cuda")) > similarity(new, features_of(conv_problem(), "cuda"))
    same = features_of(softmax_problem(), "cuda")
    assert abs(similarity(same, same) - 1.0) < 1e-9


def test_features_round_trip_json():
    f = features_of(conv_problem(), "cpu")
    assert type(f).from_json(f.to_json()) == f
