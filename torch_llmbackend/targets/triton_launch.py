"""A faster host path for launching the Triton kernels of a loaded kernel module.

`kernel[grid](*args)` goes through `JITFunction.run`, which binds and specializes every argument,
reads Triton's settings and checks its caches on every call: on the GPU machines here that took
longer on the host than the softmax it launched took on the GPU (bench/bench_dispatch.py measures
both launch paths; bench/results/2026-12-04-h200-dispatch.json). A kernel
module that launches two or three kernels then loses to eager on the wall clock however fast its
kernels are, because the CPU cannot issue calls as fast as the GPU finishes them.

Here each `JITFunction` of the module is switched to a subclass whose `run` remembers, per
launch signature, the compiled kernel that Triton chose, and launches it directly through its
launcher on later calls with the same signature. The signature is stricter than Triton's own
specialization, so a remembered kernel is only reused where Triton would have picked it too:
  - a tensor: its dtype, and whether its address is 16-byte aligned (what Triton specializes on);
  - any other argument (ints, floats, bools, None, strings, constexprs): its exact type and value;
  - the launch options (num_warps, ...), and the current device.
Anything else (an argument of another type, launch hooks set by a profiler, a Triton whose
launch convention we have not checked) takes Triton's own path unchanged. The first launch of
every signature also takes Triton's path, which compiles and returns the kernel we then keep.

Safety does not rest on this reasoning alone: the worker verifies and times a candidate
through this same loader, so a kernel whose fast launches went wrong would fail verification
and never be used.
"""
from __future__ import annotations

import functools
import inspect
import logging
import types
from typing import Any

import torch

from ..options import switched_off

log = logging.getLogger(__name__)

MAX_SIGNATURES = 64  # per kernel; past this (an int argument that changes every call) no new ones are kept
_SCALARS = (int, float, bool, str, type(None))


@functools.lru_cache(maxsize=1)
def fast_launch_supported() -> str | None:
    """None when this Triton launches the way the fast path does, else why not."""
    if switched_off("LLMBACKEND_TRITON_FAST_LAUNCH"):
        return "disabled by LLMBACKEND_TRITON_FAST_LAUNCH"
    try:
        from triton.runtime.jit import JITFunction

        source = inspect.getsource(JITFunction.run)
    except Exception as e:  # no Triton, or no source to check against
        return f"cannot inspect triton's JITFunction.run ({type(e).__name__})"
    # The launch statement the fast path reproduces: every bound argument, constexprs included,
    # in parameter order, after the grid, the stream, the function and Triton's metadata.
    expected = ("kernel.run(grid_0, grid_1, grid_2, stream, kernel.function, kernel.packed_metadata", "*bound_args.values())")
    if not all(part in source for part in expected):
        return "this Triton version launches kernels another way than the fast path knows"
    return None


def enable_fast_launch(module: types.ModuleType) -> int:
    """Switch the module's Triton kernels (also those inside autotune/heuristics wrappers) to the
    fast launch path; returns how many. A no-op under Triton's interpreter."""
    why_not = fast_launch_supported()
    if why_not is not None:
        log.debug("Triton fast launch off: %s", why_not)
        return 0
    from triton.runtime.jit import JITFunction

    cls = _fast_class()
    count = 0
    for value in list(vars(module).values()):
        fn, seen = value, 0
        while fn is not None and seen < 8:  # Autotuner(Heuristics(JITFunction)) chains
            if type(fn) is JITFunction:
                fn.__class__ = cls
                fn._llm_launches = {}
                fn._llm_params = parameters(fn)
                count += 1
                break
            fn, seen = getattr(fn, "fn", None), seen + 1
    return count


@functools.lru_cache(maxsize=1)
def _fast_class():
    from triton.runtime.jit import JITFunction

    class FastLaunchJITFunction(JITFunction):
        """A JITFunction that launches kernels it has launched before without re-binding."""

        def run(self, *args, grid, warmup, **kwargs):
            if warmup or _hooks_active() or getattr(self, "pre_run_hooks", None):
                return JITFunction.run(self, *args, grid=grid, warmup=warmup, **kwargs)
            device = torch.cuda.current_device()
            key = launch_key(args, kwargs, device)
            launches = self._llm_launches
            kernel = launches.get(key) if key is not None else None
            if kernel is not None and _globals_unchanged(self):
                values = _bound_values(self._llm_params, args, kwargs)
                if values is not None:
                    _launch(kernel, grid, values, self._llm_params, device)
                    return kernel
            kernel = JITFunction.run(self, *args, grid=grid, warmup=False, **kwargs)
            if key is not None and kernel is not None and len(launches) < MAX_SIGNATURES:
                launches[key] = kernel
            return kernel

    return FastLaunchJITFunction


def launch_key(args: tuple, kwargs: dict, device: int) -> tuple | None:
    """The launch signature (see the module docstring), or None when an argument is of a type
    the fast path does not reason about. Written as one loop: it runs on every launch."""
    parts: list[Any] = [device, tuple(kwargs)]  # keyword names in call order, then every value
    append = parts.append
    for value in (*args, *kwargs.values()) if kwargs else args:
        kind = type(value)
        if kind in _SCALARS:
            append((kind, value))
        elif isinstance(value, torch.Tensor):
            append((value.dtype, not value.data_ptr() & 15))
        else:
            part = _other_key(value)
            if part is None:
                return None
            append(part)
    return tuple(parts)


def _other_key(value: Any):
    if type(value).__name__ == "constexpr" and hasattr(value, "value"):  # tl.constexpr(...)
        inner = value.value
        return ("constexpr", type(inner), inner) if type(inner) in _SCALARS else None
    if isinstance(value, torch.dtype):
        return ("dtype", value)
    return None


def parameters(fn) -> tuple[tuple[str, Any], ...]:
    """(name, default) of each parameter of a Triton kernel, in order; read once per kernel,
    not on every launch."""
    return tuple((name, p.default) for name, p in fn.signature.parameters.items())


def _bound_values(params: tuple[tuple[str, Any], ...], args: tuple, kwargs: dict) -> list | None:
    """The kernel's parameters in order, as Triton binds them (defaults filled in)."""
    if len(args) > len(params):
        return None
    values = list(args)
    for name, default in params[len(args):]:
        if name in kwargs:
            values.append(kwargs[name])
        elif default is not inspect.Parameter.empty:
            values.append(default)
        else:
            return None
    return values


def _launch(kernel, grid, values: list, params: tuple[tuple[str, Any], ...], device: int) -> None:
    if callable(grid):
        grid = grid({name: value for (name, _), value in zip(params, values)})
    size = len(grid)
    stream = torch._C._cuda_getCurrentRawStream(device)
    kernel.run(grid[0], grid[1] if size > 1 else 1, grid[2] if size > 2 else 1, stream, kernel.function,
               kernel.packed_metadata, None, None, None, *values)


def _hooks_active() -> bool:
    """True while anyone (a profiler such as proton) has set Triton launch hooks: then every
    launch takes Triton's own path, which calls them."""
    owner = _hook_owner()
    return any(h is not None and getattr(h, "calls", True)
               for h in (owner.launch_enter_hook, owner.launch_exit_hook))


@functools.lru_cache(maxsize=1)
def _hook_owner():
    """Where this Triton keeps its launch hooks: `knobs.runtime` (3.4 on), else CompiledKernel."""
    try:
        from triton import knobs

        knobs.runtime.launch_enter_hook  # noqa: B018 (present?)
        return knobs.runtime
    except (ImportError, AttributeError):
        from triton.compiler.compiler import CompiledKernel

        return CompiledKernel


def _globals_unchanged(fn) -> bool:
    """Triton refuses to launch a kernel whose module globals changed since it was compiled;
    the fast path leaves that check to Triton's path."""
    missing = object()
    return all(scope.get(name, missing) == value for (name, _), (value, scope) in fn.used_global_vals.items())
