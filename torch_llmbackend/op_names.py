"""How an FX node's target is named: in signatures, reports, reasons and Problems.

Its own module (it imports only torch) so that graph/ and targets/ share it: graph/ imports
targets/, so the name cannot live in graph/ for targets/ to use.
"""
from __future__ import annotations

import operator

import torch


def op_name(target) -> str:
    """'aten.addmm.default' for an OpOverload; the qualified name for anything else."""
    if isinstance(target, torch._ops.OpOverload):
        ns, name = target.name().split("::")
        return f"{ns}.{name.split('.')[0]}.{target._overloadname}"
    if target is operator.getitem:
        return "getitem"
    return getattr(target, "__name__", str(target))


def short_op_name(name: str) -> str:
    """'aten.addmm.default' -> 'addmm', 'aten.add.Tensor' -> 'add.Tensor': how reports and
    people write an op."""
    return name.removeprefix("aten.").removesuffix(".default")
