"""Verification pieces: inputs with exact layouts and guard zones, dtype tolerances, NaN/Inf,
the magnitude check, and what a trial demands of outputs and inputs."""
from __future__ import annotations

import pytest
import torch

from torch_llmbackend.evaluate.inputs import (GUARD_ELEMENTS, NONFINITE_TRIAL, Trial, clone_exact, make_input, make_inputs,
                                              nonfinite_applies, same_bytes, storage_view)
from torch_llmbackend.evaluate.verify import CandidateFailure, TrialStats, check_trial, compare_values, exact_checkable, magnitude_problem
from torch_llmbackend.records import TensorSpec

NORMAL = Trial("normal", 0)


def test_inputs_have_the_exact_layout_and_nan_guard_zones():
    spec = TensorSpec((3, 5), (1, 4), "float32", "cpu")  # transposed, with a gap between columns
    x = make_input(spec, NORMAL)
    assert tuple(x.shape) == (3, 5) and x.stride() == (1, 4) and x.dtype == torch.float32
    flat = storage_view(x)
    assert flat[:GUARD_ELEMENTS].isnan().all() and flat[-GUARD_ELEMENTS:].isnan().all()
    assert torch.isfinite(x).all()
    assert torch.equal(x, make_input(spec, NORMAL)) and not torch.equal(x, make_input(spec, Trial("normal", 1)))


def test_distributions_differ_in_kind():
    spec = TensorSpec((64,), (1,), "float32", "cpu")
    uniform, large, integer = (make_input(spec, Trial(d, 3)) for d in ("uniform", "large", "integer"))
    assert (uniform >= 0).all() and (uniform < 1).all()
    assert large.abs().max() > 100
    assert torch.equal(integer, integer.round()) and integer.abs().max() <= 4


def test_inputs_of_one_trial_differ_from_each_other():
    spec = TensorSpec((4, 40), (40, 1), "float32", "cpu")
    x, y = make_inputs((spec, spec), NORMAL)
    assert not torch.equal(x, y)  # else a kernel reading x twice instead of x and y would pass


def test_the_nonfinite_trial_plants_nan_and_both_infinities_among_normal_values():
    spec = TensorSpec((4, 100), (100, 1), "float16", "cpu")
    x = make_input(spec, NONFINITE_TRIAL)
    assert int(x.isnan().sum()) == int((x == float("inf")).sum()) == int((x == -float("inf")).sum()) > 0
    finite = x[x.isfinite()]
    assert finite.numel() >= 0.9 * x.numel() and 0.5 < float(finite.float().std()) < 2.0
    assert torch.equal(x.isnan(), make_input(spec, NONFINITE_TRIAL).isnan())  # reproducible
    tiny = make_input(TensorSpec((2,), (1,), "float32", "cpu"), NONFINITE_TRIAL)
    assert tiny.isnan().sum() == 1 and tiny.isinf().sum() == 1  # as many of the three as fit


def test_the_nonfinite_trial_is_left_out_where_eager_has_no_one_answer():
    f32, i64, b = (TensorSpec((8,), (1,), d, "cpu") for d in ("float32", "int64", "bool"))
    assert nonfinite_applies(("aten.relu.default",), (f32,), (f32,)) is None
    assert nonfinite_applies(("aten.gt.Scalar",), (f32,), (b,)) is None  # comparisons with NaN are defined
    assert "topk" in nonfinite_applies(("aten.topk.default",), (f32,), (f32, i64))
    assert "integer output" in nonfinite_applies(("aten.argmax.default",), (f32,), (i64,))
    assert nonfinite_applies(("aten.add.Tensor",), (i64,), (i64,)) == "no float input"


def test_clone_exact_keeps_layout_and_bytes_and_same_bytes_sees_the_guard_zones():
    x = make_input(TensorSpec((4, 4), (4, 1), "float16", "cpu"), NORMAL)
    c = clone_exact(x)
    assert c.stride() == x.stride() and c.storage_offset() == x.storage_offset() and same_bytes(x, c)
    assert c.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    storage_view(c)[GUARD_ELEMENTS + 16] = 0.0  # a write one element past the end
    assert torch.equal(c, x) and not same_bytes(x, c)


@pytest.mark.parametrize(
    "dtype, ok_error, bad_error",
    [(torch.float32, 5e-5, 3e-4), (torch.float16, 4e-3, 3e-2), (torch.bfloat16, 4e-3, 4e-2)],
)
def test_tolerances_by_dtype(dtype, ok_error, bad_error):
    want = torch.ones(16, dtype=dtype)
    assert compare_values(want + ok_error, want, exact=False) is None
    assert "outside" in compare_values(want + bad_error, want, exact=False)


def test_integers_and_exact_mode_need_equality():
    want = torch.arange(10)
    assert compare_values(want.clone(), want, exact=False) is None
    got = want.clone()
    got[7] = 0
    assert "first at index (7,)" in compare_values(got, want, exact=False)
    f = torch.tensor([3.0, 4.0])
    assert compare_values(f + 1e-6, f, exact=False) is None
    assert "exact match required" in compare_values(f + 1e-6, f, exact=True)


def test_nan_and_inf_must_be_at_the_same_places():
    want = torch.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    assert compare_values(want.clone(), want, exact=False) is None
    assert "NaN at different places" in compare_values(torch.tensor([1.0, 0.0, float("inf"), -float("inf")]), want, exact=False)
    assert "Inf at different places" in compare_values(torch.tensor([1.0, float("nan"), -float("inf"), -float("inf")]), want, exact=False)


def test_a_lost_nan_or_inf_is_counted_located_and_explained():
    want = torch.tensor([[1.0, float("nan"), float("nan")], [float("inf"), -float("inf"), 2.0]])
    dropped = torch.where(want.isnan(), torch.zeros_like(want), want)  # what tl.maximum(x, 0) does to NaN
    text = compare_values(dropped, want, exact=False)
    assert "2 of 6 elements differ (0 NaN in the output, 2 expected); first at index (0, 1): got 0.0, expected nan" in text
    assert "propagate_nan=tl.PropagateNan.ALL" in text
    saturated = want.nan_to_num(posinf=3.4e38, neginf=-3.4e38).where(~want.isnan(), want)
    text = compare_values(saturated, want, exact=False)
    assert "2 of 6 elements differ (0 inf in the output, 2 expected); first at index (1, 0)" in text and "expected inf" in text


def test_mismatch_report_names_errors_index_and_values():
    want = torch.zeros(2, 3)
    got = want.clone()
    got[1, 2] = 0.5
    stats = TrialStats()
    text = compare_values(got, want, exact=False, stats=stats)
    assert "max abs error 0.5" in text and "first bad index (1, 2): got 0.5, expected 0" in text
    assert stats.max_abs_err == 0.5


def test_magnitude_check_catches_zero_output_for_a_tiny_reference():
    want = torch.randn(100) * 1e-6  # every element is within atol of zero
    zeros = torch.zeros(100)
    assert compare_values(zeros, want, exact=False) is None
    assert "relative L2 error 1" in magnitude_problem(zeros, want, [])
    assert magnitude_problem(want.clone(), want, []) is None


def test_magnitude_check_catches_an_input_passed_through():
    x = torch.randn(100)
    want = x + 1e-6  # within tolerance of x, but not x
    assert compare_values(x.clone(), want, exact=False) is None
    assert "copy of input 0" in magnitude_problem(x.clone(), want, [x])


def _trial(got, want, cand_in, ref_in=None, before=None):
    ref_in = ref_in if ref_in is not None else [clone_exact(t) for t in cand_in]
    before = before if before is not None else [clone_exact(t) for t in cand_in]
    check_trial(got, want, cand_in, ref_in, before, NORMAL, TrialStats())


def test_trial_demands_structure_layout_and_untouched_inputs():
    x = make_input(TensorSpec((4, 4), (4, 1), "float32", "cpu"), NORMAL)
    want = x * 2
    _trial(x * 2, want, [x])
    with pytest.raises(CandidateFailure, match="returned a tuple of 1, the reference returns one tensor"):
        _trial((x * 2,), want, [x])
    with pytest.raises(CandidateFailure, match=r"strides \(1, 4\), expected \(4, 1\)"):
        _trial((x * 2).t().contiguous().t(), want, [x])
    with pytest.raises(CandidateFailure, match="shares memory with input 0"):
        _trial(x, want, [x])
    ref_in, before = [clone_exact(x)], [clone_exact(x)]
    storage_view(x)[GUARD_ELEMENTS + 16] = 1.0  # the candidate wrote past the end of its input
    with pytest.raises(CandidateFailure, match="input 0 was changed"):
        _trial(want.clone(), want, [x], ref_in, before)


def test_outputs_must_not_share_memory_unless_the_reference_does():
    x = torch.randn(4)
    out = torch.empty(4)
    with pytest.raises(CandidateFailure, match="outputs 0 and 1 share memory"):
        _trial((out, out), (x + 1, x + 1), [x])


def test_exact_checking_only_for_exact_arithmetic():
    assert exact_checkable(("aten.add.Tensor", "aten.mm.default", "aten.clamp.default"))
    assert not exact_checkable(("aten.add.Tensor", "aten.exp.default"))
    assert not exact_checkable(())
