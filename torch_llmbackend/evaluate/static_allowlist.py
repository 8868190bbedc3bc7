"""What a candidate module may name: the allowlists of the default-deny static checks.

Anything a candidate (LLM or bundle) writes may import and use only what is listed here; a name
reached any other way is refused by name (static_checks.py). The lists follow what the shipped
kernels (cache/kernels, bench/curated, the tests' kernels) and a launch wrapper need: Triton's
language inside kernels; on the host, allocation, shape/stride/dtype/device queries, dtypes,
streams and the current device, cdiv-like helpers and `torch.nn.Module` as the base class.
DESIGN.md ("Untrusted code") states the same lists in words; keep the two in step.
"""
from __future__ import annotations

import math
import re

CUDA_LOADER = "torch_llmbackend.targets.cuda_loader"
GEMMINI_KERNEL = "torch_llmbackend.targets.gemmini_kernel"

# Module paths a candidate may import or name as the inner part of a dotted name (`torch.cuda`
# in `torch.cuda.current_stream()`). A module itself is never a value: it may not be stored,
# passed, returned or subscripted.
MODULES = frozenset(
    {
        "torch", "torch.nn", "torch.cuda", "math",
        "triton", "triton.language", "triton.language.math", "triton.language.extra",
        "triton.language.extra.libdevice", "triton.language.extra.cuda", "triton.language.extra.cuda.libdevice",
        "torch_llmbackend", "torch_llmbackend.targets", CUDA_LOADER, GEMMINI_KERNEL,
    }
)

_TORCH = {
    # allocation (what the run-time guard counts as allocation, too)
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
    # dtypes, layouts and memory formats
    "float32", "float", "float16", "half", "bfloat16", "float64", "double", "int8", "uint8", "int16", "int32",
    "int", "int64", "long", "bool", "float8_e4m3fn", "float8_e5m2", "dtype", "strided", "contiguous_format",
    "channels_last", "preserve_format",
    # types and dtype arithmetic (no tensor data is read)
    "Tensor", "Size", "device", "finfo", "iinfo", "promote_types", "result_type", "is_tensor",
    "get_default_dtype",
    # base class and inference context
    "nn.Module", "no_grad", "inference_mode",
    # streams and the current device
    "cuda.current_device", "cuda.current_stream", "cuda.default_stream", "cuda.device", "cuda.device_count",
    "cuda.get_device_properties", "cuda.get_device_capability", "cuda.is_available",
}

_TRITON = {"jit", "autotune", "heuristics", "Config", "cdiv", "next_power_of_2",
           # device queries persistent kernels size their grids with (exactly these names: the
           # rest of triton.runtime compiles, caches and loads binaries)
           "runtime.driver.active.utils.get_device_properties", "runtime.driver.active.get_current_device"}

# triton.language: what a kernel body computes with (it runs on the device, or in Triton's
# interpreter as numpy); nothing here reaches files, processes or the host's memory.
_TL = {
    "program_id", "num_programs", "arange", "load", "store", "zeros", "zeros_like", "full", "where", "dot",
    "sum", "max", "min", "argmax", "argmin", "reduce", "cumsum", "cumprod", "associative_scan", "sort", "flip",
    "exp", "exp2", "log", "log2", "sqrt", "sqrt_rn", "rsqrt", "abs", "sin", "cos", "sigmoid", "softmax", "erf",
    "floor", "ceil", "fma", "div_rn", "fdiv", "maximum", "minimum", "clamp", "umulhi", "cdiv",
    "trans", "permute", "reshape", "view", "broadcast", "broadcast_to", "expand_dims", "join", "split",
    "interleave", "ravel", "cat", "make_block_ptr", "advance",
    "atomic_add", "atomic_max", "atomic_min", "atomic_cas", "atomic_xchg", "atomic_and", "atomic_or", "atomic_xor",
    "debug_barrier", "multiple_of", "max_contiguous", "max_constancy", "static_range", "range", "static_assert",
    "constexpr", "tensor", "PropagateNan.ALL", "PropagateNan.NONE",
    "float16", "bfloat16", "float32", "float64", "int1", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "float8e4nv", "float8e5",
}

# Inside a @triton.jit body the values are Triton's, whose methods are triton.language's
# functions (`acc.sum(axis=0)`, `x.exp()`): allowed there as attributes, never on the host,
# where `x.sum()` would be PyTorch doing the work.
TRITON_VALUE_METHODS = frozenset(
    n for n in _TL if "." not in n and n not in {"constexpr", "tensor", "range", "static_range"}
    and not re.match(r"^(?:u?int\d+|float\d+|bfloat16|float8\w+)$", n)
)

# name -> allowed. Prefixes ending in "." allow any public name below them (math functions of
# libdevice and tl.math: pure arithmetic, device side).
ALLOWED_NAMES = frozenset(
    {f"torch.{n}" for n in _TORCH}
    | {f"triton.{n}" for n in _TRITON}
    | {f"triton.language.{n}" for n in _TL}
    | {f"math.{n}" for n in dir(math) if not n.startswith("_")}
    # the targets' loaders; Gemmini's `workspace` allocates a simulated-DRAM buffer and names the
    # layer if that fails (torch.empty with a clearer error)
    | {f"{CUDA_LOADER}.load_cuda", f"{GEMMINI_KERNEL}.GemminiKernel", f"{GEMMINI_KERNEL}.workspace"}
)
ALLOWED_PREFIXES = ("triton.language.math.", "triton.language.extra.libdevice.", "triton.language.extra.cuda.libdevice.")

# Decorators (resolved names; a call of one, `@triton.jit(...)`, is the same decorator).
ALLOWED_DECORATORS = frozenset(
    {"triton.jit", "triton.autotune", "triton.heuristics", "torch.no_grad", "torch.inference_mode",
     "staticmethod", "classmethod", "property"}
)
BASE_CLASSES = frozenset({"torch.nn.Module"})

# Calls that may run when the module is imported (module and class level, decorators, default
# arguments): they make constants or kernel objects, never state or side effects.
IMPORT_TIME_CALLS = frozenset(
    {"tuple", "frozenset", "int", "float", "str", "bool", "range", "len", "min", "max", "abs", "round", "list",
     "dict", "set", "sorted", "zip", "enumerate",
     "triton.jit", "triton.autotune", "triton.heuristics", "triton.Config", "triton.cdiv", "triton.next_power_of_2",
     "triton.language.constexpr", "torch.device", "torch.finfo", "torch.iinfo", "torch.Size", "torch.no_grad",
     "torch.inference_mode"}
    | {f"math.{n}" for n in dir(math) if not n.startswith("_")}
)

# Builtins a candidate may name. Everything else (open, eval, getattr, type, vars, globals,
# __import__, print, input, object, ...) is refused even where the module binds the name
# itself, so that no shadowing trick reaches the real one.
ALLOWED_BUILTINS = frozenset(
    {
        "int", "float", "bool", "str", "tuple", "list", "dict", "set", "frozenset", "range", "len", "min", "max",
        "abs", "round", "sum", "any", "all", "divmod", "pow", "sorted", "reversed", "enumerate", "zip", "isinstance",
        "slice", "super", "map", "filter", "iter", "next", "True", "False", "None", "NotImplemented", "Ellipsis",
        "Exception", "RuntimeError", "ValueError", "TypeError", "AssertionError", "NotImplementedError",
        "KeyError", "IndexError", "ImportError", "ModuleNotFoundError", "ArithmeticError", "ZeroDivisionError",
        "staticmethod", "classmethod", "property",
    }
)

# Attributes of values (tensors, Triton values, devices, streams, dtypes, containers, the
# loaders' objects). A tensor method that computes (`x.sum()`) is not listed, and neither is
# anything that reaches storage, files or the interpreter (`x.untyped_storage()`, `.numpy()`).
VALUE_ATTRIBUTES = frozenset(
    {
        # describe a tensor
        "shape", "size", "stride", "dtype", "device", "numel", "dim", "ndim", "ndimension", "is_contiguous",
        "is_cuda", "is_cpu", "is_floating_point", "element_size", "itemsize", "nbytes", "storage_offset",
        "data_ptr", "layout", "requires_grad",
        # views and layout copies (dtype conversions are caught by the run-time guard)
        "view", "view_as", "reshape", "reshape_as", "permute", "t", "T", "mT", "transpose", "unsqueeze", "squeeze",
        "expand", "expand_as", "flatten", "unflatten", "narrow", "select", "split", "chunk", "unbind",
        "as_strided", "movedim", "contiguous", "detach", "clone", "copy_", "to",
        # allocation
        "new_empty", "new_empty_strided", "new_zeros", "new_ones", "new_full", "zero_", "fill_",
        # devices, streams, device properties, dtype and finfo fields
        "type", "index", "cuda_stream", "multi_processor_count", "major", "minor", "total_memory",
        "is_signed", "max", "min", "eps", "tiny", "bits",
        # Triton values inside kernels
        "element_ty", "primitive_bitwidth", "trans", "broadcast_to", "value",
        # containers built by the launcher
        "append", "extend", "items", "keys", "values", "get", "count",
        # the CUDA loader's module (`load_cuda(src).kernel("name")`)
        "kernel",
    }
)
