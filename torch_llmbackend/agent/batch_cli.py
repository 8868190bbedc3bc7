"""`llmbackend batch export FILE` and `llmbackend batch import FILE [--author NAME]`.

cli.py wires this in with `add_batch_parser(subparsers)`; each subcommand sets `func(args) ->
exit code`. Pending problems are the misses that offline compiles queued in the store.
"""
from __future__ import annotations

import argparse
import sys

from ..options import Options, cache_dir_help


def add_batch_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    batch = subparsers.add_parser("batch", help="export pending subgraphs as Batch API requests; import and verify the answers")
    # not required: `llmbackend batch` alone prints this group's help (cli.main sets that default)
    sub = batch.add_subparsers(dest="batch_command", metavar="{export,import}")
    export = sub.add_parser("export", help="write one chat-completions request per pending subgraph (OpenAI Batch API JSONL)")
    export.add_argument("file", help="the JSONL file to write")
    export.add_argument("--cache-dir", help=cache_dir_help())
    export.set_defaults(func=run_export)
    imp = sub.add_parser("import", help="verify the answers of a Batch API results file and store the winners")
    imp.add_argument("file", help="the results JSONL file (Batch API output format)")
    imp.add_argument("--author", help="author recorded for the stored kernels (e.g. curated); default: the answering model")
    imp.add_argument("--cache-dir", help=cache_dir_help())
    imp.set_defaults(func=run_import)
    return batch


def _options(args: argparse.Namespace) -> Options:
    return Options.resolve({"cache_dir": args.cache_dir} if args.cache_dir else {})


def _knowledge_base(cache_dir: str):
    try:
        from ..store.knowledge import KnowledgeBase
    except ImportError:
        return None
    return KnowledgeBase(cache_dir)


def run_export(args: argparse.Namespace) -> int:
    from ..store.kernels import KernelStore
    from .batch import export_batch

    options = _options(args)
    with KernelStore(options.cache_dir) as store:
        problems = store.pending()
    kb = _knowledge_base(options.cache_dir) if options.use_knowledge else None
    n = export_batch(problems, options, args.file, kb=kb)
    print(f"wrote {n} request{'s' if n != 1 else ''} to {args.file}" + ("" if n else " (no pending subgraphs)"))
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ..evaluate import Evaluator
    from ..store.kernels import KernelStore
    from .batch import import_batch

    options = _options(args)
    evaluator = Evaluator(options)
    try:
        with KernelStore(options.cache_dir) as store:
            problems = {p.key: p for p in store.pending()}
            report = import_batch(args.file, store, evaluator, problems, author=args.author)
    except OSError as e:
        print(f"cannot read {args.file}: {e}", file=sys.stderr)
        return 2
    finally:
        evaluator.close()
    for key, out in report.items():
        print(f"{key[:16]:16}  {out.status:12}  {out.reason}")
    stored = sum(out.status == "stored" for out in report.values())
    print(f"{stored} of {len(report)} subgraphs stored")
    return 0 if all(out.status in ("stored", "kept-cached") for out in report.values()) else 1
