"""Checks on a candidate's source before any of it runs (cheap; done in the caller's process,
and again each time a cached kernel is loaded).

Default-deny: the module is parsed (AST, not regex) and may name only what static_allowlist.py
lists. What is refused, each time naming the name:
- imports outside the target's allowed modules, relative, star and nested imports;
- any dotted name not on the allowlist (`torch.matmul`, `torch.serialization.save`,
  `torch.os.system`), private attributes, and attributes of values outside the value
  allowlist (`x.untyped_storage()`); attributes of `self` must be set or defined by the class;
- a module used as a value: stored (`_t = torch`), passed, returned, unpacked, subscripted,
  bound by a walrus or a default argument; the same for the loader functions, which may only
  be called;
- builtins outside a small allowlist (open, eval, getattr, type, vars, globals, __import__,
  print, ...) wherever they appear, even where the module rebinds the name; dunder names and
  attributes (`__dict__`, `__mro__`, `__subclasses__`) and format strings that reach them;
- decorators other than Triton's and staticmethod/classmethod/property; class keywords
  (metaclass=...), class decorators, and base classes other than torch.nn.Module or the
  module's own classes;
- top-level statements other than imports, definitions and constant assignments (plus a
  `try: import ... except ImportError` and an `if __name__ == "__main__":` block), and calls at
  import time other than the constant-making ones (triton.jit, triton.Config, tuple, ...);
- reading tensors back to the host (`.numpy()`, `.tolist()`), where Python could do the math;
- state kept between calls: `global`/`nonlocal`, writes to `self.*` outside `__init__`, writes
  to module-level objects, module-level mutable containers or tensors used inside functions,
  mutable class attributes and mutable default arguments;
- a module without a top-level `class ModelNew`.
C held in strings is checked by static_checks_c.py: the source handed to load_cuda or
GemminiKernel must be a string literal or a module-level string constant, so that what is
checked is what is built.

Every finding is a `Violation(rule, line, message)`; the message is meant for the LLM.
"""
from __future__ import annotations

import ast
import builtins
import re
from typing import Iterable

from . import static_allowlist as allow
from .static_checks_c import check_c_source, tokenize_c
from .violation import Violation, format_violations

ALLOWED_DUNDER_NAMES = frozenset({"__name__"})

# Stdlib modules a chain like `torch.os` or `triton.sys` would reach: named in the message.
ESCAPE_MODULES = frozenset(
    {
        "os", "sys", "subprocess", "socket", "ctypes", "builtins", "importlib", "pickle", "shutil",
        "pathlib", "io", "inspect", "gc", "signal", "threading", "multiprocessing", "tempfile", "glob",
        "platform", "urllib", "http", "marshal", "shelve", "code", "codeop", "runpy", "pty", "fcntl",
        "mmap", "resource", "atexit", "weakref", "types", "functools", "sysconfig", "warnings", "logging",
        "copyreg", "linecache", "tokenize", "zipfile", "tarfile", "json", "select", "asyncio", "serialization",
    }
)
# Families that compile, load, save, spawn or change global settings: named in the message.
BANNED_APIS = (
    "torch.utils", "torch.compile", "torch.jit", "torch.fx", "torch.export", "torch.library", "torch.ops",
    "torch.hub", "torch.save", "torch.load", "torch.serialization", "torch.backends", "torch.multiprocessing",
    "torch.distributed", "torch.package", "torch.classes", "torch.from_numpy", "torch.frombuffer",
    "torch.from_file", "torch.from_dlpack", "torch.set_", "torch.use_deterministic", "torch.manual_seed",
    "torch.seed", "torch.random", "torch.cuda.set_", "torch.cuda.manual_seed", "torch.cuda.graph",
    "torch.cuda.CUDAGraph", "torch.cuda.memory", "torch.overrides", "torch.testing", "torch.storage",
    "triton.testing", "triton.tools", "triton.compile", "triton.compiler", "triton.runtime", "triton.knobs",
    "triton.backends", "triton.profiler", "triton.instrumentation",
)

# Methods that read tensor data back into Python, where the host could compute the answer.
READBACK_METHODS = frozenset({"numpy", "tolist", "item"})

# Methods that mutate their receiver in place; called on self.* or module-level objects from a
# function they keep state between calls.
MUTATOR_METHODS = frozenset(
    {
        "append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add", "discard",
        "remove", "sort", "reverse", "appendleft", "copy_", "fill_", "zero_", "set_", "resize_",
    }
)
MUTABLE_CALLS = frozenset({"list", "dict", "set", "bytearray"})
_TORCH_STATEFUL_CALL = re.compile(
    r"^torch\.(?:empty|zeros|ones|full|rand|randn|randint|randperm|arange|linspace|logspace|eye|tensor|"
    r"as_tensor|as_strided|Tensor|[a-z_]+_like|empty_strided|nn\.|Generator|cuda\.Stream|cuda\.Event)"
)
_FORMAT_DUNDER = re.compile(r"\{[^{}]*\.__\w+__")
_BUILTIN_NAMES = frozenset(dir(builtins))
# the loaders whose first argument is C source (checked here, built by them)
C_LOADERS = {f"{allow.CUDA_LOADER}.load_cuda": "cuda", f"{allow.GEMMINI_KERNEL}.GemminiKernel": "gemmini"}
# the exception types a top-level `try: import ...` may catch
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception"})
_EXCEPTIONS = frozenset(n for n in allow.ALLOWED_BUILTINS if n.endswith(("Error", "Exception")))


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
        # C strings that are not passed to a loader are checked as CUDA unless this is Gemmini's
        self.dialect = "gemmini" if allow.GEMMINI_KERNEL in allowed_imports else "cuda"
        self.violations: list[Violation] = []
        self.aliases: dict[str, str] = {}  # local name -> dotted name it was imported as
        self.module_aliases: set[str] = set()  # the local names that are modules
        self.top_imports: set[int] = set()  # ids of the import statements at top level
        self.module_defined: set[str] = set()
        self.module_mutable: dict[str, int] = {}  # module-level name -> line of its mutable binding
        self.module_strings: dict[str, ast.Constant] = {}  # module-level name -> its one string constant
        self.class_attrs: dict[str, set[str]] = {}  # module-level class -> names it defines or sets on self
        self.self_class: dict[int, str] = {}  # id of a `self` Name node -> its class
        self.c_checked: set[int] = set()
        self.in_kernel: set[int] = set()  # ids of the nodes inside @triton.jit bodies

    def add(self, rule: str, node: ast.AST, message: str) -> None:
        self.violations.append(Violation(rule, getattr(node, "lineno", 0), message))

    def run(self, tree: ast.Module) -> None:
        nodes = [tree]  # breadth-first, parents linked on the way (one traversal, read twice)
        for parent in nodes:
            for child in ast.iter_child_nodes(parent):
                child._llmk_parent = parent  # type: ignore[attr-defined]
                nodes.append(child)
        self._check_top_level(tree.body)
        self._collect_kernels(tree)
        self._collect_module_level(tree)
        self._collect_classes(tree)
        if "ModelNew" not in {n.name for n in tree.body if isinstance(n, ast.ClassDef)}:
            self.add("modelnew", tree.body[0] if tree.body else tree, "the module must define `class ModelNew(torch.nn.Module)` at top level")
        for node in nodes:
            self._check_node(node)
        for node in tree.body:
            self._check_scope_state(node, enclosing_class=None)

    # --- allowlist ------------------------------------------------------------------------------
    def _enabled(self, dotted: str) -> bool:
        """Under a module the target allows (`torch` allows torch.*, a loader entry only itself)."""
        return any(dotted == a or dotted.startswith(a + ".") for a in self.allowed)

    def _is_module(self, dotted: str) -> bool:
        return dotted in allow.MODULES and (self._enabled(dotted) or any(a.startswith(dotted + ".") for a in self.allowed))

    def _is_allowed_name(self, dotted: str) -> bool:
        if not self._enabled(dotted):
            return False
        if dotted in allow.ALLOWED_NAMES:
            return True
        return dotted.startswith(allow.ALLOWED_PREFIXES) and not dotted.rsplit(".", 1)[1].startswith("_")

    def _refuse_name(self, node: ast.AST, dotted: str) -> None:
        parts = dotted.split(".")
        if any(_is_dunder(p) for p in parts):
            self.add("dunder", node, f"`{dotted}` reaches a dunder attribute; no reflection")
            return
        for part in parts[1:]:
            if part in ESCAPE_MODULES:
                self.add("module-escape", node, f"`{dotted}` reaches the {part} module; no file, process or interpreter access")
                return
            if part.startswith("_") and not _is_dunder(part):
                self.add("private-api", node, f"`{dotted}` uses a private attribute; only public APIs are allowed")
                return
        for banned in BANNED_APIS:
            if dotted == banned or dotted.startswith(banned if banned.endswith("_") else banned + "."):
                self.add("banned-api", node, f"`{dotted}` is not allowed in a kernel module (it computes outside the kernel, compiles, loads, saves or changes global settings)")
                return
        self.add("not-allowed", node, f"`{dotted}` is not on the allowlist of names a kernel module may use: host code may only allocate "
                                      "(torch.empty, ...), describe (dtypes, devices, streams), launch, and subclass torch.nn.Module; "
                                      "the arithmetic belongs in the kernel")

    # --- module level ---------------------------------------------------------------------------
    def _check_top_level(self, body: list[ast.stmt], where: str = "at top level") -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.top_imports.add(id(node))
                self._check_import(node)
            elif isinstance(node, ast.FunctionDef):
                self._check_definition_time(node)
            elif isinstance(node, ast.ClassDef):
                self._check_class(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if not all(_is_name_target(t) for t in targets):
                    self.add("top-level", node, f"`{ast.unparse(node)[:60]}`: {where} only names may be assigned (no attribute or item writes)")
                for expr in (node.value, getattr(node, "annotation", None)):
                    self._check_import_time(expr)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) or isinstance(node, ast.Pass):
                continue  # docstrings and bare strings
            elif isinstance(node, ast.Try) and self._is_guarded_import(node):
                self._check_top_level(node.body, where)
                for handler in node.handlers:
                    self._check_top_level(handler.body, "in a guarded import")
            elif isinstance(node, ast.Raise) and where == "in a guarded import":
                exc = node.exc
                if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name) and exc.func.id in _EXCEPTIONS:
                    exc = ast.Tuple(elts=[*exc.args, *[k.value for k in exc.keywords]], ctx=ast.Load())
                self._check_import_time(exc)
            elif isinstance(node, ast.If) and _is_main_guard(node.test) and not node.orelse:
                self._check_top_level(node.body, where)
            else:
                self.add("top-level", node, f"a top-level `{type(node).__name__.lower()}` statement runs when the module is imported; only imports, "
                                            "function and class definitions and constant assignments may be at top level")

    def _is_guarded_import(self, node: ast.Try) -> bool:
        """`try: import triton ... except ImportError: raise ...`: common in written code, and
        harmless, because the imports in it are checked like any other and the handlers may only
        raise, pass or assign constants (the guarded import's fallback)."""
        if node.orelse or node.finalbody or not node.body:
            return False
        if not all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in node.body):
            return False
        for h in node.handlers:
            types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
            if not all(isinstance(t, ast.Name) and t.id in _IMPORT_ERRORS for t in types):
                return False
            if not all(isinstance(s, (ast.Raise, ast.Pass, ast.Assign)) for s in h.body):
                return False
        return True

    def _check_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                if not self._importable(node, a.name):
                    continue
                local = a.asname or a.name.split(".")[0]
                self.aliases[local] = a.name if a.asname else local
                self.module_aliases.add(local)
            return
        if node.level:
            self.add("import", node, "relative imports are not allowed")
            return
        if node.module == "__future__":
            for a in node.names:
                if a.name != "annotations":
                    self.add("import", node, f"`from __future__ import {a.name}` is not allowed (only annotations)")
            return
        if not self._importable(node, node.module or ""):
            return
        for a in node.names:
            if a.name == "*":
                self.add("import", node, f"`from {node.module} import *` is not allowed; import names explicitly")
                continue
            full = f"{node.module}.{a.name}"
            local = a.asname or a.name
            if self._is_module(full):
                self.module_aliases.add(local)
            elif not self._is_allowed_name(full):
                self._refuse_name(node, full)
                continue
            self.aliases[local] = full

    def _importable(self, node: ast.AST, module: str) -> bool:
        if not self._enabled(module):
            allowed = ", ".join(sorted(self.allowed))
            self.add("import", node, f"import of {module!r} is not allowed for this target (allowed: {allowed})")
            return False
        if not self._is_module(module):
            self._refuse_name(node, module)
            return False
        return True

    def _check_import_time(self, expr: ast.AST | None) -> None:
        """Calls in an expression evaluated when the module is imported (not lambda bodies)."""
        if expr is None:
            return
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Lambda):
                stack.extend([*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]])
                continue
            if isinstance(node, ast.Call):
                name = self._resolve(node.func) or (node.func.id if isinstance(node.func, ast.Name) else None)
                if name not in allow.IMPORT_TIME_CALLS:
                    self.add("top-level", node, f"`{ast.unparse(node.func)[:60]}(...)` would run when the module is imported; at import time only "
                                                "constants and kernels may be made (triton.jit, triton.Config, tuple, ...)")
            stack.extend(ast.iter_child_nodes(node))

    def _check_definition_time(self, fn: ast.FunctionDef | ast.Lambda) -> None:
        """What a `def` evaluates when it runs: decorators, defaults and annotations."""
        args = fn.args
        for expr in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self._check_import_time(expr)
        if isinstance(fn, ast.FunctionDef):
            for expr in fn.decorator_list:
                self._check_import_time(expr)

    def _check_class(self, node: ast.ClassDef) -> None:
        for kw in node.keywords:
            self.add("class", node, f"class keyword `{kw.arg or '**'}=` (metaclasses and class arguments) is not allowed")
        for deco in node.decorator_list:
            self.add("decorator", deco, f"class decorator `@{ast.unparse(deco)[:40]}` is not allowed")
        for base in node.bases:
            self._check_import_time(base)
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                self._check_definition_time(item)
            elif isinstance(item, (ast.Assign, ast.AnnAssign)):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                if not all(_is_name_target(t) for t in targets):
                    self.add("class", item, "a class body may only assign names")
                self._check_import_time(item.value)
            elif not (isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant) or isinstance(item, ast.Pass)):
                self.add("class", item, f"a `{type(item).__name__.lower()}` statement in a class body runs when the module is imported; "
                                        "a class may only hold methods and constants")

    def _collect_kernels(self, tree: ast.Module) -> None:
        for fn in tree.body:
            if isinstance(fn, ast.FunctionDef) and any(
                    self._resolve(d.func if isinstance(d, ast.Call) else d) == "triton.jit" for d in fn.decorator_list):
                self.in_kernel.update(id(n) for stmt in fn.body for n in ast.walk(stmt))

    def _collect_module_level(self, tree: ast.Module) -> None:
        counts: dict[str, int] = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.module_defined.add(node.name)
            for target, value in _bindings(node):
                for name in _names_in(target):
                    counts[name] = counts.get(name, 0) + 1
                    self.module_defined.add(name)
                    if value is not None and self._is_mutable_value(value):
                        self.module_mutable[name] = node.lineno
                    if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        self.module_strings[name] = value
        for name, n in counts.items():
            if n > 1:
                self.module_strings.pop(name, None)  # a rebound name is not one known string

    def _collect_classes(self, tree: ast.Module) -> None:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
        for cls in classes:
            attrs = self.class_attrs.setdefault(cls.name, set())
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    attrs.add(item.name)
                for target, _ in _bindings(item):
                    attrs.update(_names_in(target))
                if not isinstance(item, ast.FunctionDef) or not item.args.args or _is_staticmethod(item):
                    continue
                self_name = item.args.args[0].arg
                for node in ast.walk(item):
                    if isinstance(node, ast.Name) and node.id == self_name:
                        self.self_class[id(node)] = cls.name
                        parent = getattr(node, "_llmk_parent", None)
                        if isinstance(parent, ast.Attribute) and isinstance(parent.ctx, ast.Store):
                            attrs.add(parent.attr)
        for cls in classes:  # a module-level base class lends its names
            for base in cls.bases:
                if isinstance(base, ast.Name) and base.id in self.class_attrs:
                    self.class_attrs[cls.name] |= self.class_attrs[base.id]

    def _resolve(self, node: ast.AST) -> str | None:
        """'triton.language.load' for `tl.load` after `import triton.language as tl`."""
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
            # module-level tensors and modules are mutable state (and bound to a device at import)
            return bool(_TORCH_STATEFUL_CALL.match(name))
        return False

    # --- per node -------------------------------------------------------------------------------
    def _check_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self._check_name(node)
        elif isinstance(node, ast.Attribute):
            self._check_attribute(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in self.top_imports:
            self.add("import", node, "imports belong at the top of the module (an import inside a function or block is not allowed)")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            self.add("global-state", node, f"`{kind} {', '.join(node.names)}`: no state may be kept between calls")
        elif isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)):
            self.add("async", node, "async code is not allowed in a kernel module")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _FORMAT_DUNDER.search(node.value):
                self.add("dunder", node, "format string reaches a dunder attribute")
            if _looks_like_c(node.value) and not _is_docstring(node):
                self._check_c(node, self.dialect)
        elif isinstance(node, ast.Call):
            self._check_loader_call(node)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
                if self._is_mutable_value(default):
                    self.add("default-arg", default, "mutable default argument keeps state between calls")
            if isinstance(node, ast.FunctionDef):
                self._check_decorators(node)
                if _is_dunder(node.name) and node.name != "__init__":
                    # __init_subclass__, __set_name__, __del__, __getattr__, ... run when Python
                    # decides (class creation, garbage collection), not when the launcher calls
                    self.add("dunder", node, f"defining `{node.name}` is not allowed (only __init__ and ordinary methods)")
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = self._resolve(base)
                if not (name in allow.BASE_CLASSES or isinstance(base, ast.Name) and base.id in self.class_attrs):
                    self.add("class", base, f"base class `{ast.unparse(base)[:40]}` is not allowed (only torch.nn.Module and this module's classes)")

    def _check_name(self, node: ast.Name) -> None:
        parent = getattr(node, "_llmk_parent", None)
        if node.id in self.module_aliases:
            if isinstance(node.ctx, ast.Load) and isinstance(parent, ast.Attribute) and parent.value is node:
                return
            self.add("module-alias", node, f"`{node.id}` is a module: it may only be used as `{node.id}.<allowed name>`, never stored, "
                                           "passed, returned, unpacked or subscripted")
        elif node.id in self.aliases and self.aliases[node.id] in C_LOADERS and not _is_called(node):
            self.add("module-alias", node, f"`{node.id}` may only be called directly (its C source argument is checked)")
        elif node.id in _BUILTIN_NAMES and node.id not in allow.ALLOWED_BUILTINS | ALLOWED_DUNDER_NAMES and node.id not in self.aliases:
            self.add("builtin", node, f"`{node.id}` is not allowed (no file, interpreter, reflection or dynamic-code access; "
                                      "a name of your own must not shadow a builtin)")
        elif _is_dunder(node.id) and node.id not in ALLOWED_DUNDER_NAMES:
            self.add("dunder", node, f"`{node.id}` is not allowed")

    def _check_attribute(self, node: ast.Attribute) -> None:
        if node.attr in READBACK_METHODS:
            self.add("host-readback", node, f"`.{node.attr}()` reads tensor data into Python; do the arithmetic in a kernel")
            return
        dotted = self._resolve(node)
        if dotted is not None:
            if _is_chain_inner(node):
                return  # a dotted name `a.b.c` is judged once, at its outermost node
            self._check_dotted(node, dotted)
            return
        receiver = node.value
        if _is_dunder(node.attr):
            if not (node.attr == "__init__" and _is_super_call(receiver)):
                self.add("dunder", node, f"dunder attribute `.{node.attr}` is not allowed")
            return
        if _is_super_call(receiver):
            self.add("attribute", node, f"`super().{node.attr}`: only `super().__init__()` is allowed")
        elif isinstance(receiver, ast.Name) and (id(receiver) in self.self_class or receiver.id in self.class_attrs):
            cls = self.self_class.get(id(receiver), receiver.id)
            if node.attr not in self.class_attrs.get(cls, set()):
                self.add("attribute", node, f"`{receiver.id}.{node.attr}` is neither set in {cls}.__init__ nor defined by the class")
        elif node.attr not in allow.VALUE_ATTRIBUTES and not (id(node) in self.in_kernel and node.attr in allow.TRITON_VALUE_METHODS):
            self.add("attribute", node, f"`.{node.attr}` is not an allowed attribute: on tensors and other values a kernel module may only "
                                        "describe (.shape, .stride(), .dtype), view (.view, .permute), allocate and launch")

    def _check_dotted(self, node: ast.Attribute, dotted: str) -> None:
        if self._is_module(dotted):
            self.add("module-alias", node, f"`{dotted}` is a module: it may only be used as `{dotted}.<allowed name>`, never stored, passed or returned")
            return
        if self._is_allowed_name(dotted):
            if dotted in C_LOADERS and not _is_called(node):
                self.add("module-alias", node, f"`{dotted}` may only be called directly (its C source argument is checked)")
            return
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):  # an allowed value, then attributes of it
            head, rest = ".".join(parts[:cut]), parts[cut:]
            if self._is_allowed_name(head):
                if head in allow.BASE_CLASSES and rest == ["__init__"] or all(r in allow.VALUE_ATTRIBUTES for r in rest):
                    return
                break
        self._refuse_name(node, dotted)

    def _check_decorators(self, fn: ast.FunctionDef) -> None:
        for deco in fn.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            name = self._resolve(target) or (target.id if isinstance(target, ast.Name) and target.id not in self.aliases else None)
            if name not in allow.ALLOWED_DECORATORS:
                self.add("decorator", deco, f"decorator `@{ast.unparse(target)[:40]}` is not allowed (allowed: {', '.join(sorted(allow.ALLOWED_DECORATORS))})")

    def _check_loader_call(self, call: ast.Call) -> None:
        dialect = C_LOADERS.get(self._resolve(call.func) or "")
        if dialect is None:
            return
        arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg in ("source", "c_source")), None)
        if isinstance(arg, ast.Name) and arg.id in self.module_strings:
            arg = self.module_strings[arg.id]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            self.add("c-source", call, f"the C source passed to {ast.unparse(call.func)} must be a string literal or a module-level "
                                       "string constant assigned once, so that what is checked is what is built")
            return
        self._check_c(arg, dialect)

    def _check_c(self, const: ast.Constant, dialect: str) -> None:
        if id(const) in self.c_checked:
            return
        self.c_checked.add(id(const))
        self.violations.extend(check_c_source(const.value, first_line=const.lineno, allow_libraries=self.allow_libraries, dialect=dialect))

    # --- state kept between calls ---------------------------------------------------------------
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
        body = [(node, _bindings(node)) for node in _walk_function(fn)]  # walked once, read twice
        for _, binds in body:
            for target, _ in binds:
                local.update(_names_in(target))
        for node, binds in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not fn:
                self._check_function(node, is_method=False)
                continue
            stores = [t for t, _ in binds] + (list(node.targets) if isinstance(node, ast.Delete) else [])
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


def _is_name_target(target: ast.AST) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_is_name_target(e) for e in target.elts)
    return isinstance(target, ast.Starred) and _is_name_target(target.value)


def _is_main_guard(test: ast.AST) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


def _is_super_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def _is_staticmethod(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)


def _is_called(node: ast.AST) -> bool:
    parent = getattr(node, "_llmk_parent", None)
    return isinstance(parent, ast.Call) and parent.func is node


def _looks_like_c(text: str) -> bool:
    return "\n" in text and (bool(_C_HINT.search(text)) or len(_C_STATEMENTS.findall(text)) >= 3)


# What makes a string literal C/C++ source rather than prose: preprocessor lines, CUDA
# qualifiers, or statements (braces and semicolons).
_C_HINT = re.compile(r"#\s*include|__global__|__device__|extern\s+\"C\"")
_C_STATEMENTS = re.compile(r"[;{}]")


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


__all__ = ["Violation", "check_c_source", "check_candidate", "format_violations", "tokenize_c"]
