"""Build CUDA C++ source strings at run time with NVRTC and launch their kernels on torch's stream.

Why NVRTC and not torch.utils.cpp_extension.load_inline: load_inline runs nvcc and a host C++
compiler and links a Python extension, tens of seconds cold; NVRTC compiles device code only,
in a fraction of a second, and needs no host toolchain. Two toolchains provide NVRTC and the
driver calls: cuda-python (`cuda.bindings.nvrtc` / `cuda.bindings.driver`) and CuPy. cuda-python
is preferred because it imports in milliseconds while `import cupy` alone costs a good part of a
second (tests/gpu/test_cuda_loader_gpu.py measures both cold paths on the device); CuPy is the
fallback. Set LLMBACKEND_CUDA_TOOLCHAIN=cupy or =cuda-python to force one.

Built cubins are cached on disk under <cache>/cuda/, named by the SHA-256 of everything that
changes the binary (source, options, arch, NVRTC version, header folders), with a sidecar
holding the binary's own hash so that a truncated or damaged file is rebuilt, never loaded.

Usage from a candidate module:

    from torch_llmbackend.targets.cuda_loader import load_cuda
    SOURCE = r'''
    extern "C" __global__ void scale(const float* x, float* y, float a, int n) { ... }
    '''
    class ModelNew(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = load_cuda(SOURCE).kernel("scale")
        def forward(self, x):
            y = torch.empty_like(x)
            n = x.numel()
            self.scale(((n + 255) // 256,), (256,), (x, y, 2.0, n))
            return y

Arguments: tensors pass their data pointer; Python ints and floats take their C type from the
kernel's declared parameters (parsed from the source) or from an explicit `types=` string with
one letter per argument: p pointer, i int32, I uint32, q int64, Q uint64, f float32, d float64.
Pointer parameters are checked against the tensor's device and dtype, and the argument count
against the kernel's parameter list, so a wrong call is an error message, not a corrupted GPU.
"""
from __future__ import annotations

import ctypes
import functools
import glob
import hashlib
import json
import logging
import operator
import os
import re
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..atomic_write import write_atomically

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
DEFAULT_OPTIONS = ("-std=c++17", "-lineinfo")
PROGRAM_NAME = "kernel.cu"
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


class CudaBuildError(RuntimeError):
    """The source did not compile (or was refused before compiling). str(e) is fit for the LLM."""

    def __init__(self, message: str, log_text: str = ""):
        super().__init__(message)
        self.log = log_text


class CudaLaunchError(RuntimeError):
    """A kernel call was malformed (arguments, grid, block) or the driver refused the launch."""


# --- compile options and includes -------------------------------------------------------------

# Options a candidate may add. Anything else (include paths, output redirection, pre-includes)
# could make NVRTC read arbitrary files, so it is refused.
_ALLOWED_OPTION = re.compile(
    r"^(?:-{1,2}use_fast_math|-{1,2}maxrregcount=\d+|-D[A-Za-z_]\w*(?:=[\w.+-]*)?|-lineinfo|"
    r"-{1,2}extra-device-vectorization|-{1,2}(?:ftz|prec-div|prec-sqrt|fmad)=(?:true|false)|"
    r"-{1,2}std=c\+\+(?:17|20)|-dopt=(?:on|off)|-{1,2}restrict|-G?lineinfo)$"
)
_DIRECTIVE = re.compile(r"^[ \t]*(?:#|%:)[ \t]*(include\w*|import|embed)\b(.*)$", re.MULTILINE)
_SAFE_INCLUDE = re.compile(r"^[ \t]*<([^<>]*)>[ \t]*$")
_HEADER_NAME = re.compile(r"^[A-Za-z_][\w]*(?:/[A-Za-z_][\w]*)*(?:\.(?:h|hpp|cuh))?$")
_ARCH = re.compile(r"^sm_\d{2,3}a?$")


def check_source_policy(source: str) -> None:
    """Refuse includes that could read files outside the CUDA toolkit's headers: only
    `#include <name>` with a plain header name passes (no quotes, paths, macros, include_next)."""
    # what the preprocessor sees: continuations joined, comments gone
    text = _COMMENTS.sub(lambda m: "\n" * m.group(0).count("\n") or " ", source.replace("\\\n", ""))
    for m in _DIRECTIVE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        inc = _SAFE_INCLUDE.match(m.group(2)) if m.group(1) == "include" else None
        if inc is None or not _HEADER_NAME.match(inc.group(1).strip()):
            raise CudaBuildError(f"line {line}: `{m.group(0).strip()}` is not allowed; only toolkit headers such as "
                                 "`#include <cuda_fp16.h>` may be included")


def check_options(options: Sequence[str]) -> tuple[str, ...]:
    bad = [o for o in options if not isinstance(o, str) or not _ALLOWED_OPTION.match(o)]
    if bad:
        raise CudaBuildError(f"NVRTC option(s) not allowed: {', '.join(map(repr, bad))} (allowed: -use_fast_math, "
                             "-maxrregcount=N, -DNAME[=VALUE], --extra-device-vectorization, --ftz/prec-div/prec-sqrt/fmad=true|false)")
    return tuple(options)


@functools.lru_cache(maxsize=1)
def include_dirs() -> tuple[str, ...]:
    """Folders holding the toolkit headers (cuda_fp16.h, cuda_bf16.h, cuda/std/...).

    NVRTC has no default search path for them; they come from a CUDA install, the nvidia-* pip
    wheels next to torch, or CuPy's bundled copy, whichever this machine has."""
    candidates: list[str] = []
    try:
        from cuda import pathfinder

        found = pathfinder.find_nvidia_header_directory("cudart")
        if found:
            candidates.append(found)
    except Exception:  # pathfinder is optional and its API is young
        pass
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            candidates.append(os.path.join(os.environ[var], "include"))
    candidates.append("/usr/local/cuda/include")
    site = os.path.dirname(os.path.dirname(torch.__file__))
    candidates += sorted(glob.glob(os.path.join(site, "nvidia", "*", "include")))
    candidates += sorted(glob.glob(os.path.join(site, "cupy", "_core", "include", "cupy", "_cuda", "cuda-*")))
    found_dirs: list[str] = []
    for d in candidates:
        if d not in found_dirs and os.path.isfile(os.path.join(d, "cuda_fp16.h")):
            found_dirs.append(d)
            if os.path.isdir(os.path.join(d, "cccl")):
                found_dirs.append(os.path.join(d, "cccl"))
            break  # one toolkit's headers; mixing versions breaks builds
    return tuple(found_dirs)


# --- NVRTC log trimming -----------------------------------------------------------------------

_DIAG = re.compile(r"^(?P<file>[^\s()]+)\((?P<line>\d+)\): (?P<sev>catastrophic error|error|warning|remark)(?: #\w+-\w)?: (?P<msg>.*)$")
_TRAILER = re.compile(r"^\d+ (?:catastrophic )?errors? detected in the compilation of|^Compilation terminated\.")


def trim_log(log_text: str, max_errors: int = 8, max_chars: int = 3000) -> str:
    """The errors of an NVRTC log with their source line and caret; warnings only if no errors.

    Line numbers count from the first line of the CUDA source string."""
    blocks: list[tuple[str, list[str]]] = []
    loose: list[str] = []
    for raw in log_text.splitlines():
        line = raw.rstrip()
        m = _DIAG.match(line)
        if m:
            sev = "error" if "error" in m.group("sev") else m.group("sev")
            blocks.append((sev, [f"line {m.group('line')}: {m.group('sev')}: {m.group('msg')}"]))
        elif _TRAILER.match(line.strip()) or not line.strip():
            continue
        elif blocks and raw.startswith(" "):
            blocks[-1][1].append(line)  # the quoted source line and the caret under it
        elif "error" in line:
            blocks.append(("error", [line.strip()]))  # option errors carry no location
        else:
            loose.append(line)
    errors = [b for sev, b in blocks if sev == "error"]
    chosen = errors or [b for sev, b in blocks if sev == "warning"]
    if not chosen:
        text = "\n".join(loose).strip()
        return text[:max_chars]
    out = "\n".join("\n".join(b) for b in chosen[:max_errors])
    if len(chosen) > max_errors:
        out += f"\n... and {len(chosen) - max_errors} more errors"
    if len(out) > max_chars:
        out = out[:max_chars] + "\n... (log cut)"
    return out


# --- kernel signatures and argument packing ------------------------------------------------------

# type code -> (struct format of one 8-byte parameter slot, size in bytes)
_SLOT = {"p": ("Q", 8), "i": ("i4x", 4), "I": ("I4x", 4), "q": ("q", 8), "Q": ("Q", 8), "f": ("f4x", 4), "d": ("d", 8)}
_INT_RANGE = {"i": (-(2**31), 2**31 - 1), "I": (0, 2**32 - 1), "q": (-(2**63), 2**63 - 1), "Q": (0, 2**64 - 1)}
_SCALAR_TYPES = {
    "int": "i", "signed": "i", "signed int": "i", "int32_t": "i",
    "unsigned": "I", "unsigned int": "I", "uint32_t": "I",
    "long": "q", "long int": "q", "long long": "q", "long long int": "q", "int64_t": "q", "ptrdiff_t": "q",
    "unsigned long": "Q", "unsigned long long": "Q", "unsigned long int": "Q", "unsigned long long int": "Q",
    "uint64_t": "Q", "size_t": "Q", "float": "f", "double": "d",
}
# element type of a pointer parameter -> torch dtypes it may point to (None: any)
_POINTEE_DTYPES = {
    "float": {torch.float32}, "float2": {torch.float32}, "float4": {torch.float32},
    "double": {torch.float64}, "__half": {torch.float16}, "half": {torch.float16}, "__half2": {torch.float16},
    "half2": {torch.float16}, "__nv_bfloat16": {torch.bfloat16}, "nv_bfloat16": {torch.bfloat16},
    "__nv_bfloat162": {torch.bfloat16}, "int": {torch.int32}, "int32_t": {torch.int32},
    "unsigned": {torch.int32}, "unsigned int": {torch.int32}, "uint32_t": {torch.int32},
    "int64_t": {torch.int64}, "long long": {torch.int64}, "long": {torch.int64}, "bool": {torch.bool},
    "int8_t": {torch.int8}, "uint8_t": {torch.uint8, torch.bool}, "unsigned char": {torch.uint8, torch.bool},
    "char": {torch.int8, torch.uint8, torch.bool}, "signed char": {torch.int8},
}
_NUMPY_CODES = {"int32": "i", "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f", "float64": "d"}
_QUALIFIERS = re.compile(r"\b(?:const|volatile|__restrict__|__restrict|restrict|struct)\b")


@dataclass(frozen=True)
class Param:
    """One declared kernel parameter, as far as launching is concerned."""

    text: str  # the declaration as written, for messages
    code: str | None  # type code, None when load_cuda cannot pass it (a struct by value, ...)
    pointee: str | None = None  # element type for pointers, e.g. "float"


def parse_kernel_params(source: str, name: str) -> list[Param] | None:
    """The parameters of `__global__ ... name(...)` in `source`, or None when not found (a macro,
    a template): then only the explicit types are trusted."""
    code = _COMMENTS.sub(" ", source)
    pattern = re.compile(r"__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?"
                         + re.escape(name) + r"\s*\(([^)]*)\)")
    matches = pattern.findall(code)
    if len(matches) != 1:
        return None
    text = matches[0].strip()
    if not text or text == "void":
        return []
    params = []
    for decl in (d.strip() for d in text.split(",")):
        params.append(_param_of(decl))
    return params


def _param_of(decl: str) -> Param:
    bare = " ".join(_QUALIFIERS.sub(" ", decl).split())
    if "*" in bare:
        base = bare.split("*")[0].strip()
        return Param(decl, "p", base)
    if "&" in bare or "[" in bare:
        return Param(decl, None)
    words = bare.split()
    type_text = " ".join(words[:-1]) if len(words) > 1 else bare
    return Param(decl, _SCALAR_TYPES.get(type_text))


def resolve_types(args: Sequence[Any], types: str | None, params: list[Param] | None) -> str:
    """One type code per argument: from `types`, else numpy scalar dtypes, tensors, and the
    kernel's declared parameters. Mismatches with the declaration are errors."""
    if params is not None and len(params) != len(args):
        raise CudaLaunchError(f"the kernel takes {len(params)} parameters ({', '.join(p.text for p in params) or 'none'}) but {len(args)} arguments were given")
    if types is not None:
        if len(types) != len(args) or any(c not in _SLOT for c in types):
            raise CudaLaunchError(f"types={types!r} must have one letter per argument ({len(args)}) from p i I q Q f d")
    codes = []
    for i, a in enumerate(args):
        declared = params[i].code if params is not None else None
        given = types[i] if types is not None else _code_of_value(a)
        code = given or declared
        if code is None:
            if params is not None and params[i].code is None:
                raise CudaLaunchError(f"argument {i}: parameter `{params[i].text}` has a type load_cuda cannot pass; use pointers and int/float/double scalars")
            raise CudaLaunchError(f"argument {i} ({type(a).__name__}): its C type is unknown; pass types= (one letter per argument: p i I q Q f d) or a numpy scalar")
        if declared is not None and not _compatible(code, declared):
            raise CudaLaunchError(f"argument {i}: given as {_CODE_NAMES[code]} but the kernel declares `{params[i].text}`")
        if isinstance(a, torch.Tensor) and code != "p":
            raise CudaLaunchError(f"argument {i}: a tensor passes its data pointer; its parameter must be a pointer, not {_CODE_NAMES[code]}")
        codes.append(code)
    return "".join(codes)


_CODE_NAMES = {"p": "a pointer", "i": "int32", "I": "uint32", "q": "int64", "Q": "uint64", "f": "float32", "d": "float64"}


def _compatible(given: str, declared: str) -> bool:
    # signedness is the kernel's business; width and kind (pointer/int/float) must agree
    same = {"i": "iI", "I": "iI", "q": "qQ", "Q": "qQ", "p": "p", "f": "f", "d": "d"}
    return given in same[declared]


def _code_of_value(a: Any) -> str | None:
    if isinstance(a, torch.Tensor) or a is None:
        return "p"
    dtype = getattr(a, "dtype", None)
    if dtype is not None and not isinstance(a, torch.Tensor) and hasattr(a, "item"):
        return _NUMPY_CODES.get(str(dtype))
    return None


def pointer_of(a: Any, index: int, pointee: str | None, device: torch.device | None) -> int:
    """The device address an argument passes for a pointer parameter, after checking it."""
    if a is None:
        return 0
    if isinstance(a, torch.Tensor):
        if a.device.type != "cuda":
            raise CudaLaunchError(f"argument {index}: tensor is on {a.device}, kernels need CUDA tensors")
        if device is not None and a.device != device:
            raise CudaLaunchError(f"argument {index}: tensor is on {a.device} but the launch is on {device}")
        allowed = _POINTEE_DTYPES.get(pointee or "")
        if allowed is not None and a.dtype not in allowed:
            names = "/".join(sorted(str(d).removeprefix("torch.") for d in allowed))
            raise CudaLaunchError(f"argument {index}: tensor is {str(a.dtype).removeprefix('torch.')} but the parameter points to {pointee} ({names})")
        return a.data_ptr()
    if isinstance(a, int) and not isinstance(a, bool):
        return a
    raise CudaLaunchError(f"argument {index}: a pointer parameter takes a tensor, not {type(a).__name__}")


def pack_args(args: Sequence[Any], codes: str, params: list[Param] | None, device: torch.device | None) -> bytes:
    """All parameters, one 8-byte little-endian slot each (what kernelParams will point into)."""
    values: list[Any] = []
    for i, (a, c) in enumerate(zip(args, codes)):
        if c == "p":
            values.append(pointer_of(a, i, params[i].pointee if params else None, device))
        elif c in "iIqQ":
            try:
                v = operator.index(a)
            except TypeError:
                raise CudaLaunchError(f"argument {i}: {_CODE_NAMES[c]} parameter given {type(a).__name__} {a!r}") from None
            lo, hi = _INT_RANGE[c]
            if not lo <= v <= hi:
                raise CudaLaunchError(f"argument {i}: {v} does not fit {_CODE_NAMES[c]}")
            values.append(v)
        else:
            if isinstance(a, torch.Tensor):
                raise CudaLaunchError(f"argument {i}: pass a Python float, not a tensor, for a {_CODE_NAMES[c]} parameter")
            values.append(float(a))
    return struct.pack("<" + "".join(_SLOT[c][0] for c in codes), *values)


def launch_dims(value: Any, what: str) -> tuple[int, int, int]:
    dims = (value,) if not isinstance(value, (tuple, list)) else tuple(value)
    if not 1 <= len(dims) <= 3:
        raise CudaLaunchError(f"{what} must have 1 to 3 dimensions, got {value!r}")
    try:
        dims = tuple(operator.index(d) for d in dims)
    except TypeError:
        raise CudaLaunchError(f"{what} dimensions must be ints, got {value!r}") from None
    if any(d < 1 for d in dims):
        raise CudaLaunchError(f"{what} {value!r} has a dimension below 1 (nothing to launch; guard empty inputs)")
    dims = dims + (1,) * (3 - len(dims))
    if what == "block" and dims[0] * dims[1] * dims[2] > 1024:
        raise CudaLaunchError(f"block {value!r} has {dims[0] * dims[1] * dims[2]} threads; at most 1024")
    if what == "block" and dims[2] > 64:
        raise CudaLaunchError(f"block z dimension is at most 64, got {dims[2]}")
    if what == "grid" and (dims[0] > 2**31 - 1 or dims[1] > 65535 or dims[2] > 65535):
        raise CudaLaunchError(f"grid {value!r} exceeds the limits (x < 2^31, y and z <= 65535)")
    return dims


# --- on-disk cache ---------------------------------------------------------------------------------


def cache_dir() -> str:
    from ..options import default_cache_dir

    return os.path.join(os.environ.get("LLMBACKEND_CACHE_DIR") or default_cache_dir(), "cuda")


def cache_key(source: str, options: Sequence[str], arch: str, nvrtc_version: tuple[int, int], includes: Sequence[str] = ()) -> str:
    doc = {"format": CACHE_FORMAT, "source": source, "options": list(options), "arch": arch,
           "nvrtc": list(nvrtc_version), "includes": list(includes)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def read_cached(folder: str, key: str) -> bytes | None:
    path = os.path.join(folder, key + ".cubin")
    try:
        with open(path, "rb") as f:
            binary = f.read()
        with open(path + ".json") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if meta.get("sha256") != hashlib.sha256(binary).hexdigest():
        log.warning("cuda cache: %s is damaged (hash mismatch); rebuilding", path)
        return None
    return binary


def write_cached(folder: str, key: str, binary: bytes, meta: dict[str, Any]) -> None:
    path = os.path.join(folder, key + ".cubin")
    try:
        os.makedirs(folder, exist_ok=True)
        for target, data in ((path, binary), (path + ".json", json.dumps({**meta, "sha256": hashlib.sha256(binary).hexdigest()}).encode())):
            write_atomically(target, data)  # readers see the old file or the whole new one
    except OSError as e:  # a read-only cache costs a rebuild next time, nothing else
        log.warning("cuda cache: cannot write %s (%s); kernels will be rebuilt next time", folder, e)


# --- toolchains ----------------------------------------------------------------------------------


class _BindingsNvrtc:
    name = "cuda-python"

    def __init__(self):
        from cuda.bindings import nvrtc

        self.nvrtc = nvrtc
        err, major, minor = nvrtc.nvrtcVersion()
        if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
            raise RuntimeError(f"nvrtcVersion failed: {err}")
        self.version = (int(major), int(minor))

    def compile(self, source: str, options: Sequence[str]) -> tuple[bytes | None, str]:
        n = self.nvrtc
        err, prog = n.nvrtcCreateProgram(source.encode(), PROGRAM_NAME.encode(), 0, [], [])
        self._check(err, "nvrtcCreateProgram")
        try:
            opts = [o.encode() for o in options]
            (result,) = n.nvrtcCompileProgram(prog, len(opts), opts)
            err, size = n.nvrtcGetProgramLogSize(prog)
            self._check(err, "nvrtcGetProgramLogSize")
            buf = b" " * size
            self._check(n.nvrtcGetProgramLog(prog, buf)[0], "nvrtcGetProgramLog")
            log_text = buf.rstrip(b"\x00").decode(errors="replace")
            if result != n.nvrtcResult.NVRTC_SUCCESS:
                return None, log_text or str(result)
            err, size = n.nvrtcGetCUBINSize(prog)
            self._check(err, "nvrtcGetCUBINSize")
            cubin = b" " * size
            self._check(n.nvrtcGetCUBIN(prog, cubin)[0], "nvrtcGetCUBIN")
            return cubin, log_text
        finally:
            n.nvrtcDestroyProgram(prog)

    def _check(self, err, what: str) -> None:
        if err != self.nvrtc.nvrtcResult.NVRTC_SUCCESS:
            raise RuntimeError(f"{what} failed: {err}")


class _CupyNvrtc:
    name = "cupy"

    def __init__(self):
        from cupy.cuda import nvrtc

        self.nvrtc = nvrtc
        self.version = tuple(int(v) for v in nvrtc.getVersion())

    def compile(self, source: str, options: Sequence[str]) -> tuple[bytes | None, str]:
        n = self.nvrtc
        prog = n.createProgram(source, PROGRAM_NAME, [], [])
        try:
            try:
                n.compileProgram(prog, list(options))
            except n.NVRTCError:
                return None, n.getProgramLog(prog)
            return n.getCUBIN(prog), n.getProgramLog(prog)
        finally:
            n.destroyProgram(prog)


def _first_available(classes, error: type[Exception], what: str):
    """An instance of the first toolchain class (in preference order) that starts here."""
    errors = []
    for cls in _toolchain_order(classes):
        try:
            return cls()
        except Exception as e:  # not installed, or its native library missing
            errors.append(f"{cls.name}: {type(e).__name__}: {e}")
    raise error(f"no {what}: " + "; ".join(errors))


@functools.lru_cache(maxsize=1)
def compiler():
    """The NVRTC wrapper this process uses (cuda-python preferred; see the module docstring)."""
    return _first_available((_BindingsNvrtc, _CupyNvrtc), CudaBuildError,
                            "NVRTC available (pip install cuda-python, or cupy-cuda12x/13x)")


def _toolchain_order(classes):
    forced = os.environ.get("LLMBACKEND_CUDA_TOOLCHAIN", "")
    if forced:
        picked = [c for c in classes if c.name == forced]
        if not picked:
            raise CudaBuildError(f"LLMBACKEND_CUDA_TOOLCHAIN={forced!r} is not one of cuda-python, cupy")
        return picked
    return classes


def toolchain_status() -> tuple[bool, str]:
    """(usable, description) without raising: for the target's availability check."""
    try:
        c = compiler()
        return True, f"NVRTC {c.version[0]}.{c.version[1]} via {c.name}"
    except CudaBuildError as e:
        return False, str(e)


def _device_index(device: torch.device | None) -> int:
    if device is None or device.index is None:
        return torch.cuda.current_device()
    return device.index


def _raw_stream(index: int) -> int:
    # torch._C._cuda_getCurrentRawStream is what Inductor's generated code uses: the current
    # stream's handle without building a Stream object (the public call costs a microsecond more)
    fast = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    return fast(index) if fast is not None else torch.cuda.current_stream(index).cuda_stream


class _BindingsDriver:
    """Module loading and launches through cuda.bindings.driver in torch's primary contexts."""

    name = "cuda-python"

    def __init__(self):
        from cuda.bindings import driver

        self.driver = driver
        self.ok = driver.CUresult.CUDA_SUCCESS
        self._check(driver.cuInit(0)[0], "cuInit")
        self._contexts: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _check(self, err, what: str) -> None:
        if err != self.ok:
            _, name = self.driver.cuGetErrorName(err)
            raise CudaLaunchError(f"{what} failed: {name.decode() if isinstance(name, bytes) else name}")

    def context(self, index: int):
        with self._lock:
            if index not in self._contexts:
                torch.cuda.init()  # torch owns the primary context; retain the same one
                err, dev = self.driver.cuDeviceGet(index)
                self._check(err, "cuDeviceGet")
                err, ctx = self.driver.cuDevicePrimaryCtxRetain(dev)
                self._check(err, "cuDevicePrimaryCtxRetain")
                self._contexts[index] = ctx
            return self._contexts[index]

    def load(self, cubin: bytes, index: int):
        d = self.driver
        self._check(d.cuCtxPushCurrent(self.context(index))[0], "cuCtxPushCurrent")
        try:
            err, module = d.cuModuleLoadData(cubin)
            self._check(err, "cuModuleLoadData")
            return module
        finally:
            d.cuCtxPopCurrent()

    def function(self, module, name: str):
        err, fn = self.driver.cuModuleGetFunction(module, name.encode())
        if err == self.driver.CUresult.CUDA_ERROR_NOT_FOUND:
            return None
        self._check(err, "cuModuleGetFunction")
        return fn

    def set_max_dynamic_shared(self, fn, nbytes: int) -> None:
        attr = self.driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
        self._check(self.driver.cuFuncSetAttribute(fn, attr, nbytes)[0], f"raising the dynamic shared memory limit to {nbytes} bytes")

    def launch(self, fn, grid, block, shared_mem: int, stream: int, params: bytes, n: int, index: int) -> None:
        data = ctypes.create_string_buffer(params, len(params))
        base = ctypes.addressof(data)
        pointers = (ctypes.c_void_p * max(n, 1))(*[base + 8 * i for i in range(n)])
        d = self.driver
        (err,) = d.cuLaunchKernel(fn, *grid, *block, shared_mem, stream, ctypes.addressof(pointers), 0)
        if err in (d.CUresult.CUDA_ERROR_INVALID_CONTEXT, d.CUresult.CUDA_ERROR_INVALID_HANDLE):
            # this thread has not touched CUDA through torch yet: make the device's context current
            self._check(d.cuCtxPushCurrent(self.context(index))[0], "cuCtxPushCurrent")
            try:
                (err,) = d.cuLaunchKernel(fn, *grid, *block, shared_mem, stream, ctypes.addressof(pointers), 0)
            finally:
                d.cuCtxPopCurrent()
        self._check(err, "cuLaunchKernel")


class _StreamPtr:
    __slots__ = ("ptr",)

    def __init__(self, ptr: int):
        self.ptr = ptr


class _CupyDriver:
    name = "cupy"

    def __init__(self):
        import cupy
        from cupy.cuda import driver, function

        self.cupy, self.cudriver, self.function_mod = cupy, driver, function

    def load(self, cubin: bytes, index: int):
        with self.cupy.cuda.Device(index):
            module = self.function_mod.Module()
            module.load(cubin)
            return module

    def function(self, module, name: str):
        try:
            return module.get_function(name)
        except self.cudriver.CUDADriverError as e:
            if "NOT_FOUND" in str(e):
                return None
            raise CudaLaunchError(f"cuModuleGetFunction failed: {e}") from None

    def set_max_dynamic_shared(self, fn, nbytes: int) -> None:
        self.cudriver.funcSetAttribute(fn.ptr, 8, nbytes)  # CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES

    def launch(self, fn, grid, block, shared_mem: int, stream: int, params: bytes, n: int, index: int) -> None:
        import numpy as np

        args = tuple(np.frombuffer(params, dtype=np.uint64)) if n else ()
        try:
            # CuPy's Function reads only `.ptr` of the stream it is given
            fn(grid, block, args, shared_mem=shared_mem, stream=_StreamPtr(stream))
        except self.cudriver.CUDADriverError as e:
            raise CudaLaunchError(f"cuLaunchKernel failed: {e}") from None


@functools.lru_cache(maxsize=1)
def launcher():
    return _first_available((_BindingsDriver, _CupyDriver), CudaLaunchError,
                            "CUDA driver bindings available (pip install cuda-python or cupy)")


# --- public API -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """A compiled program: the cubin and where it came from."""

    cubin: bytes
    key: str
    arch: str
    seconds: float  # compile time, 0 when read from the cache
    cached: bool
    log: str  # NVRTC's warnings, if any


def default_arch() -> str:
    if not torch.cuda.is_available():
        raise CudaBuildError("no CUDA device to pick an architecture for; pass arch='sm_90'")
    major, minor = torch.cuda.get_device_capability()
    return f"sm_{major}{minor}"


def compile_cuda(source: str, arch: str | None = None, options: Sequence[str] = (), use_cache: bool = True) -> Built:
    """Compile `source` to a cubin for `arch` (default: the current device), through the cache.
    Needs NVRTC only, no GPU."""
    arch = arch or default_arch()
    if not _ARCH.match(arch):
        raise CudaBuildError(f"arch {arch!r} is not a real architecture like 'sm_90' or 'sm_90a'")
    extra = check_options(options)
    check_source_policy(source)
    nv = compiler()
    includes = include_dirs()
    opts = (*DEFAULT_OPTIONS, f"--gpu-architecture={arch}", *(f"-I{d}" for d in includes), *extra)
    key = cache_key(source, opts, arch, nv.version, includes)
    folder = cache_dir()
    if use_cache:
        binary = read_cached(folder, key)
        if binary is not None:
            return Built(binary, key, arch, 0.0, True, "")
    start = time.perf_counter()
    cubin, log_text = nv.compile(source, opts)
    seconds = time.perf_counter() - start
    if cubin is None:
        trimmed = trim_log(log_text)
        raise CudaBuildError(f"CUDA compile error (NVRTC {nv.version[0]}.{nv.version[1]}, {arch}; line numbers count from the first line of the CUDA source string):\n{trimmed}", log_text)
    log.debug("cuda: built %s for %s in %.3fs with %s", key[:12], arch, seconds, nv.name)
    if use_cache:
        write_cached(folder, key, cubin, {"arch": arch, "nvrtc": list(nv.version), "options": list(opts), "seconds": seconds})
    return Built(cubin, key, arch, seconds, False, log_text.strip())


class CudaKernel:
    """One `extern "C" __global__` function of a loaded module; call it to launch."""

    def __init__(self, module: "CudaModule", name: str, params: list[Param] | None):
        self.module, self.name, self.params = module, name, params
        self._functions: dict[int, Any] = {}  # device index -> driver function handle
        self._shared_limit: dict[int, int] = {}
        self._codes: dict[tuple, str] = {}  # memo of resolve_types per argument-kind pattern

    def function(self, index: int):
        fn = self._functions.get(index)
        if fn is None:
            fn = self._functions[index] = self.module.function(self.name, index)
        return fn

    def __call__(self, grid, block, args: Sequence[Any] = (), types: str | None = None, shared_mem: int = 0) -> None:
        """Launch on torch's current stream of the tensors' device (asynchronous, like any op)."""
        args = tuple(args)
        g, b = launch_dims(grid, "grid"), launch_dims(block, "block")
        pattern = (types, tuple(type(a) if not hasattr(a, "dtype") else str(a.dtype) for a in args))
        codes = self._codes.get(pattern)
        if codes is None:
            codes = self._codes[pattern] = resolve_types(args, types, self.params)
        device = next((a.device for a in args if isinstance(a, torch.Tensor)), None)
        index = _device_index(device)
        params = pack_args(args, codes, self.params, device)
        fn = self.function(index)
        if shared_mem > 48 * 1024 and self._shared_limit.get(index, 0) < shared_mem:
            self.module.driver.set_max_dynamic_shared(fn, shared_mem)
            self._shared_limit[index] = shared_mem
        self.module.driver.launch(fn, g, b, int(shared_mem), _raw_stream(index), params, len(codes), index)


class CudaModule:
    """A built CUDA program, loaded on each device it is used on."""

    def __init__(self, source: str, built: Built):
        self.source, self.built = source, built
        self.driver = launcher()
        self._modules: dict[int, Any] = {}
        self._kernels: dict[str, CudaKernel] = {}
        self._lock = threading.Lock()

    @property
    def compile_seconds(self) -> float:
        return self.built.seconds

    def _module(self, index: int):
        with self._lock:
            if index not in self._modules:
                self._modules[index] = self.driver.load(self.built.cubin, index)
            return self._modules[index]

    def function(self, name: str, index: int):
        fn = self.driver.function(self._module(index), name)
        if fn is None:
            names = re.findall(r"__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+(\w+)", _COMMENTS.sub(" ", self.source))
            raise CudaLaunchError(f"kernel {name!r} not found in the module (kernels in the source: {', '.join(names) or 'none'}); "
                                  'declare kernels extern "C" so that their names are not mangled')
        return fn

    def kernel(self, name: str) -> CudaKernel:
        k = self._kernels.get(name)
        if k is None:
            k = CudaKernel(self, name, parse_kernel_params(self.source, name))
            if torch.cuda.is_available():
                k.function(torch.cuda.current_device())  # fail now, and load outside any graph capture
            self._kernels[name] = k
        return k


_LOADED: dict[tuple[str, str, tuple[str, ...]], CudaModule] = {}  # the process-wide module cache
_LOADED_LOCK = threading.Lock()


def load_cuda(source: str, arch: str | None = None, options: Sequence[str] = ()) -> CudaModule:
    """Compile (or fetch from the cache) and load `source`; kernels come from `.kernel(name)`."""
    arch = arch or default_arch()
    memo = (source, arch, tuple(options))
    with _LOADED_LOCK:
        mod = _LOADED.get(memo)
    if mod is None:
        mod = CudaModule(source, compile_cuda(source, arch, options))
        if torch.cuda.is_available():
            mod._module(torch.cuda.current_device())
        with _LOADED_LOCK:
            mod = _LOADED.setdefault(memo, mod)
    return mod
