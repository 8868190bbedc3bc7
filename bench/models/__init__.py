"""Models nobody here wrote, built from configs with random weights (no hub downloads): the
torchvision, transformers and timm models users run. Each entry builds its model and inputs at
a realistic size, or at a tiny size for CPU tests; a library that is not installed makes its
entries unavailable (`available()` says which), never an import error.

    from bench.models import MODELS, available
    spec = MODELS["hf_gpt2"]
    model, inputs = spec.build("cuda", torch.float32)
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class ModelSpec:
    name: str
    library: str  # "torchvision" | "transformers" | "timm"
    kind: str  # "vision" | "text"
    make: Callable[[bool], torch.nn.Module]  # tiny -> model
    batch: int = 8
    seq: int = 128  # text models
    image: int = 224  # vision models
    trainable: bool = False  # part of the training-step suite

    def build(self, device: str, dtype: torch.dtype = torch.float32, tiny: bool = False,
              batch: int | None = None) -> tuple[torch.nn.Module, list]:
        torch.manual_seed(0)
        model = self.make(tiny).to(device=device, dtype=dtype).eval()
        return model, self.inputs(device, dtype, tiny, batch)

    def inputs(self, device: str, dtype: torch.dtype, tiny: bool = False, batch: int | None = None) -> list:
        b = batch or (2 if tiny else self.batch)
        if self.kind == "text":
            seq = 16 if tiny else self.seq
            return [torch.randint(0, 1000, (b, seq), device=device)]
        size = 64 if tiny else self.image
        return [torch.randn(b, 3, size, size, device=device, dtype=dtype)]


def _tv(name: str, **kw) -> Callable[[bool], torch.nn.Module]:
    def make(tiny: bool) -> torch.nn.Module:
        import torchvision

        return getattr(torchvision.models, name)(weights=None, **kw)
    return make


def _timm(name: str) -> Callable[[bool], torch.nn.Module]:
    def make(tiny: bool) -> torch.nn.Module:
        import timm

        return timm.create_model(name, pretrained=False)
    return make


def _hf(config_cls: str, model_cls: str, **config) -> Callable[[bool], torch.nn.Module]:
    """A transformers model from its config, returning tuples (return_dict=False) so outputs
    compare as tensors; `tiny` shrinks it to two layers and a narrow width."""
    def make(tiny: bool) -> torch.nn.Module:
        import transformers

        cfg = dict(config)
        if tiny:
            cfg.update({k: 2 for k in ("num_hidden_layers", "n_layer", "num_layers", "encoder_layers", "decoder_layers",
                                       "num_decoder_layers") if k in cfg})
            for k in ("hidden_size", "n_embd", "d_model"):
                if k in cfg:
                    cfg[k] = 64
            for k in ("intermediate_size", "d_ff", "encoder_ffn_dim", "decoder_ffn_dim", "n_inner"):
                if k in cfg:
                    cfg[k] = 128
            for k in ("num_attention_heads", "n_head", "num_heads", "encoder_attention_heads", "decoder_attention_heads",
                      "num_key_value_heads"):
                if k in cfg:
                    cfg[k] = 2
        conf = getattr(transformers, config_cls)(vocab_size=1000, return_dict=False, **cfg)
        if hasattr(conf, "use_cache"):
            conf.use_cache = False  # no key/value cache objects in the outputs
        return _TextModel(getattr(transformers, model_cls)(conf), encoder_decoder="decoder_layers" in cfg or "num_decoder_layers" in cfg)
    return make


class _TextModel(torch.nn.Module):
    """input_ids in, the model's tensors out (an encoder-decoder gets the ids on both sides)."""

    def __init__(self, inner: torch.nn.Module, encoder_decoder: bool):
        super().__init__()
        self.inner, self.encoder_decoder = inner, encoder_decoder

    def forward(self, input_ids):
        if self.encoder_decoder:
            out = self.inner(input_ids=input_ids, decoder_input_ids=input_ids)
        else:
            out = self.inner(input_ids=input_ids)
        return tuple(t for t in out if isinstance(t, torch.Tensor))


def _specs() -> list[ModelSpec]:
    tv = [("resnet18", {}), ("resnet50", {}), ("vit_b_16", {}), ("convnext_tiny", {}), ("efficientnet_b0", {}),
          ("mobilenet_v3_large", {}), ("regnet_y_400mf", {}), ("densenet121", {}), ("squeezenet1_1", {}),
          ("shufflenet_v2_x1_0", {}), ("mnasnet1_0", {}), ("swin_t", {}), ("resnext50_32x4d", {}), ("vgg11_bn", {})]
    out = [ModelSpec(f"tv_{n}", "torchvision", "vision", _tv(n, **kw), trainable=n in ("resnet18", "vit_b_16"))
           for n, kw in tv]
    hf = [
        ("hf_gpt2", "GPT2Config", "GPT2LMHeadModel", dict(n_layer=6, n_embd=768, n_head=12, n_positions=1024), True),
        ("hf_bert", "BertConfig", "BertModel", dict(num_hidden_layers=6, hidden_size=768, num_attention_heads=12,
                                                    intermediate_size=3072), True),
        ("hf_llama", "LlamaConfig", "LlamaForCausalLM", dict(num_hidden_layers=4, hidden_size=512, num_attention_heads=8,
                                                             num_key_value_heads=8, intermediate_size=1376), True),
        ("hf_bart", "BartConfig", "BartModel", dict(encoder_layers=3, decoder_layers=3, d_model=512,
                                                    encoder_attention_heads=8, decoder_attention_heads=8,
                                                    encoder_ffn_dim=2048, decoder_ffn_dim=2048), False),
        ("hf_t5", "T5Config", "T5Model", dict(num_layers=3, num_decoder_layers=3, d_model=512, num_heads=8, d_ff=2048), False),
        ("hf_distilbert", "DistilBertConfig", "DistilBertModel", {}, False),
        ("hf_roberta", "RobertaConfig", "RobertaModel", dict(num_hidden_layers=4), False),
        ("hf_albert", "AlbertConfig", "AlbertModel", dict(num_hidden_layers=4), False),
        ("hf_electra", "ElectraConfig", "ElectraModel", dict(num_hidden_layers=4), False),
        ("hf_opt", "OPTConfig", "OPTForCausalLM", dict(num_hidden_layers=4, hidden_size=768, num_attention_heads=12,
                                                       ffn_dim=3072), False),
        ("hf_mistral", "MistralConfig", "MistralForCausalLM", dict(num_hidden_layers=4, hidden_size=512,
                                                                   num_attention_heads=8, num_key_value_heads=2,
                                                                   intermediate_size=1376), False),
        ("hf_qwen2", "Qwen2Config", "Qwen2ForCausalLM", dict(num_hidden_layers=4, hidden_size=512, num_attention_heads=8,
                                                             num_key_value_heads=2, intermediate_size=1376), False),
    ]
    out += [ModelSpec(n, "transformers", "text", _hf(c, m, **cfg), trainable=t) for n, c, m, cfg, t in hf]
    timm_models = ["vit_small_patch16_224", "deit_tiny_patch16_224", "convnext_nano", "efficientnet_b0",
                   "mobilevitv2_050", "resnet26d"]
    out += [ModelSpec(f"timm_{n}", "timm", "vision", _timm(n)) for n in timm_models]
    return out


MODELS: dict[str, ModelSpec] = {s.name: s for s in _specs()}


def available() -> dict[str, ModelSpec]:
    """The entries whose library is installed here."""
    present = {lib: importlib.util.find_spec(lib) is not None for lib in ("torchvision", "transformers", "timm")}
    return {n: s for n, s in MODELS.items() if present[s.library]}
