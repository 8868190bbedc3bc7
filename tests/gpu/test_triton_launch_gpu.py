"""Triton kernels loaded by the Triton target launch through the fast path: after the first
launch of a signature, Triton's own launch path is skipped, and every launch still computes what
PyTorch does, across alignments, sizes, scalars and callable grids. Host times: bench/bench_dispatch.py."""
import pytest
import torch

from torch_llmbackend.targets import get_target

pytestmark = pytest.mark.gpu

SOURCE = '''
import torch
import triton
import triton.language as tl


@triton.jit
def _affine(x_ptr, y_ptr, n, stride, scale, offset, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = i < n
    x = tl.load(x_ptr + i * stride, mask=ok)
    tl.store(y_ptr + i, x * scale + offset, mask=ok)


class ModelNew(torch.nn.Module):
    def forward(self, x, scale=2.0, offset=1.0, block=128, callable_grid=False):
        y = torch.empty(x.numel(), dtype=x.dtype, device=x.device)
        n = x.numel()
        grid = (lambda meta: (triton.cdiv(meta["n"], meta["BLOCK"]),)) if callable_grid else (triton.cdiv(n, block),)
        _affine[grid](x, y, n, x.stride(0), scale, offset, BLOCK=block)
        return y
'''


@pytest.fixture
def model(tmp_path):
    module = get_target("triton").load(SOURCE, str(tmp_path))
    assert type(module._affine).__name__ == "FastLaunchJITFunction"
    return module.ModelNew()


@pytest.fixture
def triton_path_calls(monkeypatch):
    from triton.runtime.jit import JITFunction

    calls = []
    original = JITFunction.run

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(JITFunction, "run", counting)
    return calls


def test_repeated_launches_skip_tritons_path_and_stay_right(model, triton_path_calls):
    base = torch.randn(4096 + 64, device="cuda")
    cases = [
        dict(x=base[:4096]),
        dict(x=base[1:4097]),  # misaligned: another specialization, another compiled kernel
        dict(x=base[:17]),  # n=17 vs n=4096: other integer specializations
        dict(x=base[:16]),
        dict(x=base[:1]),  # n == 1 is a constexpr for Triton
        dict(x=base[::2][:1000]),  # stride 2
        dict(x=base[:4096], scale=-0.5, offset=3.0),
        dict(x=base[:4096], block=256),
        dict(x=base[:4096].half()),
        dict(x=base[:300], callable_grid=True),
    ]
    for round_ in range(3):
        for case in cases:
            args = {"scale": 2.0, "offset": 1.0, **case}
            x = args.pop("x")
            y = model(x, **args)
            torch.testing.assert_close(y, x.reshape(-1) * args["scale"] + args["offset"], rtol=1e-3, atol=1e-3)
    torch.cuda.synchronize()
    assert len(triton_path_calls) == len(cases)  # the first round only
