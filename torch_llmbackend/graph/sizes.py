"""The sizes of a subgraph: canonical names for Dynamo's symbolic sizes, and their values.

A dynamic graph (automatic dynamic shapes, mark_dynamic) carries SymInts: tensor dims like
`s77`, and size arithmetic (`s77 * s27`) as nodes that ops such as view take as arguments.
Dynamo's symbol names depend on the model's source, so they never enter a key: each subgraph
names its symbols `d0, d1, ...` in order of first appearance in its inputs' shapes. The same
computation then prints the same text in any model, and `SizeNames.text(v, values)` prints a
size either symbolically (the dynamic key) or evaluated at one assignment of the symbols (the
concrete text, which equals what a static graph of those sizes prints).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy
import torch


def is_symbolic(v) -> bool:
    return isinstance(v, torch.SymInt) and not isinstance(_expr(v), sympy.Integer)


def _expr(v: torch.SymInt) -> sympy.Expr:
    return v.node.expr


def _hint(env, expr: sympy.Expr) -> int:
    """The example value Dynamo traced with (never a guard: no specialization)."""
    if isinstance(expr, sympy.Symbol):
        for table in ("backed_var_to_val", "var_to_val"):  # the newer name first (torch 2.13)
            values = getattr(env, table, None)
            if values is not None and expr in values:
                return int(values[expr])
    for name in ("guarding_hint_or_throw", "size_hint"):  # the newer name first (torch 2.13)
        fn = getattr(env, name, None)
        if fn is not None:
            return int(fn(expr))
    raise ValueError(f"no example value for size {expr}")


@dataclass
class SizeNames:
    """Canonical size symbols of one subgraph, with their example values and where each one can
    be read at run time: (input index, dim) of the first tensor input holding it alone."""

    names: dict[sympy.Symbol, str] = field(default_factory=dict)
    hints: dict[str, int] = field(default_factory=dict)
    where: dict[str, tuple[int, int]] = field(default_factory=dict)
    lower: dict[str, int] = field(default_factory=dict)  # the guarded range's lower end
    upper: dict[str, int | None] = field(default_factory=dict)

    @property
    def dynamic(self) -> bool:
        return bool(self.names)

    @staticmethod
    def of(tensor_vals: list, sym_vals: list = ()) -> "SizeNames":
        out = SizeNames()
        for i, t in enumerate(tensor_vals):
            for j, s in enumerate(t.shape):
                if is_symbolic(s):
                    expr = _expr(s)
                    if isinstance(expr, sympy.Symbol) and expr not in out.names:
                        out._add(expr, s)
                        out.where[out.names[expr]] = (i, j)
                    else:
                        out._add_free(expr, s)
        for s in sym_vals:
            if is_symbolic(s):
                out._add_free(_expr(s), s)
        return out

    def _add_free(self, expr: sympy.Expr, like: torch.SymInt) -> None:
        for sym in sorted(expr.free_symbols, key=str):
            if sym not in self.names:
                self._add(sym, like)

    def _add(self, sym: sympy.Symbol, like: torch.SymInt) -> None:
        name = f"d{len(self.names)}"
        self.names[sym] = name
        env = like.node.shape_env
        self.hints[name] = _hint(env, sym)
        rng = getattr(env, "var_to_range", {}).get(sym)
        lo = int(rng.lower) if rng is not None and rng.lower.is_Integer else 2
        hi = int(rng.upper) if rng is not None and rng.upper.is_Integer else None
        self.lower[name], self.upper[name] = max(lo, 0), hi

    def expr_of(self, v) -> sympy.Expr:
        """A size as a sympy expression over the canonical names."""
        if not is_symbolic(v):
            return sympy.Integer(int(v))
        expr = _expr(v)
        mapping = {}
        for sym in expr.free_symbols:
            if sym not in self.names:  # a size symbol born inside the subgraph: not expected
                raise ValueError(f"size {expr} uses a symbol not bound by the subgraph's inputs")
            mapping[sym] = sympy.Symbol(self.names[sym], integer=True, positive=True)
        return expr.xreplace(mapping)

    def text(self, v, values: dict[str, int] | None) -> str:
        """`v` (an int or SymInt) as canonical text: symbolic, or evaluated at `values`."""
        if not is_symbolic(v):
            return str(int(v))
        expr = self.expr_of(v)
        if values is None:
            return str(expr).replace(" ", "")
        return str(int(evaluate(expr, values)))


def evaluate(expr: sympy.Expr, values: dict[str, int]) -> int:
    """A canonical size expression at one assignment of its symbols."""
    subs = {s: values[s.name] for s in expr.free_symbols}
    out = expr.xreplace({s: sympy.Integer(v) for s, v in subs.items()})
    if not isinstance(out, sympy.Integer):
        out = sympy.simplify(out)
    return int(out)
