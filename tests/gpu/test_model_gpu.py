"""A whole model compiled with backend="llm" on the GPU (target cuda, offline): its two
subgraphs (residual add + LayerNorm, and softmax, split by a flip that stays in PyTorch) run
our CUDA kernels from a seeded store, the output matches eager, and the compiled model replays
under a CUDA graph."""
import pytest
import torch
import torch.nn as nn

import torch_llmbackend

from tests.gpu.cases import case_named
from tests.gpu.seeding import seed_and_compile

pytestmark = pytest.mark.gpu


class NormFlipSoftmax(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x, residual):
        h = self.norm(x + residual)
        return torch.softmax(torch.flip(h, [-1]), dim=-1)


def _pick(problem):
    if "aten.native_layer_norm.default" in problem.ops:
        return case_named("cu_add_layernorm").source
    if problem.ops == ("aten._softmax.default",):
        return case_named("cu_softmax").source
    return None


def test_model_runs_our_cuda_kernels_and_matches_eager(cache_dir):
    torch.manual_seed(0)
    model = NormFlipSoftmax(1000).cuda().eval()
    with torch.no_grad():
        model.norm.weight.normal_()
        model.norm.bias.normal_()
    x, residual = torch.randn(512, 1000, device="cuda"), torch.randn(512, 1000, device="cuda")
    with torch.no_grad():
        compiled, out, rows, seeded = seed_and_compile(model, [x, residual], "cuda", cache_dir, _pick, prefer="kernel")
        expected = model(x, residual)
    print("\n[model] " + "\n[model] ".join(f"{r['key'][:12]} {r['source']:8} {r['runs']:10} {r['ops'][:3]} {r['reason']}" for r in rows))
    assert len(seeded) == 2
    ran = [r for r in rows if r["key"] in seeded]
    assert len(ran) == 2 and all(r["runs"] == "kernel" and r["verified"] for r in ran), ran
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)

    # the stitched custom ops are capturable: replay the compiled model under a CUDA graph
    static_x, static_r = x.clone(), residual.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(side):
        for _ in range(3):
            compiled(static_x, static_r)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        static_out = compiled(static_x, static_r)
    new_x = torch.randn_like(x)
    static_x.copy_(new_x)
    graph.replay()
    torch.cuda.synchronize()
    with torch.no_grad():
        torch.testing.assert_close(static_out, model(new_x, residual), rtol=1e-4, atol=1e-4)


def test_target_auto_uses_a_cached_triton_kernel_when_no_cuda_one_is_cached(cache_dir):
    """target="auto" searches in CUDA, but a verified Triton kernel for the same subgraph (a
    user's earlier target="triton" search, or the shipped bundle's) is a hit all the same."""
    torch.manual_seed(0)
    x = torch.randn(256, 1000, device="cuda")
    fn = lambda t: torch.softmax(t, -1)  # noqa: E731
    with torch.no_grad():
        seed_and_compile(fn, [x], "triton", cache_dir, lambda p: case_named("tri_softmax").source, prefer="kernel")
        torch._dynamo.reset()
        out = torch.compile(fn, backend="llm", options={"target": "auto", "cache_dir": cache_dir, "mode": "offline",
                                                        "use_shipped_bundle": False, "prefer": "kernel"})(x)
    rows = [r for r in torch_llmbackend.report() if r.get("target") == "triton"]
    assert rows and rows[-1]["runs"] == "kernel" and rows[-1]["source"] == "cache", torch_llmbackend.report()
    torch.testing.assert_close(out, torch.softmax(x, -1), rtol=1e-4, atol=1e-4)
