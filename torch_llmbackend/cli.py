"""The `llmbackend` command: cache (ls, show, rm, verify, export, import), kb, batch, demo."""
from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from contextlib import closing

from . import __version__
from .options import Options, cache_dir_help
from .speedup import speedup_of


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RuntimeError as e:  # a cache folder that cannot be used (batch and kb open it too)
        from .store.kernels import StoreError
        from .store.permissions import UnsafePath

        if not isinstance(e, (StoreError, UnsafePath)):
            raise
        print(f"llmbackend: {e}", file=sys.stderr)
        return 1


KEY_HELP = "a kernel's key, or a prefix of it as `cache ls` shows it (a library baseline's key ends in .library)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmbackend", description="torch.compile(backend='llm') tools")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")

    cache = sub.add_parser("cache", help="the verified-kernel cache").add_subparsers(dest="cache_command")
    p = cache.add_parser("ls", help="list cached kernels")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_cache_ls)
    p = cache.add_parser("show", help="show one kernel")
    p.add_argument("key", help=KEY_HELP)
    p.add_argument("--json", action="store_true", help="print the whole entry as JSON")
    p.set_defaults(func=cmd_cache_show)
    p = cache.add_parser("rm", help="remove kernels (refused ones too)")
    p.add_argument("keys", nargs="+", help=KEY_HELP)
    p.set_defaults(func=cmd_cache_rm)
    p = cache.add_parser("verify", help="re-verify kernels on this machine (all, or the keys given)")
    p.add_argument("keys", nargs="*", help=KEY_HELP)
    p.set_defaults(func=cmd_cache_verify)
    p = cache.add_parser("export", help="write kernels to a bundle folder or .tar.gz")
    p.add_argument("path", help="the bundle to write: a folder, or a file ending in .tar.gz or .tgz")
    p.add_argument("--keys", nargs="*", help="only these keys (default: all)")
    p.set_defaults(func=cmd_cache_export)
    p = cache.add_parser("import", help="check and re-verify a bundle's kernels, then store them")
    p.add_argument("path", help="the bundle to read: a folder, or a .tar.gz/.tgz file")
    p.set_defaults(func=cmd_cache_import)
    p = cache.add_parser("plans", help="list the compile plans (graphs no kernel applies to), or clear them")
    p.add_argument("--clear", action="store_true", help="remove every plan (the next compile decides afresh)")
    p.set_defaults(func=cmd_cache_plans)
    for p in cache.choices.values():
        p.add_argument("--cache-dir", default=None, help=cache_dir_help())

    p = sub.add_parser("demo", help="compile a small model with the shipped bundle, offline, and check it")
    p.add_argument("--cache-dir", default=None,
                   help=cache_dir_help() + "; the demo uses a new temporary one if not given")
    p.add_argument("--target", default=None, help="default: cuda with a GPU, else gemmini")
    p.set_defaults(func=cmd_demo)

    for optional in ("torch_llmbackend.store.kb_cli:add_kb_parser", "torch_llmbackend.agent.batch_cli:add_batch_parser"):
        _add_optional_parser(sub, optional)
    for group in sub.choices.values():  # `llmbackend cache` alone prints what cache can do
        if group.get_default("func") is None:
            group.set_defaults(func=functools.partial(_print_help, group))
    return parser


def _print_help(parser: argparse.ArgumentParser, args) -> int:
    parser.print_help()
    return 2


def _add_optional_parser(sub, spec: str) -> None:
    import importlib

    module, fn = spec.split(":")
    try:
        add = getattr(importlib.import_module(module), fn)
    except ImportError as e:  # a broken optional part must not take the whole command down
        logging.getLogger(__name__).warning("llmbackend: %s unavailable: %s", module, e)
        return
    add(sub)


def _options(args) -> Options:
    given = {}
    if getattr(args, "cache_dir", None):
        given["cache_dir"] = args.cache_dir
    return Options.resolve(given)


def _store(args, write: bool = True):
    """The store of --cache-dir; a folder that must not or cannot be used raises, and main()
    says why. A command that only reads opens a folder it cannot write read-only."""
    from .store.kernels import KernelStore, StoreUnavailable

    cache_dir = _options(args).cache_dir
    try:
        return KernelStore(cache_dir)
    except StoreUnavailable as e:
        if write:
            raise
        try:
            return KernelStore(cache_dir, readonly=True)
        except StoreUnavailable:
            raise e from None


def _match(store, given: str) -> str:
    """The one key `given` names: itself, or the one key whose hash starts with `given`'s and
    whose suffix (.library) is the same as `given`'s, so that a kernel and its library baseline
    are told apart."""
    keys = store.keys()
    if given in keys:
        return given
    head, _, tail = given.partition(".")
    matches = [k for k in keys if k.partition(".")[2] == tail and k.startswith(head)]
    if len(matches) != 1:
        listed = "" if not matches else ": " + ", ".join(_short(k) for k in matches[:8])
        raise SystemExit(f"llmbackend: {'no' if not matches else 'several'} kernels match {given!r}{listed}")
    return matches[0]


def _find(store, given: str):
    key = _match(store, given)
    entry = store.get(key)
    if entry is None:
        raise SystemExit(f"llmbackend: kernel {_short(key)} is refused by the store (the warning above says why); "
                         f"`llmbackend cache rm {_short(key)}` removes it")
    return entry


def _short(key: str) -> str:
    """A key as listed: 16 characters of its hash, and its suffix."""
    head, dot, tail = key.partition(".")
    return head[:16] + dot + tail


def _summary(e) -> dict:
    t = e.timings or {}
    eager, ind = (speedup_of(t, name) for name in ("eager", "inductor"))
    return {
        "key": e.key, "target": e.target, "author": e.provenance.get("author", "?"), "device": e.device or t.get("device", ""),
        "speedup_vs_eager": round(eager, 3) if eager else None,
        "speedup_vs_inductor": round(ind, 3) if ind else None,
        "verified_on": [m.get("device") for m in e.verified_on],
        "signed": e.trusted,
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created)),
    }


def cmd_cache_ls(args) -> int:
    with _store(args, write=False) as store:
        rows = [_summary(e) for e in store.entries()]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'key':24}  {'target':8} {'author':16} {'vs eager':>8} {'vs ind.':>8}  verified on")
    for r in rows:
        se = f"{r['speedup_vs_eager']:.2f}x" if r["speedup_vs_eager"] else "-"
        si = f"{r['speedup_vs_inductor']:.2f}x" if r["speedup_vs_inductor"] else "-"
        print(f"{_short(r['key']):24}  {r['target']:8} {r['author'][:16]:16} {se:>8} {si:>8}  {_verified_on(r)}")
    print(f"{len(rows)} kernel(s)")
    return 0


def _verified_on(row: dict) -> str:
    return ", ".join(row["verified_on"]) or ("-" if row["signed"] else "- (unsigned: verified again before use)")


def cmd_cache_show(args) -> int:
    with _store(args, write=False) as store:
        e = _find(store, args.key)
    if args.json:
        print(json.dumps(e.to_json(), indent=1))
        return 0
    print(f"key:        {e.key}\ntarget:     {e.target}\nprovenance: {json.dumps(e.provenance)}")
    print(f"timings:    {json.dumps(_summary(e))}")
    with _store(args, write=False) as store:
        for line in _coverage(store, e):
            print(line)
    print(f"signature:\n{e.signature}\n\nsource:\n{e.source}")
    return 0


def _coverage(store, entry) -> list[str]:
    """The sizes this kernel's source is proven at (one entry per size), and where it was refused."""
    from .records import Problem

    proven, refused = [], []
    for other in store.entries():
        if other.source == entry.source and other.problem:
            try:
                proven.append(Problem.from_json(other.problem).shape_text())
            except (KeyError, TypeError, ValueError):
                continue
    prefix = "refused:"
    for name in store.note_names(prefix):
        note = store.get_note(name)
        if note and name.split(":")[2] == entry.source_hash()[:16]:
            refused.append(f"{note.get('sizes', '?')} ({note.get('reason', '')})")
    lines = [f"proven at:  {'; '.join(sorted(set(proven))) or 'its own sizes only'}"]
    if refused:
        lines.append(f"refused at: {'; '.join(refused)} (the baseline runs there)")
    return lines


def cmd_cache_plans(args) -> int:
    from .plans import PREFIX, Plan

    with _store(args, write=args.clear) as store:
        names = store.note_names(PREFIX)
        for name in names:
            plan = Plan.from_json(store.get_note(name) or {})
            if args.clear:
                store.delete_note(name)
            elif plan is not None:
                replay = f", replayed as CUDA graphs ({plan.replay})" if plan.replay else ""
                print(f"{name[len(PREFIX):][:16]}  {plan.runs}{replay}  {len(plan.looked_up)} subgraph key(s)  {plan.why}")
    print(f"{'cleared' if args.clear else 'listed'} {len(names)} plan(s)")
    return 0


def cmd_cache_rm(args) -> int:
    with _store(args) as store:
        for given in args.keys:
            key = _match(store, given)
            store.delete(key)
            print(f"removed {_short(key)}")
    return 0


def _verify(entry, evaluator) -> tuple[str, object]:
    """('ok'|'failed'|'skipped', Evaluation or reason) for one entry on this machine."""
    from .graph.record import RecordError
    from .targets import get_target

    try:
        problem = _problem_of(entry)
    except RecordError as e:
        return "failed", f"its graph record is refused: {e}"
    device = problem.inputs[0].device if problem.inputs else "cpu"
    try:
        avail = get_target(problem.target).availability(device)
    except (ImportError, ValueError) as e:
        return "skipped", str(e)
    if not avail.ok:
        return "skipped", f"this machine cannot run it: {avail.reason}"
    ev = evaluator.evaluate(problem, entry.source)
    return ("ok" if ev.ok else "failed"), ev


def _problem_of(entry):
    """The entry's problem, rendered here from its signature (the declarative graph record its
    key is the hash of). The problem and reference code an entry carries are never used: a
    forged reference could make a wrong kernel look right."""
    from .graph.record import RecordError
    from .graph.render import problem_from_signature

    problem = problem_from_signature(entry.signature)
    if problem.key != entry.key.removesuffix(".library"):
        raise RecordError("the record does not hash to the entry's key")
    entry.problem = problem.to_json()
    return problem


def _machine_for(entry) -> dict[str, str]:
    from .machine import this_machine
    from .targets import get_target

    problem = _problem_of(entry)
    return this_machine(get_target(problem.target), problem.inputs[0].device if problem.inputs else "cpu")


def _record_verification(entry, evaluation) -> None:
    """This machine verified `entry`: its own timings and record replace those it came with."""
    machine = _machine_for(entry)
    if machine not in entry.verified_on:
        entry.verified_on.append(machine)
    entry.timings, entry.verification = evaluation.timings, evaluation.verification


def cmd_cache_verify(args) -> int:
    from .evaluate import Evaluator

    opts = _options(args)
    failed = 0
    with _store(args) as store, closing(Evaluator(opts)) as evaluator:
        keys = [_match(store, k) for k in args.keys] if args.keys else store.keys()
        for key in keys:
            entry = store.get(key)
            if entry is None:
                status, detail = "failed", "refused by the store (the warning above says why)"
            else:  # signed or not: the problem is rendered here from the entry's record, never taken from it
                status, detail = _verify(entry, evaluator)
            if status == "ok":
                _record_verification(entry, detail)
                store.put(entry)
            failed += status == "failed"
            print(f"{_short(key)}  {status:7}  {_detail(detail)}")
    return 1 if failed else 0


def cmd_cache_export(args) -> int:
    from .store.bundle import export_bundle

    with _store(args, write=False) as store:
        entries = [_find(store, k) for k in args.keys] if args.keys else list(store.entries())
    n = export_bundle(entries, args.path, knowledge=_knowledge_export(args))
    print(f"exported {n} kernel(s) to {args.path}")
    return 0


def _knowledge_export(args) -> bytes | None:
    """The knowledge base as export JSON bytes, to travel inside the bundle."""
    import tempfile

    from .store.knowledge import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "knowledge.json")
        KnowledgeBase(_options(args).cache_dir).export(path)
        with open(path, "rb") as f:
            return f.read()


def cmd_cache_import(args) -> int:
    from .evaluate import Evaluator
    from .store.bundle import BundleError, read_bundle

    opts = _options(args)
    try:
        bundle = read_bundle(args.path)
    except BundleError as e:
        print(f"llmbackend: {e}", file=sys.stderr)
        return 1
    for name, why in bundle.refused:
        print(f"{name}  refused  {why}")
    stored = rejected = 0
    with _store(args) as store, closing(Evaluator(opts)) as evaluator:
        for entry in bundle.entries:
            entry.verified_on = []  # what another machine claims is not evidence here
            status, detail = _verify(entry, evaluator)
            if status == "failed":
                rejected += 1
                print(f"{_short(entry.key)}  rejected  {_detail(detail)}")
                continue
            if status == "ok":
                _record_verification(entry, detail)
            store.put(entry)
            stored += 1
            outcome = "verified" if status == "ok" else "kept, not verified here"
            print(f"{_short(entry.key)}  {outcome}  {_detail(detail)}")
    if bundle.knowledge is not None:
        _knowledge_import(args, bundle.knowledge)
    failures = "".join(f"; {n} {what}" for n, what in ((rejected, "rejected"), (len(bundle.refused), "refused")) if n)
    print(f"imported {stored} of {len(bundle.entries) + len(bundle.refused)} kernel(s){failures}")
    return 1 if bundle.refused or rejected else 0


def _knowledge_import(args, raw: bytes) -> None:
    import tempfile

    from .store.knowledge import KnowledgeBase, KnowledgeImportError

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "knowledge.json")
        with open(path, "wb") as f:
            f.write(raw)
        try:
            KnowledgeBase(_options(args).cache_dir).import_(path)
            print("knowledge base: merged the bundle's records")
        except KnowledgeImportError as e:
            print(f"knowledge base: the bundle's records refused: {e}")


def _detail(detail) -> str:
    """A verification's outcome for the listing: the speed-up when it passed, else the stage and
    the whole reason (a mismatch report runs to several lines, and the last may say why)."""
    if isinstance(detail, str):
        return detail
    if detail.ok:
        speed = detail.speedup("eager")
        return f"{speed:.2f}x vs eager" if speed else ""
    reason = (detail.reason or "").strip()
    return f"{detail.stage}: " + reason.replace("\n", "\n    ")


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(cache_dir=args.cache_dir, target=args.target)


if __name__ == "__main__":
    sys.exit(main())
