"""The model suite's entries (bench/models) build at tiny sizes and run through backend="llm" on
the CPU, matching eager. Each library's entries are skipped where it is not installed."""
import pytest
import torch

from bench.models import MODELS, available

TINY = ["tv_resnet18", "hf_gpt2", "hf_bert", "hf_llama", "timm_resnet26d"]


def test_the_suite_covers_the_ecosystem():
    libraries = {s.library for s in MODELS.values()}
    assert libraries == {"torchvision", "transformers", "timm"} and len(MODELS) >= 30
    assert {"hf_gpt2", "hf_bert", "hf_llama", "hf_bart", "tv_resnet50", "tv_vit_b_16", "tv_convnext_tiny",
            "tv_efficientnet_b0"} <= set(MODELS)


@pytest.mark.parametrize("name", TINY)
def test_a_tiny_model_compiles_and_matches_eager(cache_dir, name):
    if name not in available():
        pytest.skip(f"{MODELS[name].library} is not installed")
    model, inputs = MODELS[name].build("cpu", tiny=True)
    with torch.no_grad():
        want = model(*inputs)
        got = torch.compile(model, backend="llm", options={"fallback": "eager"})(*inputs)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-4)
