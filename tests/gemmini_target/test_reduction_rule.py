"""Long fp32 reductions: Gemmini's in-order sum over K is judged against float64 with eager's
own error, the bounds widened by sqrt(K/256); anything short of float32 arithmetic still fails."""
import pytest
import torch

from tests.gemmini_target.problems import mlp
from torch_llmbackend.evaluate.reduction_error import reduction_arbiter, reduction_factor
from torch_llmbackend.evaluate.verify import TrialStats, no_worse_than_eager
from torch_llmbackend.targets.gemmini import GemminiTarget
from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

M, N, K = 32, 16, 16384  # eager blocks its sums from about this size on (at 16x8 it sums in order too)


@pytest.fixture(scope="module")
def in_order_sum():
    """(Gemmini's fp32 library result, eager's, float64's) for x @ w.t() over K = 16384, with
    large-magnitude inputs, where elements that cancel miss eager's tolerance."""
    kernel = GemminiKernel(f"""#include "include/gemmini.h"
void kernel(const elem_t *A, const elem_t *B, elem_t *C) {{
  tiled_matmul_auto({M}, {N}, {K}, A, B, NULL, C, {K}, {K}, 0, {N},
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      NO_ACTIVATION, 1.0f, 0, false, false, true, false, false, 0, WS);
}}""", "kernel", config="fp32")
    g = torch.Generator().manual_seed(0)
    x, w = torch.randn(M, K, generator=g) * 1e3, torch.randn(N, K, generator=g) * 1e3
    got = torch.empty(M, N)
    kernel(x, w, got)
    return got, x @ w.t(), x.double() @ w.double().t()


def test_the_in_order_sum_fails_the_fixed_bounds_and_passes_the_reduction_rule(in_order_sum):
    got, eager, exact = in_order_sum
    assert not no_worse_than_eager(got, eager, exact)[0]  # refused before: 2x eager's L2 at any K
    ok, detail = reduction_arbiter(K)(got, eager, exact)
    assert ok, detail
    assert detail.startswith("reduction rule (K=16384") and "allowed 16x eager's L2 and 32x its max" in detail


@pytest.mark.parametrize("precision", [torch.bfloat16, torch.float16])
def test_a_sum_kept_in_lower_precision_still_fails(in_order_sum, precision):
    got, eager, exact = in_order_sum
    ok, detail = reduction_arbiter(K)(got.to(precision).float(), eager, exact)
    assert not ok and "reduction rule" in detail


def test_one_wrong_element_still_fails(in_order_sum):
    got, eager, exact = in_order_sum
    wrong = got.clone()
    wrong[3, 5] += 1e4 * float((eager.double() - exact).abs().max())
    assert not reduction_arbiter(K)(wrong, eager, exact)[0]


def test_short_reductions_keep_eagers_bounds():
    assert reduction_factor(256) == 1.0 and reduction_arbiter(200) is None
    assert reduction_factor(16384) == 8.0


def test_the_gemmini_target_scales_by_the_subgraphs_longest_reduction():
    arbiter = GemminiTarget().float_arbiter(mlp(4, 16384, 32))
    assert arbiter.keywords == {"k": 16384, "factor": 8.0}
    assert GemminiTarget().float_arbiter(mlp(4, 64, 32)) is None


def test_the_report_keeps_the_loosest_rule_that_was_needed():
    stats = TrialStats()
    for rule in ("within tolerance of a float64 reference (normal inputs, seed 0)",
                 "reduction rule (K=16384: ...) (large inputs, seed 3)",
                 "no worse than eager: ... (uniform inputs, seed 2)"):
        stats.passed_by(rule)
    assert stats.rule.startswith("reduction rule") and stats.to_json()["rule"] == stats.rule
