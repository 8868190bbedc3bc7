"""Build the shipped bundle (cache/) from our curated kernels, through the real path.

    python -m bench.make_bundle --model demo [--target cuda] [--out cache]

1. Compile each model offline with backend="llm" in a scratch cache: every subgraph is a miss
   and is queued as pending (with the backend's own keys and reference modules).
2. Answer each pending subgraph with the curated kernel written for its op sequence, as a
   Batch API results file (what an LLM batch would return), and hand it in with
   `llmbackend batch import --author curated`: each answer is verified and timed like a
   search round; only verified kernels are stored.
3. Merge with the bundle already in --out (entries for other devices are kept) and export.
Kernels that do not beat the better baseline are stored all the same (the backend's own
choice at run time decides what runs), and the import report says so.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

CURATED = Path(__file__).parent / "curated"

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


def queue_misses(model_name: str, target: str, device: str, cache_dir: str) -> None:
    model, inputs = MODELS[model_name](device)
    torch._dynamo.reset()
    opts = {"target": target, "mode": "offline", "cache_dir": cache_dir, "fallback": "eager",
            "use_shipped_bundle": False, "log_table": False}
    with torch.no_grad():
        torch.compile(model, backend="llm", options=opts)(*inputs)


def answers_file(problems, path: str) -> int:
    lines = []
    for p in problems:
        for name, (target, ops) in KERNELS.items():
            if target == p.target and tuple(ops) == tuple(p.ops):
                source = (CURATED / name).read_text()
                body = {"model": "curated", "author": "curated",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": f"```python\n{source}```"},
                                     "finish_reason": "stop"}]}
                lines.append(json.dumps({"id": f"curated-{name}", "custom_id": p.key,
                                         "response": {"status_code": 200, "body": body}, "error": None}))
    Path(path).write_text("".join(line + "\n" for line in lines))
    return len(lines)


def main(argv=None) -> int:
    from torch_llmbackend.cli import main as llmbackend
    from torch_llmbackend.store.bundle import export_bundle, read_bundle
    from torch_llmbackend.store.kernels import KernelStore

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", default=[], choices=sorted(MODELS))
    ap.add_argument("--target", default="cuda" if torch.cuda.is_available() else "triton",
                    choices=["cuda", "triton", "gemmini"])
    ap.add_argument("--out", default=str(Path(__file__).parent.parent / "cache"))
    args = ap.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and args.target == "triton":
        os.environ.setdefault("TRITON_INTERPRET", "1")
    with tempfile.TemporaryDirectory(prefix="bundle-") as cache_dir:
        for name in args.model or ["demo"]:
            queue_misses(name, args.target, device, cache_dir)
        with KernelStore(cache_dir) as store:
            pending = store.pending()
        results = os.path.join(cache_dir, "curated.jsonl")
        n = answers_file(pending, results)
        print(f"{len(pending)} subgraph(s) pending, {n} curated answer(s)")
        status = llmbackend(["batch", "import", results, "--author", "curated", "--cache-dir", cache_dir])
        with KernelStore(cache_dir) as store:  # the curated kernels only (not library baselines)
            new = [e for e in store.entries() if e.provenance.get("author") == "curated"]
        old = read_bundle(args.out).entries if os.path.isfile(os.path.join(args.out, "manifest.json")) else []
        merged = {e.key: e for e in old if e.provenance.get("author") == "curated"}
        merged.update({e.key: e for e in new})
        export_bundle(list(merged.values()), args.out)
        print(f"bundle {args.out}: {len(merged)} kernel(s) ({len(new)} new or updated)")
    return status


if __name__ == "__main__":
    sys.exit(main())
