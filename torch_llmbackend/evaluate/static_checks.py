"""Checks on a candidate's source before any of it runs (cheap; done in the caller's process).

Python: the module is parsed and walked (AST, not regex), so a try/except around a build, a
`pass`, helper functions and UPPER_CASE constants are all fine. What is rejected:
- imports outside the target's `allowed_imports`, relative and star imports;
- builtins that reach files, processes or dynamic code (open, eval, exec, getattr, ...);
- dunder attributes (`__globals__`, `__subclasses__`, ...) and private module attributes
  (`torch._C`), and module attribute chains that lead to stdlib modules (`torch.os.system`);
- PyTorch and Triton APIs that compile, load, save, spawn or change global settings;
- reading tensors back to the host (`.numpy()`, `.tolist()`), where Python could do the math;
- state kept between calls: `global`/`nonlocal`, writes to `self.*` outside `__init__`, writes
  to module-level objects, module-level mutable containers or tensors used inside functions,
  mutable class attributes and mutable default arguments;
- a module without a top-level `class ModelNew`.
C/CUDA source held in string literals is tokenized (comments and literals understood) and calls
into cuBLAS/cuDNN/ATen/torch compute are rejected unless the user allows libraries.

Every finding is a `Violation(rule, line, message)`; the message is meant for the LLM.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Violation:
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message} [{self.rule}]"


def format_violations(violations: Iterable[Violation], limit: int = 12) -> str:
    vs = list(violations)
    text = "\n".join(str(v) for v in vs[:limit])
    if len(vs) > limit:
        text += f"\n... and {len(vs) - limit} more"
    return text


# Builtins that reach files, the interpreter's internals, or dynamic code.
BANNED_BUILTINS = frozenset(
    {
        "open", "eval", "exec", "compile", "__import__", "getattr", "setattr", "delattr",
        "globals", "locals", "vars", "breakpoint", "input", "exit", "quit", "help", "memoryview",
        "__builtins__", "__loader__", "__spec__", "__file__",
    }
)
ALLOWED_DUNDER_ATTRS = frozenset({"__init__", "__name__"})
ALLOWED_DUNDER_NAMES = frozenset({"__name__"})

# Stdlib modules a chain like `torch.os` or `triton.sys` would reach; never allowed.
ESCAPE_MODULES = frozenset(
    {
        "os", "sys", "subprocess", "socket", "ctypes", "builtins", "importlib", "pickle", "shutil",
        "pathlib", "io", "inspect", "gc", "signal", "threading", "multiprocessing", "tempfile", "glob",
        "platform", "urllib", "http", "marshal", "shelve", "code", "codeop", "runpy", "pty", "fcntl",
        "mmap", "resource", "atexit", "weakref", "types", "functools", "sysconfig", "warnings", "logging",
        "copyreg", "linecache", "tokenize", "zipfile", "tarfile", "json", "select", "asyncio",
    }
)

# Dotted API prefixes a candidate may not touch (after import aliases are resolved).
BANNED_APIS = (
    "torch.utils", "torch.compile", "torch.jit", "torch.fx", "torch.export", "torch.library",
    "torch.ops.load_library", "torch.hub", "torch.save", "torch.load", "torch.backends",
    "torch.multiprocessing", "torch.distributed", "torch.package", "torch.classes", "torch.from_numpy",
    "torch.frombuffer", "torch.from_file", "torch.from_dlpack", "torch.set_", "torch.use_deterministic",
    "torch.manual_seed", "torch.seed", "torch.random", "torch.cuda.set_", "torch.cuda.manual_seed",
    "torch.cuda.graph", "torch.cuda.CUDAGraph", "torch.cuda.memory", "torch.overrides", "torch.testing",
    "triton.testing", "triton.tools", "triton.compile", "triton.compiler", "triton.runtime.build",
    "triton.knobs", "triton.backends", "triton.profiler", "triton.instrumentation",
)

# Methods that read tensor data back into Python, where the host could compute the answer.
READBACK_METHODS = frozenset({"numpy", "tolist"})

# Methods that mutate their receiver in place; called on self.* or module-level objects from a
# function they keep state between calls.
MUTATOR_METHODS = frozenset(
    {
        "append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add", "discard",
        "remove", "sort", "reverse", "appendleft", "copy_", "fill_", "zero_", "set_", "resize_",
    }
)

# Calls whose module-level result is an immutable value or a kernel object (not state).
IMMUTABLE_CALLS = frozenset(
    {
        "tuple", "frozenset", "int", "float", "str", "bool", "bytes", "range", "len", "min", "max", "abs",
        "round", "triton.jit", "triton.autotune", "triton.heuristics", "triton.Config", "triton.cdiv",
        "triton.next_power_of_2", "triton.language.constexpr", "torch.device", "torch.dtype",
    }
)
MUTABLE_CALLS = frozenset({"list", "dict", "set", "bytearray"})
_TORCH_STATEFUL_CALL = re.compile(
    r"^torch\.(?:empty|zeros|ones|full|rand|randn|randint|randperm|arange|linspace|logspace|eye|tensor|"
    r"as_tensor|as_strided|Tensor|[a-z_]+_like|empty_strided|nn\.|Generator|cuda\.Stream|cuda\.Event)"
)

_FORMAT_DUNDER = re.compile(r"\{[^{}]*\.__\w+__")


def check_candidate(source: str, allowed_imports: Iterable[str], *, allow_libraries: bool = False) -> list[Violation]:
    """All violations in a candidate module, sorted by line. Empty means it may be run."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return [Violation("syntax", e.lineno or 0, f"SyntaxError: {e.msg}")]
    checker = _Checker(frozenset(allowed_imports), allow_libraries)
    checker.run(tree)
    unique = {(v.line, v.rule, v.message): v for v in checker.violations}
    return sorted(unique.values(), key=lambda v: (v.line, v.rule))


class _Checker:
    def __init__(self, allowed_imports: frozenset[str], allow_libraries: bool):
        self.allowed = allowed_imports
        self.allow_libraries = allow_libraries
        self.violations: list[Violation] = []
        self.aliases: dict[str, str] = {}  # local name -> dotted module path
        self.module_defined: set[str] = set()
        self.module_mutable: dict[str, int] = {}  # module-level name -> line of its mutable binding

    def add(self, rule: str, node: ast.AST, message: str) -> None:
        self.violations.append(Violation(rule, getattr(node, "lineno", 0), message))

    def run(self, tree: ast.Module) -> None:
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                child._llmk_parent = parent  # type: ignore[attr-defined]
        self._collect_module_level(tree)
        if "ModelNew" not in {n.name for n in tree.body if isinstance(n, ast.ClassDef)}:
            self.add("modelnew", tree.body[0] if tree.body else tree, "the module must define `class ModelNew(torch.nn.Module)` at top level")
        for node in ast.walk(tree):
            self._check_node(node)
        for node in tree.body:
            self._check_scope_state(node, enclosing_class=None)

    # --- module level ---------------------------------------------------------------------
    def _collect_module_level(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    self._check_import(node, a.name)
                    local = a.asname or a.name.split(".")[0]
                    self.aliases[local] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    self.add("import", node, "relative imports are not allowed")
                    continue
                for a in node.names:
                    if a.name == "*":
                        self.add("import", node, f"`from {node.module} import *` is not allowed; import names explicitly")
                        continue
                    full = f"{node.module}.{a.name}"
                    self._check_import(node, node.module or "", full)
                    self.aliases[a.asname or a.name] = full
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.module_defined.add(node.name)
            for target, value in _bindings(node):
                for name in _names_in(target):
                    self.module_defined.add(name)
                    if value is not None and self._is_mutable_value(value):
                        self.module_mutable[name] = node.lineno

    def _check_import(self, node: ast.AST, module: str, full: str | None = None) -> None:
        # an entry allows itself and its submodules: "torch" allows torch.nn.functional, and a
        # loader entry like "torch_llmbackend.targets.cuda_loader" allows only that module
        if not any(module == a or module.startswith(a + ".") for a in self.allowed):
            allowed = ", ".join(sorted(self.allowed))
            self.add("import", node, f"import of {module!r} is not allowed for this target (allowed: {allowed})")
            return
        self._check_dotted(node, full or module)

    def _check_dotted(self, node: ast.AST, dotted: str) -> None:
        parts = dotted.split(".")
        for part in parts[1:]:
            if part in ESCAPE_MODULES:
                self.add("module-escape", node, f"`{dotted}` reaches the {part} module; no file, process or interpreter access")
                return
            if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
                self.add("private-api", node, f"`{dotted}` uses a private attribute; only public APIs are allowed")
                return
        for banned in BANNED_APIS:
            if dotted == banned or dotted.startswith(banned if banned.endswith("_") else banned + "."):
                self.add("banned-api", node, f"`{dotted}` is not allowed in a kernel module (it compiles, loads, saves or changes global settings)")
                return

    def _resolve(self, node: ast.AST) -> str | None:
        """'torch.nn.functional.relu' for `F.relu` after `import torch.nn.functional as F`."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.aliases:
            return None
        return ".".join([self.aliases[node.id], *reversed(parts)])

    def _is_mutable_value(self, value: ast.AST) -> bool:
        if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
            return True
        if isinstance(value, ast.Call):
            name = self._resolve(value.func) or (value.func.id if isinstance(value.func, ast.Name) else "")
            if name in MUTABLE_CALLS or name.startswith("collections."):
                return True
            # module-level tensors and modules are mutable state (and bound to a device at import);
            # device queries like torch.cuda.get_device_properties are not
            return bool(_TORCH_STATEFUL_CALL.match(name))
        return False

    # --- per node ---------------------------------------------------------------------------
    def _check_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            if node.id in BANNED_BUILTINS and node.id not in self.module_defined:
                self.add("builtin", node, f"`{node.id}` is not allowed (no file, interpreter or dynamic-code access)")
            elif _is_dunder(node.id) and node.id not in ALLOWED_DUNDER_NAMES:
                self.add("dunder", node, f"`{node.id}` is not allowed")
        elif isinstance(node, ast.Attribute):
            if _is_dunder(node.attr) and node.attr not in ALLOWED_DUNDER_ATTRS:
                self.add("dunder", node, f"dunder attribute `.{node.attr}` is not allowed")
            elif node.attr in READBACK_METHODS:
                self.add("host-readback", node, f"`.{node.attr}()` reads tensor data into Python; do the arithmetic in a kernel")
            if _is_chain_inner(node):
                return  # a module path `a.b.c` is resolved once, at its outermost node
            dotted = self._resolve(node)
            if dotted is not None:
                self._check_dotted(node, dotted)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            self.add("global-state", node, f"`{kind} {', '.join(node.names)}`: no state may be kept between calls")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _FORMAT_DUNDER.search(node.value):
                self.add("dunder", node, "format string reaches a dunder attribute")
            if _looks_like_c(node.value) and not _is_docstring(node):
                self.violations.extend(check_c_source(node.value, first_line=node.lineno, allow_libraries=self.allow_libraries))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
                if self._is_mutable_value(default):
                    self.add("default-arg", default, "mutable default argument keeps state between calls")

    # --- state kept between calls ----------------------------------------------------------------
    def _check_scope_state(self, node: ast.AST, enclosing_class: ast.ClassDef | None) -> None:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                for target, value in _bindings(item):
                    if value is not None and self._is_mutable_value(value):
                        self.add("class-state", item, f"class attribute {', '.join(_names_in(target))} is a mutable object shared by all calls; use a tuple or set it in __init__")
                self._check_scope_state(item, enclosing_class=node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._check_function(node, is_method=enclosing_class is not None)

    def _check_function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> None:
        args = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
        args += [a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None]
        self_name = args[0] if is_method and args else None
        is_init = is_method and fn.name == "__init__"
        local = set(args)
        for node in _walk_function(fn):
            for target, _ in _bindings(node):
                local.update(_names_in(target))
        for node in _walk_function(fn):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not fn:
                self._check_function(node, is_method=False)
                continue
            stores = [t for t, _ in _bindings(node)] + (list(node.targets) if isinstance(node, ast.Delete) else [])
            for target in stores:
                for sub in _store_roots(target):
                    self._check_write(sub, self_name, is_init, local, fn.name)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATOR_METHODS:
                receiver = node.func.value
                if not (isinstance(receiver, ast.Name) and receiver.id in self.aliases):  # torch.add(...) is a function
                    self._check_write(receiver, self_name, is_init, local, fn.name, verb=f"`.{node.func.attr}()` on")
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in self.module_mutable and node.id not in local:
                self.add("module-state", node, f"module-level mutable object `{node.id}` (line {self.module_mutable[node.id]}) is used inside {fn.name}(); module-level values must be constants (use a tuple)")

    def _check_write(self, target: ast.AST, self_name: str | None, is_init: bool, local: set[str], fn_name: str, verb: str = "write to") -> None:
        root = _root_name(target)
        if root is None:
            return
        if root == self_name:
            if not is_init:
                self.add("self-state", target, f"{verb} `{ast.unparse(target)}` in {fn_name}(): attributes of self may only be set in __init__ (no caching between calls)")
        elif root not in local:
            self.add("module-state", target, f"{verb} `{ast.unparse(target)}` in {fn_name}() changes module-level state that outlives the call")


def _is_docstring(node: ast.Constant) -> bool:
    """The first statement of a module, class or function, a bare string: never source."""
    expr = getattr(node, "_llmk_parent", None)
    owner = getattr(expr, "_llmk_parent", None)
    body = getattr(owner, "body", None)
    return isinstance(expr, ast.Expr) and isinstance(body, list) and bool(body) and body[0] is expr


def _is_chain_inner(node: ast.Attribute) -> bool:
    parent = getattr(node, "_llmk_parent", None)
    return isinstance(parent, ast.Attribute) and parent.value is node


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def _bindings(node: ast.AST) -> list[tuple[ast.AST, ast.AST | None]]:
    """(target, value) pairs a statement binds; value is None where it is not a plain value."""
    if isinstance(node, ast.Assign):
        return [(t, node.value) for t in node.targets]
    if isinstance(node, ast.AnnAssign):
        return [(node.target, node.value)]
    if isinstance(node, ast.AugAssign):
        return [(node.target, None)]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        return [(node.target, None)]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [(i.optional_vars, None) for i in node.items if i.optional_vars is not None]
    if isinstance(node, ast.NamedExpr):
        return [(node.target, node.value)]
    return []


def _names_in(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _names_in(e)]
    if isinstance(target, ast.Starred):
        return _names_in(target.value)
    return []


def _store_roots(target: ast.AST) -> list[ast.AST]:
    """The attribute/subscript stores inside an assignment target (`a.b`, `c[0]`, `(d.e, f)`)."""
    if isinstance(target, (ast.Attribute, ast.Subscript)):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [s for e in target.elts for s in _store_roots(e)]
    if isinstance(target, ast.Starred):
        return _store_roots(target.value)
    return []


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _walk_function(fn: ast.FunctionDef | ast.AsyncFunctionDef):
    """Nodes of a function body (not its decorators or defaults, which run at definition time),
    not descending into nested functions (those are yielded, not entered)."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


# --- C / CUDA source ------------------------------------------------------------------------

# What makes a string literal C/C++ source rather than prose: preprocessor lines, CUDA
# qualifiers, or statements (braces and semicolons).
_C_HINT = re.compile(r"#\s*include|__global__|__device__|extern\s+\"C\"")
_C_STATEMENTS = re.compile(r"[;{}]")

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


def _looks_like_c(text: str) -> bool:
    return "\n" in text and (bool(_C_HINT.search(text)) or len(_C_STATEMENTS.findall(text)) >= 3)


@dataclass(frozen=True)
class _Token:
    kind: str  # "ident", "punct", "include"
    text: str
    line: int


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
            m = re.compile(r"#\s*include\s*[<\"]([^>\"\n]*)[>\"]").match(text, i)
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
        if text.startswith("::", i):
            tokens.append(_Token("punct", "::", line))
            i += 2
            continue
        tokens.append(_Token("punct", c, line))
        i += 1
    return tokens


def check_c_source(text: str, first_line: int = 1, *, allow_libraries: bool = False) -> list[Violation]:
    """Library calls and includes in C/CUDA source (skipped entirely when libraries are allowed)."""
    if allow_libraries:
        return []
    out: list[Violation] = []
    toks = tokenize_c(text, first_line)
    for k, t in enumerate(toks):
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if t.kind == "include":
            if any(t.text.startswith(h) or f"/{h}" in t.text for h in LIBRARY_HEADERS):
                out.append(Violation("c-library", t.line, f"#include <{t.text}> pulls in a library that does the work; write the kernel yourself"))
            continue
        if t.kind != "ident":
            continue
        prev = toks[k - 1].text if k else ""
        if prev in (".", ">") and t.text in TORCH_CPP_COMPUTE_METHODS and nxt is not None and nxt.text == "(" and _has_torch_cpp(toks):
            out.append(Violation("c-library", t.line, f".{t.text}() on a tensor is ATen doing the work; compute it in the kernel"))
        elif t.text.lower().startswith(LIBRARY_PREFIXES) and nxt is not None and nxt.text == "(":
            out.append(Violation("c-library", t.line, f"call to {t.text}() (a vendor library); write the kernel yourself"))
        elif nxt is not None and nxt.text == "::" and (k == 0 or toks[k - 1].text != "::"):
            qualified = _qualified_name(toks, k)
            ns, last = qualified[0], qualified[-1]
            if ns in LIBRARY_NAMESPACES:
                out.append(Violation("c-library", t.line, f"{'::'.join(qualified)} is a library that does the work; write the kernel yourself"))
            elif ns in ("at", "torch", "c10") and not all(p in TORCH_CPP_ALLOWED for p in qualified[1:]):
                out.append(Violation("c-library", t.line, f"{'::'.join(qualified)}: ATen/torch C++ calls may only allocate and describe tensors (got `{last}`)"))
    return out


def _has_torch_cpp(toks: list[_Token]) -> bool:
    """Tensor methods only matter where the source uses the torch C++ API at all."""
    return any(t.kind == "ident" and t.text in ("torch", "at") for t in toks)


def _qualified_name(toks: list[_Token], k: int) -> list[str]:
    parts = [toks[k].text]
    while k + 2 < len(toks) and toks[k + 1].text == "::" and toks[k + 2].kind == "ident":
        parts.append(toks[k + 2].text)
        k += 2
    return parts
