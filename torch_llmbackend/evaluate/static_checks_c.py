"""Static checks on the C a candidate holds in string literals: CUDA C++ (built by NVRTC, device
code only) and Gemmini C (host C, built by the system compiler and run in-process by the
simulator). Nothing is compiled or run here; the source is tokenized (comments and literals
understood, continuation lines joined, directives read) and checked against allowlists.

CUDA C++: includes only from the toolkit's device headers; no host functions (a source holds
`__global__` kernels and `__device__` helpers; the launch is done from Python by load_cuda);
no system, file, process, network or environment calls; no asm that issues system calls;
`#pragma` only for loop unrolling; no token pasting. Unless the user allows libraries, no
cuBLAS/cuDNN/CUTLASS/ATen calls either (the kernel must do the work).

Gemmini C is real host code, so it is default-deny: includes only gemmini's headers and a small
libc set; every call (after expanding the source's own macros) must name a function the source
defines, a function or macro of gemmini's headers, or an allowlisted libc function (math,
memcpy/memset, malloc/free, printf to stdout); no prototypes of functions it does not define,
`extern`, asm, `__attribute__`, `__builtin_*`, typeof, function pointers or function types,
`#pragma` beyond unrolling hints, and no token pasting.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
from dataclasses import dataclass

from .violation import Violation

# --- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "ident", "punct", "include"
    text: str
    line: int


_INCLUDE = re.compile(r"#\s*include\s*[<\"]([^>\"\n]*)[>\"]")


def tokenize_c(text: str, first_line: int = 1) -> list[_Token]:
    """C/C++ tokens with comments and string/char literals dropped, `#include` targets kept."""
    tokens: list[_Token] = []
    i, n, line = 0, len(text), first_line
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            at_line_start = True
            continue
        if c in " \t\r\\":
            i += 1
            continue
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        if c == "#" and at_line_start:
            m = _INCLUDE.match(text, i)
            if m:
                tokens.append(_Token("include", m.group(1), line))
                i = m.end()
                continue
        at_line_start = False
        if c == "R" and text.startswith('R"', i):  # raw string R"delim( ... )delim"
            open_paren = text.find("(", i)
            delim = text[i + 2 : open_paren]
            end = text.find(")" + delim + '"', open_paren)
            end = n if end < 0 else end + len(delim) + 2
            line += text.count("\n", i, end)
            i = end
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(_Token("ident", text[i:j], line))
            i = j
            continue
        if text.startswith("::", i) or text.startswith("##", i):
            tokens.append(_Token("punct", text[i : i + 2], line))
            i += 2
            continue
        tokens.append(_Token("punct", c, line))
        i += 1
    return tokens


@dataclass(frozen=True)
class _Directive:
    line: int
    name: str  # include, define, pragma, ...
    rest: str


def _split_source(text: str, first_line: int) -> tuple[list[_Directive], list[_Token], str]:
    """(directives, code tokens, comment-free text) as the preprocessor sees them: continuation
    lines joined, comments gone (a comment before `#` does not hide a directive)."""
    starts, logical = [], []
    pending, start = "", None
    for k, physical in enumerate(text.split("\n")):
        if start is None:
            start = first_line + k
        if physical.endswith("\\"):
            pending += physical[:-1]
            continue
        starts.append(start)
        logical.append(pending + physical)
        pending, start = "", None
    if start is not None:
        starts.append(start)
        logical.append(pending)
    stripped = _strip_comments("\n".join(logical)).split("\n")
    directives, code_lines = [], []
    for k, ln in enumerate(stripped):
        s = ln.lstrip()
        if s.startswith(("#", "%:")):
            body = s[1:] if s.startswith("#") else s[2:]
            m = re.match(r"\s*(\w*)(.*)", body, re.S)
            directives.append(_Directive(starts[k], m.group(1), m.group(2).strip()))
            code_lines.append("")
        else:
            code_lines.append(ln)
    toks = [_Token(t.kind, t.text, starts[t.line]) for t in tokenize_c("\n".join(code_lines), first_line=0)]
    return directives, toks, "\n".join(stripped)


def _strip_comments(text: str) -> str:
    """Comments replaced by a space (newlines kept), string and char literals left alone."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            out.append(" ")
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j
        else:
            j = i
            while j < n and text[j] not in "\"'/":
                j += 1
            if j == i:  # a lone '/'
                j += 1
            out.append(text[i:j])
            i = j
    return "".join(out)


# --- what both dialects refuse ------------------------------------------------------------------

# Calls into the operating system, files, processes, the network, the environment, dynamic
# loading and signals. Refused wherever the name appears as a call, and for the unambiguous ones
# wherever it appears at all (taking its address is the first step of calling it indirectly).
SYSTEM_NAMES = frozenset(
    {
        "system", "popen", "pclose", "fopen", "fopen64", "freopen", "fdopen", "tmpfile", "tmpnam", "mkstemp",
        "mkdtemp", "fork", "vfork", "execl", "execlp", "execle", "execv", "execvp", "execvpe", "execve", "fexecve",
        "posix_spawn", "posix_spawnp", "dlopen", "dlsym", "dlvsym", "dlclose", "dlmopen", "syscall", "getenv",
        "secure_getenv", "setenv", "putenv", "unsetenv", "clearenv", "socket", "socketpair", "connect", "bind",
        "listen", "accept", "accept4", "sendto", "sendmsg", "recvfrom", "recvmsg", "gethostbyname", "getaddrinfo",
        "ptrace", "kill", "signal", "sigaction", "mmap", "mmap64", "munmap", "mprotect", "mremap", "unlink",
        "unlinkat", "rmdir", "mkdir", "mkdirat", "rename", "renameat", "chmod", "fchmod", "chown", "truncate",
        "ftruncate", "opendir", "readdir", "fwrite", "fread", "fputs", "fgets", "fprintf", "vfprintf", "fscanf",
        "fputc", "fgetc", "fflush", "fseek", "ftell", "atexit", "at_quick_exit", "on_exit", "abort", "_exit",
        "_Exit", "quick_exit", "pthread_create", "chdir", "chroot", "setuid", "setgid", "ioctl", "fcntl", "dup",
        "dup2", "dup3", "pipe", "pipe2", "prctl", "seccomp", "memfd_create", "process_vm_writev", "splice",
        "sendfile", "__libc_system", "__libc_start_main", "stdin", "stdout", "stderr", "FILE", "environ",
    }
)
CALL_ONLY_SYSTEM_NAMES = frozenset(
    {"open", "openat", "creat", "read", "write", "pread", "pwrite", "close", "remove", "link", "symlink", "stat",
     "lstat", "fstat", "access", "exit", "sleep", "usleep", "nanosleep", "setjmp", "longjmp", "raise"}
)
_ASM_TEXT = re.compile(r"\b(?:asm|__asm__|__asm)\b\s*(?:volatile|__volatile__|goto)?\s*\(\s*\"((?:[^\"\\]|\\.)*)\"")
_SYSCALL_ASM = re.compile(r"\bsyscall\b|\bsysenter\b|\bint\s*\$?0x80\b|\bsvc\b|\bvmcall\b", re.I)


def _system_calls(toks: list[_Token], allowed_calls: frozenset[str] = frozenset()) -> list[Violation]:
    out = []
    for k, t in enumerate(toks):
        if t.kind != "ident" or t.text in allowed_calls:
            continue
        called = k + 1 < len(toks) and toks[k + 1].text == "("
        member = k > 0 and toks[k - 1].text in (".", "->", "::")
        if t.text in SYSTEM_NAMES and not member or (t.text in CALL_ONLY_SYSTEM_NAMES and called and not member):
            out.append(Violation("c-syscall", t.line, f"`{t.text}` reaches the operating system (files, processes, network or environment); a kernel may not"))
    return out


def _asm_syscalls(stripped: str, first_line: int) -> list[Violation]:
    out = []
    for m in _ASM_TEXT.finditer(stripped):
        if _SYSCALL_ASM.search(m.group(1)):
            line = first_line + stripped.count("\n", 0, m.start())
            out.append(Violation("c-syscall", line, "inline asm that issues a system call is not allowed"))
    return out


def _token_pasting(toks: list[_Token], macros: list[_Directive]) -> list[Violation]:
    found = [t.line for t in toks if t.text == "##"] + [d.line for d in macros if "##" in d.rest]
    return [Violation("c-macro", line, "token pasting (`##`) is not allowed: it builds names the checks cannot see") for line in found]


def _matching(toks: list[_Token], k: int) -> int:
    """Index of the bracket closing the one at `k` (len(toks) when unbalanced)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opening, closing, depth = toks[k].text, pairs[toks[k].text], 0
    for j in range(k, len(toks)):
        if toks[j].text == opening:
            depth += 1
        elif toks[j].text == closing:
            depth -= 1
            if depth == 0:
                return j
    return len(toks)


_AFTER_PARAMS = frozenset({"const", "noexcept", "override", "final", "volatile", "throw", "&", "&&"})


@dataclass(frozen=True)
class _Function:
    name: str
    line: int
    start: int  # index of the first token of its declaration
    has_body: bool


def _file_scope_functions(toks: list[_Token]) -> list[_Function]:
    """Functions defined or declared at file (or namespace / extern "C") scope."""
    out: list[_Function] = []
    depth_kinds: list[str] = []  # "ns" braces do not open a scope for this purpose
    stmt_start = 0
    k = 0
    while k < len(toks):
        t = toks[k]
        opaque = [d for d in depth_kinds if d != "ns"]
        if t.text == "{":
            prev = [x.text for x in toks[max(stmt_start, k - 2) : k]]
            depth_kinds.append("ns" if prev and (prev[-1] == "extern" or "namespace" in prev) else "other")
            if depth_kinds[-1] == "ns":
                stmt_start = k + 1
        elif t.text == "}":
            if depth_kinds:
                depth_kinds.pop()
            stmt_start = k + 1
        elif t.text == ";" and not opaque:
            stmt_start = k + 1
        elif t.kind == "ident" and not opaque and k + 1 < len(toks) and toks[k + 1].text == "(" and t.text not in _NOT_FUNCTIONS:
            end = _matching(toks, k + 1)
            j = end + 1
            while j < len(toks) and (toks[j].text in _AFTER_PARAMS or toks[j].text == "->"):
                j += 1
            if j < len(toks) and toks[j].text in ("{", ";") and not _is_initializer(toks, stmt_start, k):
                out.append(_Function(t.text, t.line, stmt_start, toks[j].text == "{"))
                if toks[j].text == "{":
                    body_end = _matching(toks, j)
                    k = body_end + 1
                    stmt_start = k
                    continue
            k = end + 1 if end > k else k + 1
            continue
        k += 1
    return out


# identifiers followed by "(" at file scope that are not function names
_NOT_FUNCTIONS = frozenset({"__launch_bounds__", "__align__", "__attribute__", "__declspec", "alignas", "_Alignas",
                            "decltype", "sizeof", "static_assert", "_Static_assert", "__cluster_dims__", "defined"})


def _is_initializer(toks: list[_Token], start: int, k: int) -> bool:
    """`int x = f(...)` or `T x(...)`-style declarations are not function definitions."""
    return any(x.text == "=" for x in toks[start:k])


# --- CUDA C++ -----------------------------------------------------------------------------------

CUDA_INCLUDES = frozenset(
    {
        "cuda_fp16.h", "cuda_bf16.h", "cuda_fp8.h", "mma.h", "cooperative_groups.h", "cooperative_groups/reduce.h",
        "cooperative_groups/memcpy_async.h", "cooperative_groups/scan.h", "cuda_pipeline.h",
        "cuda_pipeline_primitives.h", "cuda_awbarrier.h", "cuda_awbarrier_primitives.h", "cuda/barrier",
        "cuda/pipeline", "cuda/annotated_ptr", "vector_types.h", "vector_functions.h", "math_constants.h",
    }
)
CUDA_INCLUDE_PREFIXES = ("cuda/std/",)
_PLAIN_HEADER = re.compile(r"^[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*(?:\.(?:h|hpp|cuh))?$")  # no "..", no absolute paths
_CUDA_PRAGMA = re.compile(r"^(?:unroll(?:\s*\(?\s*\w+\s*\)?)?|nounroll)$")

# Library families whose calls do the work for the kernel.
LIBRARY_PREFIXES = ("cublas", "cudnn", "cusparse", "cufft", "cusolver", "curand")
LIBRARY_NAMESPACES = ("cutlass", "cute", "thrust", "cublas", "cudnn")
LIBRARY_HEADERS = ("cublas", "cudnn", "cusparse", "cufft", "cusolver", "cutlass", "cute/", "thrust/", "ATen/native", "ATen/ops", "ATen/Functions", "ATen/ATen.h", "torch/torch.h", "torch/all.h")
# at:: / torch:: / c10:: names that describe, allocate or launch, and do no arithmetic.
TORCH_CPP_ALLOWED = frozenset(
    {
        "Tensor", "TensorOptions", "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ScalarType",
        "IntArrayRef", "Device", "DeviceType", "kCUDA", "kCPU", "kFloat", "kFloat32", "kHalf", "kFloat16",
        "kBFloat16", "kInt", "kInt32", "kLong", "kInt64", "kInt8", "kChar", "kByte", "kUInt8", "kBool",
        "dtype", "device", "cuda", "getCurrentCUDAStream", "CUDAStream", "CUDAGuard", "OptionalCUDAGuard",
        "Half", "BFloat16", "MemoryFormat", "Contiguous", "Layout", "kStrided", "optional", "nullopt", "ArrayRef",
        "Scalar", "IValue", "elementSize", "typeMetaToScalarType",
    }
)

# Tensor methods in C++ that compute (a `.name(` after a tensor): ATen doing the work.
TORCH_CPP_COMPUTE_METHODS = frozenset(
    {
        "sum", "mean", "mm", "matmul", "bmm", "addmm", "baddbmm", "add", "add_", "sub", "sub_", "mul", "mul_",
        "div", "div_", "exp", "log", "softmax", "log_softmax", "relu", "relu_", "clamp", "clamp_", "sigmoid",
        "tanh", "pow", "sqrt", "rsqrt", "amax", "amin", "argmax", "argmin", "cumsum", "prod", "norm", "var",
        "std", "conv2d", "linear", "gelu", "silu", "layer_norm", "index_select", "gather", "scatter", "where",
        "masked_fill", "abs", "neg", "maximum", "minimum", "cat", "stack", "topk", "sort",
    }
)


def check_c_source(text: str, first_line: int = 1, *, allow_libraries: bool = False, dialect: str = "cuda") -> list[Violation]:
    """All violations in one C source: `dialect` "cuda" (NVRTC device code) or "gemmini"."""
    directives, toks, stripped = _split_source(text, first_line)
    if dialect == "gemmini":
        return _check_gemmini(directives, toks, stripped, first_line)
    out = _check_cuda_includes(directives, toks, allow_libraries)
    out += _system_calls(toks) + _system_calls([t for d in directives if d.name == "define" for t in tokenize_c(d.rest, d.line)])
    out += _asm_syscalls(stripped, first_line)
    out += _token_pasting(toks, [d for d in directives if d.name == "define"])
    for d in directives:
        if d.name == "pragma" and not _CUDA_PRAGMA.match(d.rest):
            out.append(Violation("c-directive", d.line, f"`#pragma {d.rest}` is not allowed (only `#pragma unroll`)"))
        elif d.name not in ("include", "define", "undef", "if", "ifdef", "ifndef", "elif", "else", "endif", "pragma", ""):
            out.append(Violation("c-directive", d.line, f"`#{d.name}` is not allowed in a CUDA source"))
    for fn in _file_scope_functions(toks):
        qualifiers = {x.text for x in toks[fn.start : _index_of(toks, fn)]}
        if fn.has_body and not qualifiers & {"__global__", "__device__"}:
            out.append(Violation("c-host", fn.line, f"host function `{fn.name}`: a CUDA source holds only `__global__` kernels and `__device__` "
                                                    "functions; the launch is done from Python through load_cuda"))
    if not allow_libraries:
        out += _library_calls(toks)
    return out


def _index_of(toks: list[_Token], fn: _Function) -> int:
    for j in range(fn.start, len(toks)):
        if toks[j].text == fn.name and toks[j].line == fn.line:
            return j
    return fn.start


def _check_cuda_includes(directives: list[_Directive], toks: list[_Token], allow_libraries: bool) -> list[Violation]:
    out = []
    for d in directives:
        if d.name not in ("include", "include_next", "import", "embed"):
            continue
        m = re.match(r"^<([^<>]*)>$", d.rest)
        header = m.group(1).strip() if m else None
        library = header is not None and any(header.startswith(h) or f"/{h}" in header for h in LIBRARY_HEADERS)
        if library and not allow_libraries:
            out.append(Violation("c-library", d.line, f"#include <{header}> pulls in a library that does the work; write the kernel yourself"))
        elif (d.name != "include" or header is None or not _PLAIN_HEADER.match(header)
              or not (library or header in CUDA_INCLUDES or header.startswith(CUDA_INCLUDE_PREFIXES))):
            allowed = ", ".join(sorted(CUDA_INCLUDES)) + ", cuda/std/*"
            out.append(Violation("c-include", d.line, f"`#{d.name} {d.rest}` is not allowed; a CUDA source may include only device headers ({allowed})"))
    return out


def _library_calls(toks: list[_Token]) -> list[Violation]:
    out: list[Violation] = []
    torch_cpp = any(t.kind == "ident" and t.text in ("torch", "at") for t in toks)
    for k, t in enumerate(toks):
        if t.kind != "ident":
            continue
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        prev = toks[k - 1].text if k else ""
        if prev in (".", ">") and t.text in TORCH_CPP_COMPUTE_METHODS and nxt is not None and nxt.text == "(" and torch_cpp:
            out.append(Violation("c-library", t.line, f".{t.text}() on a tensor is ATen doing the work; compute it in the kernel"))
        elif t.text.lower().startswith(LIBRARY_PREFIXES) and nxt is not None and nxt.text == "(":
            out.append(Violation("c-library", t.line, f"call to {t.text}() (a vendor library); write the kernel yourself"))
        elif nxt is not None and nxt.text == "::" and prev != "::":
            qualified = _qualified_name(toks, k)
            ns, last = qualified[0], qualified[-1]
            if ns in LIBRARY_NAMESPACES:
                out.append(Violation("c-library", t.line, f"{'::'.join(qualified)} is a library that does the work; write the kernel yourself"))
            elif ns in ("at", "torch", "c10") and not all(p in TORCH_CPP_ALLOWED for p in qualified[1:]):
                out.append(Violation("c-library", t.line, f"{'::'.join(qualified)}: ATen/torch C++ calls may only allocate and describe tensors (got `{last}`)"))
    return out


def _qualified_name(toks: list[_Token], k: int) -> list[str]:
    parts = [toks[k].text]
    while k + 2 < len(toks) and toks[k + 1].text == "::" and toks[k + 2].kind == "ident":
        parts.append(toks[k + 2].text)
        k += 2
    return parts


# --- Gemmini C ----------------------------------------------------------------------------------

GEMMINI_INCLUDES = frozenset({'"include/gemmini.h"', '"gemmini.h"', '"include/gemmini_params.h"', '"gemmini_params.h"'})
LIBC_INCLUDES = frozenset({"stdint.h", "stddef.h", "stdbool.h", "math.h", "limits.h", "float.h", "string.h", "stdio.h", "stdlib.h"})
# libc functions a Gemmini kernel may call: arithmetic, memory copies, heap buffers, printf to stdout.
LIBC_CALLS = frozenset(
    {
        "memcpy", "memset", "memmove", "memcmp", "malloc", "calloc", "free", "printf", "puts", "putchar",
        "abs", "labs", "llabs", "fabs", "fabsf", "fmax", "fmaxf", "fmin", "fminf", "round", "roundf", "lround",
        "lroundf", "rint", "rintf", "nearbyint", "nearbyintf", "floor", "floorf", "ceil", "ceilf", "trunc", "truncf",
        "sqrt", "sqrtf", "exp", "expf", "log", "logf", "tanh", "tanhf", "erf", "erff", "pow", "powf", "fma", "fmaf",
        "isnan", "isinf", "isfinite", "signbit", "copysign", "copysignf",
    }
)
C_CALL_KEYWORDS = frozenset(
    {"if", "for", "while", "switch", "return", "sizeof", "_Alignof", "alignof", "_Static_assert", "static_assert",
     "_Generic", "do", "else", "case", "defined", "__alignof__", "void", "char", "short", "int", "long", "float",
     "double", "signed", "unsigned", "const", "volatile", "restrict", "__restrict", "__restrict__", "_Bool", "bool"}
)
_GEMMINI_FORBIDDEN = {
    "asm": "inline asm", "__asm__": "inline asm", "__asm": "inline asm", "extern": "`extern` declarations",
    "__attribute__": "`__attribute__` (constructors, aliases and cleanups run code nobody called)",
    "__declspec": "`__declspec`", "typeof": "typeof", "__typeof__": "typeof", "__typeof": "typeof",
    "__auto_type": "__auto_type", "_Pragma": "`_Pragma`", "goto": "goto",
}
_GEMMINI_PRAGMA = re.compile(r"^(?:once|GCC\s+(?:unroll\s+\d+|ivdep))$")


def _check_gemmini(directives: list[_Directive], toks: list[_Token], stripped: str, first_line: int) -> list[Violation]:
    out: list[Violation] = []
    macros = {}
    for d in directives:
        if d.name == "include":
            if not (d.rest in GEMMINI_INCLUDES or re.match(r"^<([^<>]*)>$", d.rest) and d.rest[1:-1].strip() in LIBC_INCLUDES):
                out.append(Violation("c-include", d.line, f"`#include {d.rest}` is not allowed; a Gemmini kernel may include \"include/gemmini.h\" "
                                                          f"and {', '.join(f'<{h}>' for h in sorted(LIBC_INCLUDES))}"))
        elif d.name == "define":
            m = re.match(r"^([A-Za-z_]\w*)(\(([^)]*)\))?(.*)$", d.rest, re.S)
            if m:
                params = None if m.group(2) is None else [p.strip() for p in m.group(3).split(",") if p.strip()]
                macros[m.group(1)] = (params, tokenize_c(m.group(4), d.line))
        elif d.name == "pragma":
            if not _GEMMINI_PRAGMA.match(d.rest):
                out.append(Violation("c-directive", d.line, f"`#pragma {d.rest}` is not allowed (it can rename or alias symbols)"))
        elif d.name not in ("undef", "if", "ifdef", "ifndef", "elif", "else", "endif", ""):
            out.append(Violation("c-directive", d.line, f"`#{d.name}` is not allowed in a Gemmini kernel"))
    out += _token_pasting(toks, [d for d in directives if d.name == "define"])
    expanded, too_large = _expand_macros(toks, macros)
    if too_large:
        out.append(Violation("c-macro", toks[0].line if toks else first_line, "the source's macros expand beyond any kernel's size"))
    body_tokens = [t for params_body in macros.values() for t in params_body[1]]
    for t in [*expanded, *body_tokens]:
        if t.kind == "ident" and (t.text in _GEMMINI_FORBIDDEN or t.text.startswith("__builtin")):
            what = _GEMMINI_FORBIDDEN.get(t.text, "compiler builtins")
            out.append(Violation("c-construct", t.line, f"{what} not allowed in a Gemmini kernel (`{t.text}`)"))
    out += _function_pointers(expanded)
    exports, typedefs = gemmini_exports(), gemmini_typedefs()
    out += _indirect_calls(expanded, typedefs | _typedef_names(expanded))
    functions = _file_scope_functions(expanded)
    defined = {f.name for f in functions if f.has_body}
    for f in functions:
        if not f.has_body and f.name not in defined and f.name not in exports:
            out.append(Violation("c-declaration", f.line, f"`{f.name}` is declared but not defined here; a Gemmini kernel calls only its own "
                                                          "functions, gemmini.h and the allowed libc functions"))
    defined_at = {(f.name, f.line) for f in functions}
    callable_ = defined | exports | LIBC_CALLS
    out += _system_calls(expanded, allowed_calls=exports)
    for k, t in enumerate(expanded):
        if t.kind != "ident" or k + 1 >= len(expanded) or expanded[k + 1].text != "(" or t.text in C_CALL_KEYWORDS:
            continue
        if (t.text, t.line) in defined_at or (k and expanded[k - 1].text in (".", "->")):
            continue
        if t.text not in callable_ and t.text not in SYSTEM_NAMES | CALL_ONLY_SYSTEM_NAMES:
            out.append(Violation("c-call", t.line, f"call to `{t.text}`: a Gemmini kernel may call only functions it defines, gemmini.h's "
                                                   "functions and macros, and libc's math, memcpy/memset, malloc/free and printf"))
    return out


_C_TYPE_WORDS = frozenset(
    {"void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "const", "volatile", "struct",
     "union", "enum", "_Bool", "bool", "restrict", "__restrict", "__restrict__", "*", "int8_t", "int16_t", "int32_t",
     "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "size_t", "ptrdiff_t", "intptr_t", "uintptr_t"}
)


def _indirect_calls(toks: list[_Token], typedefs: frozenset[str]) -> list[Violation]:
    """`(expr)(args)`: calling what an expression yields (`(mkfifo)(...)`, `(0, f)(...)`) would
    call a function that no call site names. Casts `(T)(x)` and `if (c) (x)...` are fine."""
    out = []
    for k in range(len(toks) - 1):
        if toks[k].text != ")" or toks[k + 1].text != "(":
            continue
        depth, j = 0, k
        while j >= 0:
            depth += {")": 1, "(": -1}.get(toks[j].text, 0)
            if depth == 0:
                break
            j -= 1
        inner = toks[j + 1 : k]
        before = toks[j - 1].text if j > 0 else ""
        if inner and all(t.text in _C_TYPE_WORDS or t.text in typedefs for t in inner) or before in ("if", "for", "while", "switch", "sizeof"):
            continue
        out.append(Violation("c-construct", toks[k].line, "calling the result of an expression is not allowed in a Gemmini kernel; call functions by name"))
    return out


def _typedef_names(toks: list[_Token]) -> set[str]:
    names, k = set(), 0
    while k < len(toks):
        if toks[k].text == "typedef":
            j = k
            while j < len(toks) and toks[j].text != ";":
                j += 1
            if toks[j - 1].kind == "ident":
                names.add(toks[j - 1].text)
            k = j
        k += 1
    return names


def _function_pointers(toks: list[_Token]) -> list[Violation]:
    """`(*name)(`, `(*)(` and `typedef ... name(...)`: the ways to call what has no name here."""
    out = []
    for k, t in enumerate(toks):
        if t.text == "(" and k + 1 < len(toks) and toks[k + 1].text == "*":
            j = _matching(toks, k)
            if j + 1 < len(toks) and toks[j + 1].text in ("(", ")"):
                out.append(Violation("c-construct", t.line, "function pointers are not allowed in a Gemmini kernel"))
        elif t.text == "typedef":
            j = k
            while j < len(toks) and toks[j].text != ";":
                if toks[j].text == "(" and toks[j - 1].kind == "ident":
                    out.append(Violation("c-construct", t.line, "function types are not allowed in a Gemmini kernel"))
                    break
                j += 1
    return out


_MAX_EXPANDED = 200_000


def _expand_macros(toks: list[_Token], macros: dict) -> tuple[list[_Token], bool]:
    """The code with the source's own macros expanded (gemmini.h's are trusted and stay names),
    so that `#define RUN system` cannot hide the name it calls. (tokens, too_large)."""
    if not macros:
        return toks, False
    for _ in range(16):
        out, changed, k = [], False, 0
        while k < len(toks):
            t = toks[k]
            entry = macros.get(t.text) if t.kind == "ident" else None
            if entry is None:
                out.append(t)
                k += 1
                continue
            params, body = entry
            if params is None:
                out.extend(_Token(b.kind, b.text, t.line) for b in body)
                changed, k = True, k + 1
                continue
            if k + 1 >= len(toks) or toks[k + 1].text != "(":
                out.append(t)
                k += 1
                continue
            end = _matching(toks, k + 1)
            args, depth, current = [], 0, []
            for a in toks[k + 2 : end]:
                if a.text in "([{":
                    depth += 1
                elif a.text in ")]}":
                    depth -= 1
                if a.text == "," and depth == 0:
                    args.append(current)
                    current = []
                else:
                    current.append(a)
            args.append(current)
            binding = dict(zip(params, args))
            for b in body:
                out.extend(binding[b.text] if b.text in binding else [_Token(b.kind, b.text, t.line)])
            changed, k = True, end + 1
        toks = out
        if len(toks) > _MAX_EXPANDED:
            return toks, True
        if not changed:
            break
    return toks, False


def gemmini_exports() -> frozenset[str]:
    """Functions and macros that gemmini_runtime's headers define (what a kernel may call)."""
    return _gemmini_headers()[0]


def gemmini_typedefs() -> frozenset[str]:
    return _gemmini_headers()[1]


@functools.lru_cache(maxsize=1)
def _gemmini_headers() -> tuple[frozenset[str], frozenset[str]]:
    spec = importlib.util.find_spec("gemmini_runtime")
    if spec is None or not spec.submodule_search_locations:
        return frozenset(), frozenset()
    folder = os.path.join(list(spec.submodule_search_locations)[0], "include")
    names: set[str] = set()
    typedefs: set[str] = set()
    for header in ("gemmini.h", "gemmini_params.h", "gemmini_lib_matmul.h", "gemmini_lib_conv.h", "gemmini_lib_misc.h"):
        path = os.path.join(folder, header)
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            directives, toks, _ = _split_source(f.read(), 1)
        names.update(re.match(r"\w*", d.rest).group(0) for d in directives if d.name == "define")
        names.update(fn.name for fn in _file_scope_functions(toks))
        typedefs.update(_typedef_names(toks))
    names.discard("")
    return frozenset(names), frozenset(typedefs)
