"""Each torch.compile call keeps its own report: a second compiled model does not overwrite the
first one's, report() is the latest compile's, and the rows are plain dicts."""
import pytest
import torch

import torch_llmbackend

from .models import MLP, ConvNet, inputs_for

OPTIONS = {"target": "triton", "fallback": "eager"}


def ops_of(rows):
    return {op for r in rows for op in r["ops"]}


def test_two_compiled_models_keep_their_own_reports(cache_dir):
    torch._dynamo.reset()
    mlp, conv = MLP(), ConvNet()
    with torch.no_grad():
        compiled_mlp = torch.compile(mlp, backend="llm", options=OPTIONS)
        compiled_mlp(*inputs_for(mlp))
        mlp_rows = torch_llmbackend.report()
        compiled_conv = torch.compile(conv, backend="llm", options=OPTIONS)
        compiled_conv(*inputs_for(conv))

    assert torch_llmbackend.report(compiled_mlp) == mlp_rows
    conv_rows = torch_llmbackend.report(compiled_conv)
    assert conv_rows == torch_llmbackend.report()  # the latest compile's
    assert any("convolution" in op for op in ops_of(conv_rows))
    assert not any("convolution" in op for op in ops_of(mlp_rows)) and mlp_rows
    assert all(isinstance(r, dict) and "speedup_vs_eager" in r for r in conv_rows)


def test_a_compiled_function_has_its_report_too(cache_dir):
    torch._dynamo.reset()

    def gelu_then_scale(x):
        return torch.nn.functional.gelu(x) * 2.0 + 1.0

    compiled = torch.compile(gelu_then_scale, backend="llm", options=OPTIONS)
    with torch.no_grad():
        compiled(torch.randn(8, 16))
    rows = torch_llmbackend.report(compiled)
    assert rows and any("gelu" in op for op in ops_of(rows))


def test_a_model_never_compiled_by_this_backend_is_refused_clearly():
    with pytest.raises(ValueError, match="holds no torch_llmbackend report"):
        torch_llmbackend.report(torch.compile(torch.nn.Linear(2, 2), backend="eager"))
