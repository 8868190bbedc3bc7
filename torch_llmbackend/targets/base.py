"""What every target provides: which ops it can run, how a candidate module is loaded, and the
guide that tells the LLM what an answer must look like.

A candidate for any target is the source of one Python module that defines `ModelNew`, an
`nn.Module` constructed with no arguments whose forward has the reference `Model`'s contract
(same positional inputs; one tensor or a tuple of tensors out). What differs per target is
what that module may import and how it gets its kernel built (Triton JIT, our CUDA loader,
gemmini_runtime).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import types
from dataclasses import dataclass

import torch

from ..atomic_write import write_atomically
from ..op_names import op_name
from ..records import TensorSpec

aten = torch.ops.aten

# Ops that only re-describe memory. They may sit inside a subgraph but do not make it worth a
# kernel on their own, and the partitioner may leave them outside.
VIEW_OPS = frozenset(
    {
        aten.view.default, aten._unsafe_view.default, aten.reshape.default, aten.permute.default,
        aten.t.default, aten.transpose.int, aten.expand.default, aten.unsqueeze.default,
        aten.squeeze.dim, aten.squeeze.dims, aten.squeeze.default, aten.alias.default,
        aten.slice.Tensor, aten.select.int, aten.as_strided.default, aten.clone.default,
        aten._to_copy.default, aten.detach.default,
    }
)

FLOAT_DTYPES = frozenset({"float32", "float16", "bfloat16"})
# masks from comparisons (relu's backward, where) travel between ops inside GPU kernels
GPU_DTYPES = FLOAT_DTYPES | {"bool"}


def cuda_capability() -> str | None:
    """'sm_90' for the current CUDA device, None without one."""
    if not torch.cuda.is_available():
        return None
    major, minor = torch.cuda.get_device_capability()
    return f"sm_{major}{minor}"


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def spec_of(t: torch.Tensor) -> TensorSpec:
    """The spec of a tensor of static sizes (graph/subgraph.spec_at handles symbolic ones)."""
    return TensorSpec(tuple(int(s) for s in t.shape), tuple(int(s) for s in t.stride()), dtype_name(t.dtype), t.device.type)


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""


class Target:
    """Base class; one subclass per target in targets/<name>.py."""

    name: str = ""
    # Python modules a candidate may import (checked statically before anything runs).
    allowed_imports: frozenset[str] = frozenset({"torch", "math"})
    # aten ops (OpOverload) this target can run inside a kernel
    ops: frozenset = frozenset()
    dtypes: frozenset[str] = FLOAT_DTYPES
    # False for a target timed in its own unit (Gemmini's simulated cycles): eager and Inductor
    # run on another device, so only the target's own baseline_source is comparable
    wall_clock_baselines: bool = True

    def availability(self, device_type: str) -> Availability:
        raise NotImplementedError

    def capability(self, device_type: str) -> str:
        """What in the device changes which kernel is right (enters the key)."""
        raise NotImplementedError

    def key_versions(self) -> dict[str, str]:
        """Versions that change what a kernel source means (enter the key). Major versions only:
        a cached kernel is re-verified on first use anyway when the exact versions differ."""
        return {"torch": torch.__version__.split(".")[0]}

    def unsupported_reason(self, node: torch.fx.Node) -> str | None:
        """None when this target can run `node` inside a kernel, else why not, in words."""
        if node.op != "call_function":
            return f"{node.op} nodes stay in PyTorch"
        if node.target not in self.ops and node.target not in VIEW_OPS:
            return f"{op_name(node.target)} is not supported by the {self.name} target"
        for v in _tensor_vals(node):
            if dtype_name(v.dtype) not in self.dtypes:
                return f"dtype {dtype_name(v.dtype)} is not supported by the {self.name} target"
        return None

    def guide(self) -> str:
        """Prompt text: what the answer must define and how kernels are written for this target."""
        raise NotImplementedError

    def baseline_source(self, problem) -> str | None:
        """A candidate module written by the target itself, no LLM (Gemmini: calls into its tiled
        library). When present it is the yardstick a kernel must beat, and it is what runs on a
        miss. It is verified like any candidate before use. None: the baselines are eager and
        Inductor."""
        return None

    def measure(self, instance, inputs, problem=None):
        """A target-specific run-time figure (records.Timing) for one forward of `instance`, e.g.
        Gemmini's simulated cycles; None means wall-clock timing applies. With `problem`, a
        target may also check that the measured work is the problem's work (raise if not)."""
        return None

    def load(self, source: str, workdir: str, *, allow_libraries: bool = False) -> types.ModuleType:
        """Import a kernel module from its source after running the static checks on it again.

        This is the caller's path (a cache hit, a bundle, a benchmark): the source was checked
        and verified once, but a store entry can be rewritten since, so nothing of it runs
        before it passes the checks. Raises RefusedSource naming every violation."""
        # imported here: evaluate/ imports the targets, and the checks need nothing of them
        from ..evaluate.static_checks import check_candidate

        violations = check_candidate(source, self.allowed_imports, allow_libraries=allow_libraries)
        if violations:
            raise RefusedSource(self.name, violations)
        return self.load_unchecked(source, workdir)

    def load_unchecked(self, source: str, workdir: str) -> types.ModuleType:
        """Import a candidate module with no checks: only inside the worker process, whose
        sandbox, run-time guard and limits hold on their own (the caller checked it first)."""
        return load_module_from_source(source, workdir, prefix=f"llmk_{self.name}")


class RefusedSource(RuntimeError):
    """A kernel source that fails the static checks at load time; nothing of it ran."""

    def __init__(self, target: str, violations: list):
        from ..evaluate.violation import format_violations

        self.violations = list(violations)
        super().__init__(f"refused to load a {target} kernel: its source fails the static checks (a store entry or bundle "
                         f"changed after verification?), so none of it runs:\n{format_violations(self.violations)}")


def _tensor_vals(node: torch.fx.Node):
    val = node.meta.get("val")
    vals = val if isinstance(val, (tuple, list)) else [val]
    return [v for v in vals if isinstance(v, torch.Tensor)]


def load_module_from_source(source: str, workdir: str, prefix: str) -> types.ModuleType:
    """Write `source` to `<workdir>/<prefix>_<hash>.py` and import it under a unique name.

    Triton reads kernel source from files (inspect.getsource), so candidates are real files.
    The name carries the content hash, so two different candidates never share a module."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    name = f"{prefix}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, name + ".py")
    write_atomically(path, source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
