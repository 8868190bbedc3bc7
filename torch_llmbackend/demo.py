"""`llmbackend demo`: compile a small model offline with the shipped bundle and check it.

On a machine with a GPU the model runs on CUDA with the `cuda` target. Without one it shows the
Gemmini path (kernels run on the gemmini_runtime simulator); if that target is not available it
falls back to Triton kernels in Triton's CPU interpreter. Nothing here needs an API key.
"""
from __future__ import annotations

import os
import tempfile

import torch
import torch.nn as nn


class DemoMLP(nn.Module):
    """The model the shipped bundle carries kernels for (see cache/)."""

    def __init__(self, d_in: int = 64, d_hidden: int = 128, d_out: int = 32):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_out)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def demo_setup(target: str | None) -> tuple[str, str, dict]:
    """(target, device, extra options) for this machine."""
    if target is None:
        if torch.cuda.is_available():
            target = "cuda"
        else:
            try:
                from .targets import get_target

                target = "gemmini" if get_target("gemmini").availability("cpu").ok else "triton"
            except ImportError:
                target = "triton"
    device = "cuda" if target in ("cuda", "triton") and torch.cuda.is_available() else "cpu"
    extra = {}
    if device == "cpu" and target == "triton":
        # Interpreted Triton is far slower than eager; the demo shows the path, not a speed-up.
        os.environ.setdefault("TRITON_INTERPRET", "1")
        extra["prefer"] = "kernel"
    return target, device, extra


def run_demo(cache_dir: str | None = None, target: str | None = None) -> int:
    import logging

    from .reports import format_table, report

    target, device, extra = demo_setup(target)
    own_dir = None
    if cache_dir is None:
        own_dir = tempfile.TemporaryDirectory(prefix="llmbackend-demo-")
        cache_dir = own_dir.name
    torch.manual_seed(0)
    model = DemoMLP().to(device).eval()
    x = torch.randn(16, 64, device=device)
    options = {"target": target, "mode": "offline", "cache_dir": cache_dir, "log_table": False, **extra}
    print(f"torch-llmbackend demo: {type(model).__name__} on {device}, target={target}, offline, shipped bundle")
    logging.getLogger("torch_llmbackend").setLevel(logging.WARNING)
    try:
        with torch.no_grad():
            compiled = torch.compile(model, backend="llm", options=options)
            out = compiled(x)
            ref = model(x)
        rows = report()
        print(format_table(rows, "inference", 0.0).split("\n", 1)[1])
        err = (out - ref).abs().max().item()
        ok = torch.allclose(out, ref, rtol=1e-4, atol=1e-4)
        subgraphs = [r for r in rows if r["subgraph"] is not None]
        on_target = [r for r in subgraphs if r["runs"] in ("kernel", "library")]
        print(f"subgraphs on {target}: {len(on_target)} of {len(subgraphs)} "
              f"({sum(r['runs'] == 'kernel' for r in subgraphs)} on cached/LLM kernels, "
              f"{sum(r['runs'] == 'library' for r in subgraphs)} on the target's library)")
        for r in on_target:
            stats = r.get("stats") or {}
            if stats.get("cycles"):
                print(f"  {r['key'][:16]}: {stats['cycles']:,} cycles, {stats.get('macs', 0):,} MACs, "
                      f"utilization {stats.get('utilization', 0):.1%} (simulated Gemmini)")
        print(f"max abs error vs eager: {err:.3g} -> {'OK' if ok else 'MISMATCH'}")
        return 0 if ok else 1
    finally:
        if own_dir is not None:
            own_dir.cleanup()
