"""The Triton fast launch path: which launches it may reuse a compiled kernel for (CPU), and
that its launches compute what Triton's own path computes (tests/gpu/test_triton_launch_gpu.py)."""
import inspect

import pytest
import torch

triton = pytest.importorskip("triton")

from torch_llmbackend.targets.triton_launch import _bound_values, enable_fast_launch, fast_launch_supported, launch_key, parameters  # noqa: E402


def test_a_misaligned_tensor_gets_its_own_signature():
    base = torch.zeros(64)
    aligned, misaligned = base[:32], base[1:33]  # 4-byte offset: Triton's alignment specialization differs
    assert launch_key((aligned, 8), {}, 0) == launch_key((base[4:36], 8), {}, 0)  # 16-byte offset: same
    assert launch_key((aligned, 8), {}, 0) != launch_key((misaligned, 8), {}, 0)


def test_scalars_enter_the_signature_by_exact_value_and_type():
    x = torch.zeros(16)
    keys = {launch_key((x, n), {}, 0) for n in (1, 16, 17, 32)}
    assert len(keys) == 4  # stricter than Triton's ==1 / %16 classes: never looser
    assert launch_key((x, 1), {}, 0) != launch_key((x, True), {}, 0) != launch_key((x, 1.0), {}, 0)
    assert launch_key((x,), {"BLOCK": 128, "num_warps": 4}, 0) != launch_key((x,), {"BLOCK": 128, "num_warps": 8}, 0)
    assert launch_key((x,), {}, 0) != launch_key((x,), {}, 1)  # per device
    assert launch_key((x,), {"BLOCK": 128}, 0) != launch_key((x,), {"XBLOCK": 128}, 0)
    assert launch_key((x.half(),), {}, 0) != launch_key((x,), {}, 0)


def test_an_argument_it_cannot_reason_about_takes_tritons_path():
    class Descriptor:  # e.g. a TMA tensor descriptor
        pass

    assert launch_key((torch.zeros(4), Descriptor()), {}, 0) is None
    assert launch_key((torch.zeros(4),), {"extra": [1, 2]}, 0) is None
    assert launch_key((torch.zeros(4), (1, 2)), {}, 0) is None  # tuple arguments: Triton's path


def _kernel(x_ptr, y_ptr, n, scale=2.0, BLOCK: "tl.constexpr" = 128):  # noqa: F821 (only its signature is used)
    pass


class _Signed:
    signature = inspect.signature(_kernel)


def test_arguments_are_bound_in_parameter_order_with_defaults():
    x, y = torch.zeros(2), torch.zeros(2)
    params = parameters(_Signed)
    assert _bound_values(params, (x, y, 5), {"BLOCK": 64}) == [x, y, 5, 2.0, 64]
    assert _bound_values(params, (x,), {"n": 3, "y_ptr": y}) == [x, y, 3, 2.0, 128]
    assert _bound_values(params, (x,), {}) is None  # a missing argument: Triton's path raises the error


def test_this_triton_is_one_the_fast_path_knows():
    major_minor = tuple(int(p) for p in triton.__version__.split(".")[:2])
    reason = fast_launch_supported()
    if (3, 4) <= major_minor <= (3, 9):  # the versions whose launch statement we checked
        assert reason is None
    else:
        assert reason is None or "Triton" in reason or "triton" in reason


def test_loading_switches_only_real_jit_functions(monkeypatch):
    from triton.runtime.jit import JITFunction

    if fast_launch_supported() is not None:
        pytest.skip(fast_launch_supported())
    module = type(inspect)("kernels")
    module.kernel = JITFunction(_kernel)
    module.not_a_kernel = _kernel

    class Wrapper:  # the shape of triton.autotune / triton.heuristics objects
        def __init__(self, fn):
            self.fn = fn

    module.tuned = Wrapper(Wrapper(JITFunction(_kernel)))
    assert enable_fast_launch(module) == 2
    assert isinstance(module.kernel, JITFunction) and type(module.kernel) is not JITFunction
    assert isinstance(module.tuned.fn.fn, JITFunction) and module.not_a_kernel is _kernel
    assert enable_fast_launch(module) == 0  # loading the same module again changes nothing
    monkeypatch.setenv("LLMBACKEND_TRITON_FAST_LAUNCH", "0")
    fast_launch_supported.cache_clear()
    try:
        assert fast_launch_supported() == "disabled by LLMBACKEND_TRITON_FAST_LAUNCH"
    finally:
        monkeypatch.undo()
        fast_launch_supported.cache_clear()
