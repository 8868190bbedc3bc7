"""A whole model compiled with backend="llm" on the GPU (target cuda, offline): its two
subgraphs (residual add + LayerNorm, and softmax, split by a flip that stays in PyTorch) run
our CUDA kernels from a seeded store, the output matches eager, and the compiled model replays
under a CUDA graph."""
import pytest
import torch
import torch.nn as nn

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
