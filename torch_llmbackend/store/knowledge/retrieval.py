"""Ranking what the knowledge base holds against one new subgraph, and writing the prompt section
that goes to the LLM, within a token budget.

Pure functions over records: the SQLite side (knowledge.py) fetches candidates, this module
decides what is relevant and how it reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .features import Features, family_similarity, similarity
from .records import Note, SearchRecord, TechniqueStat

# Below this a record shares too little with the new subgraph for its lesson to help: with the
# weights in features.py, a record of an unrelated family cannot reach it.
MIN_RECORD_SIMILARITY = 0.45
MIN_NOTE_SCORE = 0.55
MAX_LESSONS = 3
MAX_NOTES = 4
MAX_STAT_ROWS = 8
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass
class ScoredRecord:
    score: float
    record: SearchRecord


@dataclass
class ScoredNote:
    score: float
    note: Note


def rank_records(f: Features, records: Sequence[SearchRecord], min_score: float = MIN_RECORD_SIMILARITY) -> list[ScoredRecord]:
    """Most similar first; equal scores favour records that found a winner, then newer ones."""
    scored = [ScoredRecord(similarity(f, r.features), r) for r in records]
    scored = [s for s in scored if s.score >= min_score]
    scored.sort(key=lambda s: (round(s.score, 3), s.record.best_gain or 0.0, s.record.created), reverse=True)
    return scored


def note_scope_score(note: Note, f: Features) -> float:
    """How well a note's scope fits a subgraph: 0 for another target or an unrelated family, up
    to 1 for the same family, target and bound."""
    if f.target not in note.targets:
        return 0.0
    fam = max((family_similarity(f.family, x) for x in note.families), default=0.0)
    if fam == 0.0:
        return 0.0
    return 0.6 * fam + 0.4 * (f.bound in note.bounds)


def rank_notes(f: Features, notes: Sequence[Note], stats: Sequence[TechniqueStat]) -> list[ScoredNote]:
    """Notes in scope, with a bonus for techniques that have won in this state before, for notes
    written for few families (a softmax note beats a generic one on a softmax), and for notes
    distilled from experience over starter text at equal scope."""
    confidence = {s.technique: s.confidence for s in stats}
    scored = []
    for n in notes:
        scope = note_scope_score(n, f)
        if scope < MIN_NOTE_SCORE:
            continue
        specificity = 0.05 / max(1, len(n.families))
        bonus = 0.3 * confidence.get(n.technique, 0.0) + specificity + (0.05 if n.origin != "starter" else 0.0)
        scored.append(ScoredNote(scope + bonus, n))
    scored.sort(key=lambda s: s.score, reverse=True)  # stable: equal scores keep the notes' own order
    return scored


def _fmt_gain(x: float | None) -> str:
    return f"{x:.2f}x" if x is not None else "-"


def _lesson_block(s: ScoredRecord, max_chars: int = 700) -> str:
    r = s.record
    f = r.features
    won = ", ".join(r.winning_techniques) or "no winner"
    lesson = r.lesson if len(r.lesson) <= max_chars else r.lesson[: max_chars - 3] + "..."
    return (f"- (similarity {s.score:.2f}; {f.family}, {f.dtype}, {f.bound}-bound, {r.target}; "
            f"best {_fmt_gain(r.best_gain)} vs the better baseline; won with: {won}) {lesson}")


def _stats_block(state: str, stats: Sequence[TechniqueStat], scope: str) -> str:
    rows = sorted(stats, key=lambda s: (s.confidence, s.mean_gain or 0.0, s.tried), reverse=True)[:MAX_STAT_ROWS]
    lines = [f"### Technique statistics for {scope} {state}",
             "technique | tried | won | mean gain (verified) | confidence"]
    lines += [f"{s.technique} | {s.tried} | {s.won} | {_fmt_gain(s.mean_gain)} | {s.confidence:.2f}" for s in rows]
    return "\n".join(lines)


def _note_block(s: ScoredNote, max_chars: int = 800) -> str:
    n = s.note
    body = n.body if len(n.body) <= max_chars else n.body[: max_chars - 3] + "..."
    return f"- {n.technique}: {n.title}. {body}"


def render_section(
    f: Features,
    lessons: Sequence[ScoredRecord],
    stats: Sequence[TechniqueStat],
    stats_scope: str,
    notes: Sequence[ScoredNote],
    budget_tokens: int,
) -> str:
    """Assemble the prompt section. Items are admitted in priority order (best lesson, the
    statistics, best note, then alternating) while the whole stays within `budget_tokens`;
    they are then printed grouped by kind. Empty when nothing fits or nothing is relevant."""
    header = (f"## Experience from earlier searches (knowledge base)\n"
              f"This subgraph: {f.summary()}; state {f.state}. Use what applies; it is advice, not a rule.")
    lesson_items = [_lesson_block(s) for s in lessons[:MAX_LESSONS]]
    note_items = [_note_block(s) for s in notes[:MAX_NOTES]]
    stats_item = _stats_block(f.state, stats, stats_scope) if stats else ""

    order: list[tuple[str, str]] = []
    if lesson_items:
        order.append(("lesson", lesson_items[0]))
    if stats_item:
        order.append(("stats", stats_item))
    for i in range(max(len(lesson_items), len(note_items))):
        if i < len(note_items):
            order.append(("note", note_items[i]))
        if 0 < i < len(lesson_items):
            order.append(("lesson", lesson_items[i]))

    used = estimate_tokens(header) + 20  # the sub-headings
    if used > budget_tokens:
        return ""
    chosen: dict[str, list[str]] = {"lesson": [], "stats": [], "note": []}
    for kind, text in order:
        cost = estimate_tokens(text) + 1
        if used + cost <= budget_tokens:
            chosen[kind].append(text)
            used += cost
    if not any(chosen.values()):
        return ""
    parts = [header]
    if chosen["lesson"]:
        parts.append("### Lessons from similar subgraphs\n" + "\n".join(chosen["lesson"]))
    parts += chosen["stats"]
    if chosen["note"]:
        parts.append("### Technique notes\n" + "\n".join(chosen["note"]))
    return "\n\n".join(parts) + "\n"
