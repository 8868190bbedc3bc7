"""`llmbackend kb ...`: look into, search, export and import the knowledge base.

cli.py calls `add_kb_parser(subparsers)`; the parser's `func` default is `run_kb(args) -> int`.
Human-readable tables by default, JSON with --json (one document on stdout).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from ..options import cache_dir_help
from ..records import Problem
from .knowledge import KnowledgeBase, KnowledgeImportError
from .knowledge.features import features_of


def add_kb_parser(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    kb = subparsers.add_parser("kb", help="inspect, search, export and import the knowledge base")
    # not required: `llmbackend kb` alone prints this group's help (cli.main sets that default)
    sub = kb.add_subparsers(dest="kb_command")

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", help="print JSON instead of tables")
        p.add_argument("--cache-dir", default=None, help=cache_dir_help())
        p.set_defaults(func=run_kb)
        return p

    p = cmd("ls", "list search records (or notes, or note versions)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--notes", action="store_true", help="list the current technique notes")
    what.add_argument("--versions", action="store_true", help="list the versions of the notes")
    p.add_argument("--limit", type=int, default=50)

    p = cmd("show", "show one search record (by id or uid) or one note (by note id)")
    p.add_argument("ref", help="a record's id or uid, or a note's id (as `kb ls` shows them)")
    p.add_argument("--version", type=int, default=None, help="notes version to look in (default: current)")

    p = cmd("search", "keyword search over lessons and notes, or what a problem would be given")
    p.add_argument("query", nargs="?", default="", help="words to look for")
    p.add_argument("--problem", default=None, help="a Problem as JSON: print what retrieval gives it")
    p.add_argument("--device", default="cuda", help="device the problem runs on (cuda, cpu, gemmini)")
    p.add_argument("--budget", type=int, default=1500, help="token budget of the prompt section")
    p.add_argument("--limit", type=int, default=20)

    p = cmd("stats", "technique statistics per state")
    p.add_argument("--state", default=None, help="one state, e.g. memory/softmax/triton (SQL % wildcards allowed)")

    p = cmd("export", "write the knowledge base to a JSON file (with content hashes)")
    p.add_argument("path", help="the JSON file to write")

    p = cmd("import", "merge a JSON export into the knowledge base")
    p.add_argument("path", help="a file written by `kb export`")

    p = cmd("rollback", "make an earlier version of the technique notes current")
    p.add_argument("version", type=int, help="the notes version to make current (as `kb ls --versions` shows)")
    return kb


def run_kb(args: argparse.Namespace) -> int:
    kb = KnowledgeBase(_cache_dir(args))
    handler = _HANDLERS[args.kb_command]
    try:
        return handler(kb, args)
    except (KnowledgeImportError, ValueError, OSError) as e:
        print(f"llmbackend kb {args.kb_command}: {e}", file=sys.stderr)
        return 1


def _cache_dir(args: argparse.Namespace) -> str:
    if args.cache_dir:
        return args.cache_dir
    from ..options import Options

    return Options.resolve().cache_dir


def _emit(args: argparse.Namespace, data: Any, table: Table | str) -> None:
    if args.json:
        json.dump(data, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    else:
        if isinstance(table, Table):
            # identifiers stay on one line; only the free-text column wraps
            for col in table.columns:
                col.no_wrap = str(col.header) not in _WRAPPING
        # markup off: lessons and notes contain brackets that rich would take for style tags.
        # Piped output gets a wide page instead of rich's 80-column default.
        width = None if sys.stdout.isatty() else 200
        Console(soft_wrap=isinstance(table, str), markup=False, highlight=False, width=width).print(table)


_WRAPPING = {"lesson", "text", "title", "summary", "families"}


def _gain(x: float | None) -> str:
    return f"{x:.2f}x" if x is not None else "-"


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _ls(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    if args.notes:
        notes = kb.notes()
        t = Table("id", "technique", "targets", "families", "origin", "title", title=f"notes v{kb.current_version()}")
        for n in notes[: args.limit]:
            t.add_row(n.note_id, n.technique, ",".join(n.targets), ",".join(n.families), n.origin, n.title)
        _emit(args, [n.to_json() for n in notes[: args.limit]], t)
    elif args.versions:
        versions = kb.note_versions()
        t = Table("version", "current", "created", "source", "parent", "notes", "lessons through", "summary")
        for v in versions:
            t.add_row(str(v.version), "*" if v.current else "", _when(v.created), v.source, str(v.parent or "-"),
                      str(v.notes), str(v.lessons_through), _short(v.summary, 60))
        _emit(args, [v.to_json() for v in versions], t)
    else:
        records = kb.searches(limit=args.limit)
        t = Table("id", "created", "state", "model", "attempts", "best gain", "lesson",
                  title=f"{kb.count_searches()} searches")
        for r in records:
            t.add_row(str(r.id), _when(r.created), r.state, r.model, str(len(r.attempts)), _gain(r.best_gain),
                      _short(r.lesson))
        _emit(args, [{"id": r.id, **r.to_json()} for r in records], t)
    return 0


def _show(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    record = kb.get_search(args.ref)
    if record is not None:
        lines = [f"search {record.id} ({record.uid})", f"created  {_when(record.created)}",
                 f"problem  {record.problem_key}", f"device   {record.device}   target {record.target}",
                 f"model    {record.model}", f"state    {record.state}", f"features {record.features.summary()}",
                 "attempts:"]
        for i, a in enumerate(record.attempts, 1):
            versus = (f"{_gain(a.speedup_vs_library)} vs the library" if a.speedup_vs_library is not None
                      else f"{_gain(a.speedup_vs_eager)} vs eager, {_gain(a.speedup_vs_inductor)} vs inductor")
            outcome = f"verified, {versus}" if a.verified else f"failed: {a.reason}"
            lines.append(f"  {i}. {', '.join(a.techniques) or '-'}: {outcome}{'  [won]' if a.won else ''}")
        lines.append(f"lesson: {record.lesson}")
        _emit(args, {"kind": "search", "id": record.id, **record.to_json()}, "\n".join(lines))
        return 0
    note = next((n for n in kb.notes(args.version) if n.note_id == args.ref), None)
    if note is None:
        print(f"llmbackend kb show: no search or note {args.ref!r}", file=sys.stderr)
        return 1
    text = (f"note {note.note_id} ({note.origin})\ntechnique {note.technique}\ntargets {', '.join(note.targets)}\n"
            f"families {', '.join(note.families)}\nbounds {', '.join(note.bounds)}\n{note.title}\n{note.body}")
    _emit(args, {"kind": "note", **note.to_json()}, text)
    return 0


def _search(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    if args.problem:
        with open(args.problem, encoding="utf-8") as fh:
            problem = Problem.from_json(json.load(fh))
        section = kb.retrieve(problem, args.device, args.budget)
        similar = kb.similar(problem, args.device, k=args.limit)
        data = {"features": features_of(problem, args.device).to_json(), "section": section,
                "similar": [{"score": s.score, "id": s.record.id, **s.record.to_json()} for s in similar]}
        _emit(args, data, section or "(nothing relevant in the knowledge base)")
        return 0
    if not args.query.strip():
        print("llmbackend kb search: give words to look for, or --problem FILE", file=sys.stderr)
        return 2
    hits = kb.find_text(args.query, args.limit)
    t = Table("score", "kind", "id", "text", title=f"'{args.query}'")
    for score, kind, ref, text in hits:
        t.add_row(f"{score:.2f}", kind, ref, _short(text, 100))
    _emit(args, [{"score": s, "kind": k, "id": i, "text": x} for s, k, i, x in hits], t)
    return 0


def _stats(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    stats = kb.stats(args.state)
    t = Table("state", "technique", "tried", "won", "verified", "mean gain", "confidence")
    for s in sorted(stats, key=lambda s: (s.state, -s.confidence, -s.tried)):
        t.add_row(s.state, s.technique, str(s.tried), str(s.won), str(s.verified), _gain(s.mean_gain),
                  f"{s.confidence:.2f}")
    _emit(args, [s.to_json() for s in stats], t)
    return 0


def _export(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    summary = kb.export(args.path)
    _emit(args, summary, f"exported {summary['searches']} searches and {summary['notes']} notes to {args.path}")
    return 0


def _import(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    summary = kb.import_(args.path)
    version = f"; notes are now version {summary['notes_version']}" if summary["notes_version"] else ""
    _emit(args, summary, f"imported {summary['searches_added']} new searches "
                         f"({summary['searches_skipped']} already known){version}")
    return 0


def _rollback(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    kb.rollback(args.version)
    _emit(args, {"current_version": args.version}, f"notes version {args.version} is current")
    return 0


_HANDLERS = {"ls": _ls, "show": _show, "search": _search, "stats": _stats, "export": _export, "import": _import,
             "rollback": _rollback}


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m torch_llmbackend.store.kb_cli ...`), same as `llmbackend kb ...`."""
    parser = argparse.ArgumentParser(prog="llmbackend")
    kb = add_kb_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):  # `kb` alone
        kb.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
