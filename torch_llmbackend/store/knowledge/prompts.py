"""The two questions the knowledge base asks an LLM, and how it reads the answers.

- `lesson_prompt`: at the end of a search, "what did you learn?" -> a few sentences stored with
  the search record.
- `consolidation_prompt`: many lessons plus the current notes -> revised short technique notes,
  as JSON, stored as a new version of the note set.
"""
from __future__ import annotations

import json
import re
from typing import Any, Sequence

from ...records import Problem
from .features import FAMILIES, features_of
from .records import Attempt, Note, SearchRecord, TechniqueStat
from .taxonomy import normalize_technique, techniques_for

MAX_LESSON_CHARS = 1200
MAX_NOTE_CHARS = 900
KNOWN_TARGETS = ("cuda", "triton", "gemmini")
BOUNDS = ("memory", "compute", "latency")


def _fmt_speedup(x: float | None) -> str:
    return f"{x:.2f}x" if x is not None else "n/a"


def describe_attempt(i: int, a: Attempt) -> str:
    tech = ", ".join(a.techniques) or "(none named)"
    if a.verified:
        if a.speedup_vs_library is not None:
            versus = f"{_fmt_speedup(a.speedup_vs_library)} vs the library"
        else:
            versus = f"{_fmt_speedup(a.speedup_vs_eager)} vs eager, {_fmt_speedup(a.speedup_vs_inductor)} vs inductor"
        outcome = f"verified; {versus}" + ("; WINNER" if a.won else "")
    else:
        outcome = f"failed: {a.reason[:200] or 'unknown reason'}"
    return f"{i}. techniques: {tech} -> {outcome}"


def lesson_prompt(problem: Problem, attempts: Sequence[Attempt], device: str = "cuda") -> str:
    """The question the agent asks at the end of a search; the reply goes to `record_search`."""
    f = features_of(problem, device)
    lines = [
        "The search for a kernel for this subgraph is over. State the lesson for the next engineer who "
        "meets a similar subgraph.",
        "",
        f"Subgraph: {f.summary()}; target {problem.target}.",
        "Attempts in order:",
        *[describe_attempt(i + 1, a) for i, a in enumerate(attempts)],
        "",
        "Reply with 2-4 plain sentences, no code: what worked, what did not, and why (memory traffic, "
        "occupancy, numerics, a build or verification pitfall). Name techniques with these words where they "
        f"apply: {', '.join(techniques_for(problem.target))}.",
    ]
    return "\n".join(lines)


def clean_lesson(text: str) -> str:
    """Keep a lesson short and textual: drop code blocks and collapse whitespace."""
    text = re.sub(r"```.*?(```|$)", " ", text or "", flags=re.DOTALL)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_LESSON_CHARS:
        text = text[: MAX_LESSON_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return text


def _describe_lesson(r: SearchRecord) -> str:
    won = ", ".join(r.winning_techniques) or "nothing won"
    return (f"[search {r.id}] {r.features.summary()}; target {r.target}; best {_fmt_speedup(r.best_gain)} "
            f"vs the better baseline; won with: {won}. Lesson: {r.lesson}")


def _describe_note(n: Note) -> str:
    return (f'{{"id": {json.dumps(n.note_id)}, "technique": {json.dumps(n.technique)}, '
            f'"targets": {json.dumps(n.targets)}, "families": {json.dumps(n.families)}, '
            f'"bounds": {json.dumps(n.bounds)}, "title": {json.dumps(n.title)}, "body": {json.dumps(n.body)}}}')


def consolidation_prompt(lessons: Sequence[SearchRecord], notes: Sequence[Note], stats: Sequence[TechniqueStat]) -> str:
    """Ask the LLM to fold new lessons into the technique notes it is shown."""
    stat_lines = [f"- {s.state} {s.technique}: tried {s.tried}, won {s.won}, mean gain {_fmt_speedup(s.mean_gain)}"
                  for s in stats]
    return "\n".join([
        "You maintain the technique notes of a kernel-optimisation knowledge base. Each note is short advice "
        "about one technique: what it is, when it helps, pitfalls, expected gain.",
        "Fold the new lessons below into the notes. Correct notes that the lessons contradict, add a note when a "
        "lesson teaches something no note says, retire notes that the evidence shows to be wrong. Keep every "
        f"body under {MAX_NOTE_CHARS} characters, general (no problem-specific sizes unless they are the point), "
        "and in plain words.",
        "",
        "New lessons:",
        *[_describe_lesson(r) for r in lessons],
        "",
        "Technique statistics (state = bound/family/target):",
        *(stat_lines or ["(none yet)"]),
        "",
        "Current notes that concern these lessons:",
        *([_describe_note(n) for n in notes] or ["(none)"]),
        "",
        "Reply with one JSON object and nothing else:",
        '{"notes": [{"id": "<existing id to replace, or a new id>", "technique": "<name>", '
        '"targets": ["cuda"|"triton"|"gemmini", ...], "families": [...], "bounds": ["memory"|"compute"|"latency", ...], '
        '"title": "<one line>", "body": "<the note>"}], "retire": ["<id>", ...], "summary": "<one line: what changed>"}',
        f"Families are: {', '.join(FAMILIES)}. Only include notes you add or change.",
    ])


class ConsolidationReplyError(ValueError):
    pass


def _json_object(text: str) -> dict[str, Any]:
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, flags=re.DOTALL)
    candidates = [fenced.group(1)] if fenced else []
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        candidates.append(text[start : end + 1])
    for c in candidates:
        try:
            obj = json.loads(c)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    raise ConsolidationReplyError("the consolidation reply holds no JSON object")


def _str_list(v: Any, allowed: Sequence[str], what: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConsolidationReplyError(f"{what} must be a list of strings")
    bad = [x for x in v if x not in allowed]
    if bad:
        raise ConsolidationReplyError(f"unknown {what}: {bad} (allowed: {list(allowed)})")
    return list(dict.fromkeys(v))


def parse_consolidation_reply(text: str, max_notes: int = 40) -> tuple[list[Note], list[str], str]:
    """-> (notes to add or replace, ids to retire, summary). Raises ConsolidationReplyError on
    anything malformed, so a bad reply never becomes a version."""
    obj = _json_object(text)
    raw_notes, retire = obj.get("notes", []), obj.get("retire", [])
    if not isinstance(raw_notes, list) or not isinstance(retire, list):
        raise ConsolidationReplyError("'notes' and 'retire' must be lists")
    if len(raw_notes) > max_notes:
        raise ConsolidationReplyError(f"too many notes in one consolidation ({len(raw_notes)} > {max_notes})")
    notes = []
    for d in raw_notes:
        if not isinstance(d, dict):
            raise ConsolidationReplyError("each note must be a JSON object")
        technique = normalize_technique(str(d.get("technique", "")))
        title, body = str(d.get("title", "")).strip(), re.sub(r"\s+", " ", str(d.get("body", ""))).strip()
        if not technique or not body:
            raise ConsolidationReplyError("a note needs a technique and a body")
        if len(body) > MAX_NOTE_CHARS * 2:
            raise ConsolidationReplyError(f"note body for {technique} is {len(body)} characters; keep notes short")
        note_id = str(d.get("id") or "").strip() or f"note.{technique}"
        notes.append(Note(
            note_id=note_id, technique=technique, title=title[:160] or technique.replace("_", " "), body=body,
            targets=_str_list(d.get("targets", list(KNOWN_TARGETS)), KNOWN_TARGETS, "targets"),
            families=_str_list(d.get("families", list(FAMILIES)), FAMILIES, "families"),
            bounds=_str_list(d.get("bounds", list(BOUNDS)), BOUNDS, "bounds"),
            origin="consolidated",
        ))
    retire_ids = [str(x) for x in retire]
    if not notes and not retire_ids:
        raise ConsolidationReplyError("the consolidation reply changes nothing")
    return notes, retire_ids, str(obj.get("summary", "")).strip()[:300]

