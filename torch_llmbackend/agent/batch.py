"""Batch mode: LLM work done offline or at batch prices, and kernels handed in by people.

`export_batch` writes one chat-completions request per pending subgraph in the OpenAI Batch
API's JSONL input format; the problem key travels as `custom_id`. `import_batch` reads a
results file in the Batch API's output format, judges every answer exactly like a search round
(extract, then the evaluator), and stores the verified winners with provenance. A person hands
in a kernel the same way: one output line whose body holds the module in a chat completion
(and `"author": "curated"`, or `--author NAME` on import).
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from ..atomic_write import write_atomically
from ..options import Options
from ..records import Evaluation, Problem
from .extract import extract_code
from .knowledge import KnowledgeLink
from .prompts import build_messages
from .winners import candidate_median, evaluate_safely, kernel_entry, rank

log = logging.getLogger(__name__)

CHAT_URL = "/v1/chat/completions"


def export_batch(problems: list[Problem], options: Options, path: str, kb: Any = None) -> int:
    """Write one request per problem to `path` (JSONL); returns how many were written."""
    if not options.model:
        log.warning("batch export without a model: set LLMBACKEND_MODEL; the OpenAI Batch API rejects requests without one")
    knowledge = KnowledgeLink(kb, options)
    lines = []
    for problem in {p.key: p for p in problems}.values():
        body: dict[str, Any] = {
            "messages": build_messages(problem, knowledge.retrieve(problem)),
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
        }
        if options.model:
            body = {"model": options.model, **body}
        lines.append(json.dumps({"custom_id": problem.key, "method": "POST", "url": CHAT_URL, "body": body}))
    # 0644: the file is for the user to upload, as a plain open() would have made it
    write_atomically(path, "".join(line + "\n" for line in lines), fsync=True, mode=0o644)
    log.info("batch export: %d requests written to %s", len(lines), path)
    return len(lines)


@dataclass
class ImportOutcome:
    """What became of the answers for one key."""

    key: str
    status: str  # "stored", "kept-cached" (verified, but the cached kernel is faster), "rejected", "error", "unknown-key"
    reason: str
    answers: int = 0
    evaluation: Evaluation | None = None
    entry: Any = None
    errors: list[str] = field(default_factory=list)


@dataclass
class _Answer:
    line: int
    source: str | None
    evaluation: Evaluation
    author: str
    tokens: int
    request_id: str


def import_batch(path: str, store: Any, evaluator: Any, problems_by_key: dict[str, Problem],
                 author: str | None = None) -> dict[str, ImportOutcome]:
    """Verify every answer in a Batch API results file and store each key's best verified one.
    `author` overrides the author recorded in provenance (default: the body's "author", else
    the model that answered)."""
    report: dict[str, ImportOutcome] = {}
    answers: dict[str, list[_Answer]] = {}
    with open(path, encoding="utf-8") as f:
        raw_lines = f.read().splitlines()
    for n, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        key, answer, error = _read_line(n, raw, problems_by_key, author)
        if key is None or key not in problems_by_key:
            label = key if key is not None else f"line {n}"
            out = report.setdefault(label, ImportOutcome(label, "unknown-key" if key else "error", ""))
            out.errors.append(error or f"line {n}: no pending subgraph has key {key}")
            out.reason = out.errors[0]
            continue
        out = report.setdefault(key, ImportOutcome(key, "error", ""))
        if error:
            out.errors.append(error)
            continue
        out.answers += 1
        if answer.source is not None:
            answer.evaluation = evaluate_safely(evaluator, problems_by_key[key], answer.source)
        answers.setdefault(key, []).append(answer)
    for key, candidates in answers.items():
        _settle(report[key], problems_by_key[key], max(candidates, key=lambda a: rank(a.evaluation)), store, path)
    for out in report.values():
        if out.status == "error" and not out.reason:
            out.reason = "; ".join(out.errors) or "no answer"
    return report


def _read_line(n: int, raw: str, problems_by_key: dict[str, Problem], author: str | None) -> tuple[str | None, _Answer | None, str]:
    """(key, answer, error) for one results line; the answer's evaluation is filled in later."""
    try:
        line = json.loads(raw)
    except ValueError as e:
        return None, None, f"line {n}: not JSON ({e})"
    key = line.get("custom_id") if isinstance(line, dict) else None
    if not isinstance(key, str):
        return None, None, f"line {n}: no custom_id"
    if key not in problems_by_key:
        return key, None, ""
    if line.get("error"):
        return key, None, f"line {n}: the batch reports an error: {_error_text(line['error'])}"
    response = line.get("response") or {}
    status = response.get("status_code")
    body = response.get("body")
    if status != 200 or not isinstance(body, dict):
        return key, None, f"line {n}: HTTP {status}: {_error_text(body)}"
    try:
        content = body["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise TypeError("content is not text")
    except (KeyError, IndexError, TypeError) as e:
        return key, None, f"line {n}: malformed chat completion ({type(e).__name__}: {e})"
    extraction = extract_code(content)
    evaluation = Evaluation(ok=False, stage="extract", reason=extraction.feedback)
    usage = body.get("usage") or {}
    who = author or body.get("author") or body.get("model") or "unknown"
    tokens = int(usage.get("total_tokens") or 0) if isinstance(usage, dict) else 0
    return key, _Answer(n, extraction.source, evaluation, who, tokens, str(line.get("id") or "")), ""


def _settle(out: ImportOutcome, problem: Problem, best: _Answer, store: Any, path: str) -> None:
    out.evaluation = best.evaluation
    if not best.evaluation.ok:
        out.status, out.reason = "rejected", f"line {best.line}: failed at {best.evaluation.stage}: {best.evaluation.reason.strip()}"
        return
    cached = store.get(problem.key)
    new_median = candidate_median(best.evaluation)
    old_median = (cached.timings.get("candidate") or {}).get("median") if cached is not None else None
    if old_median and new_median and old_median <= new_median:
        out.status = "kept-cached"
        out.reason = f"verified, but the cached kernel is as fast or faster ({old_median:.4g} vs {new_median:.4g})"
        out.entry = cached
        return
    provenance = {"author": best.author, "rounds": 1, "tokens": best.tokens, "via": "batch",
                  "batch_file": os.path.basename(path), "batch_line": best.line, "batch_request_id": best.request_id}
    out.entry = kernel_entry(problem, best.source, best.evaluation, provenance)
    store.put(out.entry)
    store.clear_pending(problem.key)
    out.status, out.reason = "stored", f"verified (line {best.line}, author {best.author})"


def _error_text(err: Any) -> str:
    if isinstance(err, dict):
        inner = err.get("error", err)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("code") or inner)[:300]
    return str(err)[:300]


