"""Build the shipped bundle (cache/) from our curated kernels, through the real path.

    python -m bench.make_bundle --model demo [--target cuda] [--out cache]

1. Compile each model offline with backend="llm" in a scratch cache: every subgraph is a miss
   and is queued as pending (with the backend's own keys and reference modules).
2. Answer each pending subgraph with the curated kernel written for its op sequence, as a
   Batch API results file (what an LLM batch would return), and hand it in with
   `llmbackend batch import --author curated`: each answer is verified and timed like a
   search round; only verified kernels are stored.
3. Merge with the bundle already in --out (entries for other devices are kept) and export.
Only kernels faster than every baseline timed with them are shipped (--keep-slower ships the
rest too); the backend's own choice at run time still decides what runs on each machine.

    python -m bench.make_bundle --problems level1 --problems level2 --target triton   # on the H100
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

from bench.curated import catalog
from bench.gemmini.problems import PROBLEMS as GEMMINI_PROBLEMS
from torch_llmbackend.speedup import speedup_of


# curated file -> (target, the op sequence of the subgraph it implements)
MLP_RELU_OPS = ("aten.permute.default", "aten.addmm.default", "aten.relu.default", "aten.permute.default", "aten.addmm.default")
KERNELS = {
    "mlp_relu_cuda.py": ("cuda", MLP_RELU_OPS),
    "mlp_relu_triton.py": ("triton", MLP_RELU_OPS),
    "mlp_relu_gemmini.py": ("gemmini", MLP_RELU_OPS),
}


def demo_model(device: str):
    from torch_llmbackend.demo import DemoMLP

    torch.manual_seed(0)
    return DemoMLP().to(device).eval(), (torch.randn(16, 64, device=device),)


MODELS = {"demo": demo_model}

# Gemmini: the ResNet-50 shapes of bench/gemmini/problems.py (--model gemm_3136x128x512 ...),
# answered by curated kernels (shipped only where they beat the library in cycles, as below).
GEMMINI_KERNELS = {
    "conv_relu_gemmini.py": ("gemmini", ("aten.convolution.default", "aten.relu.default")),
    "int8_linear_relu_gemmini.py": ("gemmini", ("aten._int_mm.default", "aten._to_copy.default", "aten.mul.Tensor", "aten.round.default",
                                                "aten.clamp.default", "aten._to_copy.default", "aten.relu.default")),
}
KERNELS.update(GEMMINI_KERNELS)
MODELS.update({name: (lambda device, make=make: make()) for name, make in GEMMINI_PROBLEMS.items() if name != "demo_mlp"})


def bench_problem_ids(patterns: list[str]) -> list[str]:
    """Benchmark problem ids named exactly or by prefix ("level2", "level1/07_softmax")."""
    from bench.problems import all_problems

    ids = [p.meta.id for p in all_problems()]
    chosen = [i for i in ids if any(i.startswith(pat) for pat in patterns)]
    unknown = [pat for pat in patterns if not any(i.startswith(pat.rstrip("/")) for i in ids)]
    if unknown:
        raise SystemExit(f"no benchmark problem matches {', '.join(unknown)}")
    return chosen


def model_and_inputs(name: str, device: str):
    if name in MODELS:
        return MODELS[name](device)
    from bench.problems import get_problem

    return get_problem(name).instantiate(device, seed=0)


def queue_misses(model_name: str, target: str, device: str, cache_dir: str) -> None:
    model, inputs = model_and_inputs(model_name, device)
    torch._dynamo.reset()
    opts = {"target": target, "mode": "offline", "cache_dir": cache_dir, "fallback": "eager",
            "use_shipped_bundle": False, "log_table": False}
    with torch.no_grad():
        torch.compile(model, backend="llm", options=opts)(*inputs)


def curated_files(problem, origin: str) -> list[str]:
    """The curated kernels (by name, see catalog.path_of) that answer this queued subgraph of
    model or benchmark problem `origin`."""
    names = [name for name, (target, ops) in KERNELS.items() if target == problem.target and tuple(ops) == tuple(problem.ops)]
    if problem.target == "triton":
        names += [name for name, patterns in catalog.TRITON.items()
                  if catalog.path_of(name).is_file() and any(catalog.matches(pat, problem.ops, origin) for pat in patterns)]
    return names


def answers_file(problems, path: str, origins: dict[str, str] | None = None) -> int:
    lines = []
    for p in problems:
        for name in curated_files(p, (origins or {}).get(p.key, "")):
            source = catalog.path_of(name).read_text()
            body = {"model": "curated", "author": "curated",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": f"```python\n{source}```"},
                                 "finish_reason": "stop"}]}
            lines.append(json.dumps({"id": f"curated-{name}", "custom_id": p.key,
                                     "response": {"status_code": 200, "body": body}, "error": None}))
            print(f"{p.key[:16]}  {(origins or {}).get(p.key, '-'):45}  {name}")
    Path(path).write_text("".join(line + "\n" for line in lines))
    return len(lines)


def _speedups(entry) -> dict[str, float]:
    t = entry.timings or {}
    return {name: s for name in ("eager", "inductor", "library") if (s := speedup_of(t, name)) is not None}


def beats_baselines(entry) -> bool:
    """Verified and faster than every baseline timed with it: only those are worth shipping
    (a slower one would cost each machine a verification and then not run)."""
    s = _speedups(entry)
    return bool(s) and min(s.values()) > 1.0


def speedup_text(entry) -> str:
    return ", ".join(f"{v:.2f}x {k}" for k, v in _speedups(entry).items()) or "no baseline timing"


def main(argv=None) -> int:
    from torch_llmbackend.cli import main as llmbackend
    from torch_llmbackend.store.kernels import KernelStore

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", default=[], choices=sorted(MODELS))
    ap.add_argument("--problems", action="append", default=[], metavar="ID",
                    help="benchmark problems by id or prefix (level2, level1/07_softmax); repeatable")
    ap.add_argument("--target", default="cuda" if torch.cuda.is_available() else "triton",
                    choices=["cuda", "triton", "gemmini"])
    ap.add_argument("--out", default=str(Path(__file__).parent.parent / "cache"))
    ap.add_argument("--keep-slower", action="store_true",
                    help="ship verified kernels that do not beat every baseline here too (default: leave them out)")
    args = ap.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and args.target == "triton":
        os.environ.setdefault("TRITON_INTERPRET", "1")
    with tempfile.TemporaryDirectory(prefix="bundle-") as cache_dir:
        origins: dict[str, str] = {}  # queued key -> the model or benchmark problem it came from
        names = args.model + bench_problem_ids(args.problems) if (args.model or args.problems) else ["demo"]
        for name in names:
            queue_misses(name, args.target, device, cache_dir)
            with KernelStore(cache_dir) as store:
                pending = store.pending()  # after the last name: every queued subgraph
            origins.update({p.key: name for p in pending if p.key not in origins})
        results = os.path.join(cache_dir, "curated.jsonl")
        n = answers_file(pending, results, origins)
        print(f"{len(pending)} subgraph(s) pending, {n} curated answer(s)")
        status = llmbackend(["batch", "import", results, "--author", "curated", "--cache-dir", cache_dir])
        with KernelStore(cache_dir) as store:  # the curated kernels only (not library baselines)
            new = [e for e in store.entries() if e.provenance.get("author") == "curated"]
        for e in new:
            verdict = "shipped" if args.keep_slower or beats_baselines(e) else "left out"
            print(f"{e.key[:16]}  {origins.get(e.key, '-'):45}  {verdict}: {speedup_text(e)}")
        if not args.keep_slower:
            new = [e for e in new if beats_baselines(e)]
        merge_into(args.out, new)
    return status


def merge_into(out: str, new) -> None:
    """Add `new` curated entries to the bundle in `out` (an entry of the same key is replaced;
    entries for other devices and targets are kept)."""
    from torch_llmbackend.store.bundle import export_bundle, read_bundle

    old = read_bundle(out).entries if os.path.isfile(os.path.join(out, "manifest.json")) else []
    merged = {e.key: e for e in old if e.provenance.get("author") == "curated"}
    merged.update({e.key: e for e in new})
    export_bundle(list(merged.values()), out)
    print(f"bundle {out}: {len(merged)} kernel(s) ({len(new)} new or updated)")


def merge_main(argv=None) -> int:
    """python -m bench.make_bundle merge FROM [--out cache]: the curated kernels of bundle FROM
    (e.g. one built on the GPU machine) into --out, as the build itself would have merged them."""
    from torch_llmbackend.store.bundle import read_bundle

    ap = argparse.ArgumentParser(prog="python -m bench.make_bundle merge")
    ap.add_argument("source")
    ap.add_argument("--out", default=str(Path(__file__).parent.parent / "cache"))
    args = ap.parse_args(argv)
    merge_into(args.out, [e for e in read_bundle(args.source).entries if e.provenance.get("author") == "curated"])
    return 0


if __name__ == "__main__":
    sys.exit(merge_main(sys.argv[2:]) if sys.argv[1:2] == ["merge"] else main())
