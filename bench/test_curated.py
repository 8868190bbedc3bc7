"""The curated GPU kernels of bench/curated/catalog.py, on the CPU: each file passes the Triton
target's static checks (what the backend demands before running anything), and the kernels run
under Triton's interpreter at small shapes (not multiples of their blocks) and match PyTorch.
On the CPU the GEMM kernels' dots run as "ieee" (the interpreter has no bf16x6), so this checks
indexing, masking and epilogues; the bf16x6 numerics are verified on the GPU by make_bundle.

    pytest bench/test_curated.py
"""
import os

os.environ.setdefault("TRITON_INTERPRET", "1")  # before triton is imported

import math
import types

import pytest
import torch
import torch.nn.functional as F

from bench.curated import catalog
from torch_llmbackend.evaluate.static_checks import check_candidate, format_violations
from torch_llmbackend.targets import get_target

def load(name: str, workdir) -> types.ModuleType:
    """The kernel module as the backend loads a verified kernel (the Triton target's loader)."""
    with open(catalog.path_of(name)) as f:
        return get_target("triton").load(f.read(), str(workdir))


@pytest.mark.parametrize("name", sorted(catalog.TRITON))
def test_catalog_file_exists_and_passes_the_static_checks(name):
    path = catalog.path_of(name)
    assert path.is_file(), f"{name} is in the catalog but missing"
    violations = check_candidate(open(path).read(), get_target("triton").allowed_imports)
    assert not violations, format_violations(violations)


def test_op_sequences_are_matched_as_the_backend_names_them():
    assert catalog.short_ops(("aten.permute.default", "aten.addmm.default", "aten.relu.default")) == "permute addmm relu"
    assert catalog.matches("permute addmm relu", ("aten.permute.default", "aten.addmm.default", "aten.relu.default"), "x")
    assert not catalog.matches("permute addmm", ("aten.permute.default", "aten.addmm.default", "aten.relu.default"), "x")
    block = ("aten.view.default",) * catalog.BLOCK_OPS
    assert catalog.matches("@level3/02_attention_block", block, "level3/02_attention_block")
    assert not catalog.matches("@level3/02_attention_block", block[:3], "level3/02_attention_block")
    assert not catalog.matches("@level3/02_attention_block", block, "level3/03_transformer_block_prenorm")


def r(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


# name -> (inputs, reference in the subgraph's input order, tolerance)
CASES = {
    "mm-square": ("triton/mm.py", lambda: [r(37, 70), r(70, 45)], lambda a, b: a @ b),
    "mm-tall": ("triton/mm.py", lambda: [r(300, 40), r(40, 9)], lambda a, b: a @ b),
    "bmm": ("triton/bmm.py", lambda: [r(3, 19, 33), r(3, 33, 21)], torch.bmm),
    "softmax": ("triton/softmax.py", lambda: [r(5, 1000)], lambda x: torch.softmax(x, -1)),
    "softmax-fp16": ("triton/softmax.py", lambda: [r(4, 777, dtype=torch.float16)], lambda x: torch.softmax(x.float(), -1).half()),
    "log_softmax": ("triton/log_softmax.py", lambda: [r(3, 1500)], lambda x: torch.log_softmax(x, -1)),
    "layernorm": ("triton/layernorm.py", lambda: [r(2, 3, 300), r(300), r(300)],
                  lambda x, w, b: F.layer_norm(x, (300,), w, b, 1e-5)),
    "rmsnorm": ("triton/rmsnorm.py", lambda: [r(2, 3, 300), r(300)],
                lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w),
    "add_layernorm": ("triton/add_layernorm.py", lambda: [r(2, 5, 300), r(2, 5, 300), r(300), r(300)],
                      lambda x, y, w, b: F.layer_norm(x + y, (300,), w, b, 1e-5)),
    "add_rmsnorm": ("triton/add_rmsnorm.py", lambda: [r(2, 5, 300), r(2, 5, 300), r(300)],
                    lambda x, y, w: (x + y, (x + y) * torch.rsqrt((x + y).pow(2).mean(-1, keepdim=True) + 1e-6) * w)),
    "scale_softmax": ("triton/scale_softmax.py", lambda: [r(2, 3, 7, 300)], lambda x: torch.softmax(x * 0.125, -1)),
    "sum_dim": ("triton/sum_dim.py", lambda: [r(3, 70, 33)], lambda x: x.sum(1, keepdim=True)),
    "mean_dim": ("triton/mean_dim.py", lambda: [r(3, 7, 300)], lambda x: x.mean(-1)),
    "amax_dim": ("triton/amax_dim.py", lambda: [r(70, 5, 33)], lambda x: x.amax(0)),
    "cumsum": ("triton/cumsum.py", lambda: [r(3, 3000)], lambda x: x.cumsum(-1)),
    "add_gelu": ("triton/add_gelu.py", lambda: [r(2, 5, 300), r(300)], lambda x, b: gelu_tanh(x + b)),
    "avgpool2d": ("triton/avgpool2d.py", lambda: [r(2, 3, 10, 14)], lambda x: F.avg_pool2d(x, 2)),
    "linear_relu": ("triton/linear_relu.py", lambda: [r(90, 70), r(90), r(37, 70)], lambda w, b, x: F.relu(F.linear(x, w, b))),
    "linear_gelu": ("triton/linear_gelu.py", lambda: [r(2, 19, 70), r(90, 70), r(90)], lambda x, w, b: F.gelu(F.linear(x, w, b))),
    "swiglu": ("triton/swiglu.py", lambda: [r(90, 70), r(2, 19, 70), r(90, 70)],
               lambda wg, x, wu: F.silu(x @ wg.t()) * (x @ wu.t())),
    "softmax_bmm": ("triton/softmax_bmm.py", lambda: [r(2, 3, 37, 50), r(2, 3, 50, 16)], lambda p, v: torch.softmax(p, -1) @ v),
    "linear_scale_residual": ("triton/linear_scale_residual.py", lambda: [r(2, 19, 40), r(40, 40), r(40)],
                              lambda x, w, b: F.linear(x, w, b) * 0.5 + x),
    "mask_softmax_fp16": ("triton/mask_softmax_fp16.py",
                          lambda: [r(2, 3, 33, 33, dtype=torch.float16), torch.ones(33, 33, dtype=torch.bool).tril()],
                          lambda x, m: torch.softmax((x.float() * 0.125).masked_fill(~m, float("-inf")), -1).half()),
    "conv_relu": ("triton/conv_relu.py", lambda: [r(2, 5, 9, 11), r(7, 5, 3, 3), r(7)],
                  lambda x, w, b: F.relu(F.conv2d(x, w, b, padding=1))),
    "conv_bn_relu": ("triton/conv_bn_relu.py",
                     lambda: [r(2, 5, 9, 11), r(7, 5, 3, 3), r(7), r(7), r(7), torch.rand(7) + 0.5],
                     lambda x, w, g, b, m, v: F.relu(F.batch_norm(F.conv2d(x, w, padding=1), m, v, g, b, False, 0.1, 1e-5))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_pytorch_under_the_interpreter(case, tmp_path):
    name, make_inputs, reference = CASES[case]
    if not catalog.path_of(name).is_file():
        pytest.fail(f"{name} missing")
    torch.manual_seed(0)
    inputs = make_inputs()
    got = load(name, tmp_path).ModelNew()(*[x.clone() for x in inputs])
    want = reference(*inputs)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype and g.is_contiguous()
        tol = 1e-2 if w.dtype == torch.float16 else 1e-4 * max(1.0, math.sqrt(w.shape[-1] / 64))
        torch.testing.assert_close(g, w, rtol=tol, atol=tol)


# --- one copy of each kernel: a curated kernel that ships lives only in the shipped bundle ------


def test_the_shipped_bundle_refuses_none_of_its_kernels():
    from torch_llmbackend.store.bundle import read_bundle

    read = read_bundle(str(catalog.SHIPPED_BUNDLE))
    assert read.refused == [] and len(read.entries) >= len(catalog.shipped_items())


def test_a_shipped_curated_kernel_has_one_copy():
    shipped = catalog.shipped_items()
    assert shipped, "the bundle names no curated kernel"
    for name, items in shipped.items():
        versions = {(catalog.SHIPPED_BUNDLE / it["file"]).read_bytes() for it in items}
        assert len(versions) == 1, f"the bundle ships {len(versions)} different versions of {name}: rebuild it"
        assert not (catalog.CURATED / name).exists(), f"{name} ships, so its one copy is cache/{items[0]['file']}"
        assert catalog.path_of(name) == catalog.SHIPPED_BUNDLE / items[0]["file"]
    in_bundle = {p.read_bytes() for p in (catalog.SHIPPED_BUNDLE / "kernels").glob("*.py")}
    copies = [str(p.relative_to(catalog.CURATED)) for p in catalog.CURATED.rglob("*.py") if p.read_bytes() in in_bundle]
    assert copies == []


def test_the_catalog_and_the_bundle_agree_on_what_each_kernel_computes():
    from bench.make_bundle import KERNELS

    for name in [*catalog.TRITON, *KERNELS]:
        assert catalog.path_of(name).is_file(), f"{name} is in a catalog but has no source"
    for name, items in catalog.shipped_items().items():
        assert name in catalog.TRITON or name in KERNELS, f"the bundle ships {name}, which no catalog names"
        for it in items:
            ops = tuple(it["meta"]["problem"]["ops"])
            if name in KERNELS:
                assert (it["target"], ops) == (KERNELS[name][0], tuple(KERNELS[name][1])), name
            else:  # a "@problem" pattern is a whole block: the problem's id is not in the record
                assert it["target"] == "triton" and any(
                    len(ops) >= catalog.BLOCK_OPS if p.startswith("@") else p == catalog.short_ops(ops)
                    for p in catalog.TRITON[name]), name
