"""The compile report: one `ReportRow` per subgraph (and per group of ops left in PyTorch).

Each torch.compile call keeps its own rows, attached to the compile, as Thunder's
`compile_stats(fn)` does: `report(compiled_model)` gives that model's, and `report()` the most
recent compile's. Users and tests read plain dicts (`ReportRow.to_dict`), with the same keys as
before rows were records.
"""
from __future__ import annotations

import dataclasses
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from .graph import short_op_name
from .speedup import format_speedup


@dataclass
class ReportRow:
    graph: str  # "forward", "backward", "inference" or "whole"
    subgraph: int | None  # its index in the graph; None for ops left in PyTorch
    key: str
    target: str
    ops: list[str]
    source: str  # cache | llm | fallback
    reason: str
    verified: bool
    runs: str  # what runs the subgraph: "kernel", a baseline, or what runs the whole graph
    check: str | None = None  # the verification rule that passed what runs
    kernel_time: float | None = None
    eager_time: float | None = None
    inductor_time: float | None = None
    library_time: float | None = None
    time_unit: str | None = None  # "us" or "cycles"
    speedup_vs_eager: float | None = None
    speedup_vs_inductor: float | None = None
    speedup_vs_library: float | None = None
    stats: dict[str, Any] | None = None
    device: str | None = None
    # the two parts of a GPU kernel's figure: its own GPU time, the host time of a call
    kernel_gpu_time: float | None = None
    kernel_host_time: float | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    sizes: str = ""
    coverage: str = ""

    @classmethod
    def plain(cls, graph: str, target: str, ops: list[str], reason: str, runs: str) -> "ReportRow":
        """A row for ops that stay in PyTorch (no key, no kernel, no timings)."""
        return cls(graph=graph, subgraph=None, key="", target=target, ops=ops, source="fallback", reason=reason,
                   verified=False, runs=runs)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def set_runs(rows: list[ReportRow], runs: str) -> None:
    """What runs the whole graph in the end, said on every row of the compile."""
    for row in rows:
        row.runs = runs


# -- reports per compile -----------------------------------------------------------------------
_latest: list[ReportRow] = []
_lock = threading.Lock()


def attach(rows: list[ReportRow]) -> None:
    """Make `rows` the most recent compile's report, and the report of the torch.compile call
    being compiled: the rows live on torch's wrapper of the backend, which the compiled model
    holds (see `_compile_wrapper`). A backend called without torch.compile keeps only the former."""
    global _latest
    with _lock:
        _latest = rows
    wrapper = _calling_compile_wrapper()
    if wrapper is not None:
        wrapper._llm_report = rows


def report(compiled: Any = None) -> list[dict[str, Any]]:
    """One dict per subgraph (and per group of ops left in PyTorch): of the compile `compiled`
    (what torch.compile returned) or, without it, of the most recent compile."""
    if compiled is None:
        with _lock:
            rows = _latest
    else:
        rows = _rows_of(compiled)
    return [r.to_dict() for r in rows]


def _calling_compile_wrapper() -> Any:
    """torch.compile's wrapper of this backend (torch._TorchCompileWrapper, one per
    torch.compile call) from the frames calling it, or None."""
    wrapper_type = getattr(sys.modules.get("torch"), "_TorchCompileWrapper", None)
    if wrapper_type is None:
        return None
    frame = sys._getframe(1)
    for _ in range(40):  # Dynamo calls the wrapper a few frames above the backend
        if frame is None:
            return None
        candidate = frame.f_locals.get("self") if frame.f_code.co_name == "__call__" else None
        if isinstance(candidate, wrapper_type):
            return candidate
        frame = frame.f_back
    return None


def _rows_of(compiled: Any) -> list[ReportRow]:
    """The rows attached to the torch.compile call behind `compiled`: a compiled module keeps
    its Dynamo context, a compiled function the context's callback in its closure."""
    from torch._dynamo.eval_frame import innermost_backend

    callbacks = []
    ctx = getattr(compiled, "dynamo_ctx", None)
    if ctx is not None:
        callbacks.append(ctx.callback)
    for cell in getattr(compiled, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if hasattr(contents, "_torchdynamo_orig_backend"):
            callbacks.append(contents)
    for callback in callbacks:
        rows = getattr(innermost_backend(callback), "_llm_report", None)
        if rows is not None:
            return rows
    raise ValueError(f"{type(compiled).__name__} holds no torch_llmbackend report: pass what "
                     "torch.compile(..., backend=\"llm\") returned, after its first call")


# -- the summary table ------------------------------------------------------------------------
def format_table(rows: list[dict[str, Any]], graph: str, seconds: float) -> str:
    """The per-compile summary: one line per subgraph, one per group of ops left in PyTorch.
    `time` is what runs for the subgraph (a kernel, or the target's library), in us or cycles."""
    lines = [f"torch_llmbackend: {graph} graph compiled in {seconds:.2f}s"]
    lines.append(f"  {'#':>3} {'key':16} {'target':8} {'source':8} {'runs':9} {'time':>10} {'vs eager':>8} "
                 f"{'vs ind.':>8} {'vs lib.':>8}  ops / reason")
    for r in rows:
        idx = "-" if r["subgraph"] is None else str(r["subgraph"])
        speedups = [format_speedup(r[k]) if r.get(k) else "-"
                    for k in ("speedup_vs_eager", "speedup_vs_inductor", "speedup_vs_library")]
        t = r.get("kernel_time")
        unit = "cyc" if r.get("time_unit") == "cycles" else "us"
        time_text = f"{t:,.0f}{unit}" if t and unit == "cyc" else (f"{t:.1f}{unit}" if t else "-")
        runs = str(r.get("runs", "")).split(" ")[0][:9]
        lines.append(f"  {idx:>3} {r['key'][:16]:16} {r['target'][:8]:8} {r['source']:8} {runs:9} {time_text:>10} "
                     f"{speedups[0]:>8} {speedups[1]:>8} {speedups[2]:>8}  {_ops_summary(r['ops'])} / {r['reason']}")
    return "\n".join(lines)


def _ops_summary(ops: list[str], limit: int = 4) -> str:
    short = [short_op_name(o) for o in ops]
    return ",".join(short[:limit]) + (f",+{len(short) - limit}" if len(short) > limit else "")
