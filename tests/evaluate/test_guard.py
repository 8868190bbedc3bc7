"""The run-time guard, used in-process here: what host code may and may not ask PyTorch for.

These tests are the "candidate": their frames are neither torch's nor Triton's, so every op they
call is judged. Triton launches (the interpreter allocates and copies) are the launcher's."""
from __future__ import annotations

import sys

import torch
import triton
import triton.language as tl

from torch_llmbackend.evaluate.guard import ComputeGuard


@triton.jit
def _double(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2.0, mask=mask)


def _line() -> int:
    return sys._getframe(1).f_lineno


# On a GPU machine the real launcher runs (no dispatcher involved at all); elsewhere the
# interpreter, which allocates and copies through torch while it launches.
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def test_allocation_views_layout_copies_and_a_triton_launch_pass():
    x = torch.randn(4, 6, device=DEVICE)
    with ComputeGuard() as guard:
        out = torch.empty_like(x)
        torch.empty_strided((6, 4), (1, 6), device=DEVICE)
        torch.zeros(3).fill_(1.5)
        torch.full((2,), 7.0).zero_()
        x.new_empty((3,))
        t = x.t().contiguous().view(-1)[2:5].reshape(3, 1).squeeze(1).unsqueeze(0).expand(2, 3)
        x.permute(1, 0).clone().copy_(x.t())
        x.to(torch.float32).detach().as_strided((2,), (1,))
        x.stride(), x.shape, x.numel(), t.is_contiguous()
        torch.empty(3, dtype=torch.promote_types(x.dtype, torch.float16))  # dtype arithmetic, no data
        _double[(1,)](x, out, x.numel(), BLOCK=32)
    assert guard.hits == []
    torch.testing.assert_close(out, x * 2)


def test_compute_from_host_code_is_recorded_with_op_and_line():
    x, y = torch.randn(8), torch.randn(8)
    with ComputeGuard() as guard:
        line = _line(); (x + y).clamp(min=0)  # noqa: E702
        torch.nn.functional.softmax(x, dim=0)
        x.sum()
    ops = [h.op for h in guard.hits]
    assert ops[:2] == ["aten.add.Tensor", "aten.clamp"] and "aten._softmax" in ops and "aten.sum" in ops
    assert guard.hits[0].line == line and guard.hits[0].file == __file__
    assert "aten.add.Tensor (test_guard.py line" in guard.summary()


def test_casts_device_moves_item_and_tensor_fills_are_compute():
    x = torch.randn(4)
    with ComputeGuard() as guard:
        x.half()
        torch.empty(4, dtype=torch.float16).copy_(x)
        x[0].item()
        torch.empty(4).fill_(x[0])
    details = " | ".join(h.describe() for h in guard.hits)
    assert "converts torch.float32 to torch.float16" in details
    assert "aten._local_scalar_dense" in details and "fill_ with a tensor value" in details


def test_the_guard_does_not_change_results():
    x = torch.randn(5)
    with ComputeGuard():
        y = torch.exp(x)
    torch.testing.assert_close(y, torch.exp(x))
