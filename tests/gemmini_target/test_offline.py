"""Offline (no LLM): every Gemmini subgraph runs on the target's own library lowering, verified
against eager, and the report gives simulated cycles."""
import torch

from tests.gemmini_target.models import MLP, Int8MLP, SmallCNN, WithSigmoid
from torch_llmbackend.backend import report


def compile_and_run(model, x, options):
    with torch.no_grad():
        return torch.compile(model, backend="llm", options=options)(x), model(x)


def gemmini_rows():
    return [r for r in report() if r["target"] == "gemmini"]


def test_fp32_mlp_runs_on_the_library_baseline_and_matches_eager(gemmini_options):
    torch.manual_seed(0)
    got, want = compile_and_run(MLP(), torch.randn(8, 32), gemmini_options)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    (row,) = gemmini_rows()
    assert row["runs"] == "library" and row["verified"]
    assert row["time_unit"] == "cycles" and row["kernel_time"] > 0 and row["library_time"] == row["kernel_time"]
    assert "aten.addmm.default" in row["ops"] and "aten.relu.default" in row["ops"]


def test_small_cnn_conv_relu_pool_and_linear_run_as_one_gemmini_subgraph(gemmini_options):
    torch.manual_seed(0)
    got, want = compile_and_run(SmallCNN(), torch.randn(2, 3, 8, 8), gemmini_options)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    rows = report()
    assert [r["runs"] for r in rows] == ["library"], rows  # nothing left in PyTorch
    assert {"aten.convolution.default", "aten.max_pool2d_with_indices.default", "aten.addmm.default"} <= set(rows[0]["ops"])


def test_int8_mlp_with_requantize_matches_eager_exactly(gemmini_options):
    x = torch.randint(-8, 8, (32, 32), dtype=torch.int8, generator=torch.Generator().manual_seed(1))
    got, want = compile_and_run(Int8MLP(), x, gemmini_options)
    assert got.dtype == torch.int8 and torch.equal(got, want)
    (row,) = gemmini_rows()
    assert row["runs"] == "library" and row["kernel_time"] > 0
    assert "aten._int_mm.default" in row["ops"] and "aten.round.default" in row["ops"]


def test_what_gemmini_cannot_do_stays_in_pytorch_with_the_reason(gemmini_options):
    torch.manual_seed(0)
    got, want = compile_and_run(WithSigmoid(), torch.randn(4, 16), gemmini_options)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    rows = report()
    (kernel,) = gemmini_rows()
    assert kernel["runs"] == "library"
    (left,) = [r for r in rows if r["target"] == "pytorch"]
    assert left["ops"] == ["aten.sigmoid.default"] and "not supported by the gemmini target" in left["reason"]
