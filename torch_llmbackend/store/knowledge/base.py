"""The knowledge base: optimisation experience that carries from one subgraph to the next.

For every search it keeps the subgraph's features, each attempt's techniques and outcome, and the
lesson the LLM stated at the end; per (state, technique) it keeps statistics; and it keeps short
technique notes, versioned, that a consolidation step rewrites from many lessons. `retrieve`
gives a new search the few lessons, statistics and notes that fit its subgraph, within a token
budget.

Storage is one SQLite file, `<cache_dir>/knowledge.sqlite` (see db.py); nothing is
pickled. Typical use by the agent::

    kb = KnowledgeBase(options.cache_dir)
    section = kb.retrieve(problem, device, budget_tokens=1500)      # into the prompt
    ...
    lesson = llm(lesson_prompt(problem, attempts, device))
    kb.record_search(problem, device, problem.target, attempts, lesson, model)
    kb.consolidate(llm)                                              # now and then
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ...atomic_write import write_atomically
from ...records import Problem
from .db import get_meta, initialize, reading, set_meta, writing
from .features import Features, features_of, similarity
from .prompts import clean_lesson, consolidation_prompt, lesson_prompt, parse_consolidation_reply
from .records import (
    Attempt, Note, NoteVersion, SearchRecord, TechniqueStat, sha256_of, wilson_lower_bound,
)
from .retrieval import (
    MAX_LESSONS, MIN_NOTE_SCORE, MIN_RECORD_SIMILARITY, ScoredRecord, note_scope_score, rank_notes,
    rank_records, render_section,
)
from .taxonomy import classify_techniques

__all__ = [
    "KnowledgeBase", "Attempt", "SearchRecord", "TechniqueStat", "Note", "NoteVersion", "Features",
    "features_of", "classify_techniques", "lesson_prompt", "consolidation_prompt", "KnowledgeImportError",
]

log = logging.getLogger(__name__)

FILENAME = "knowledge.sqlite"
EXPORT_FORMAT = "torch_llmbackend.knowledge"
EXPORT_FORMAT_VERSION = 1
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # torch_llmbackend/
STARTER_PATH = os.path.join(_PACKAGE_DIR, "data", "knowledge_starter.json")
# How many recent records retrieval considers; older experience still counts in the statistics.
MAX_CANDIDATES = 5000


class KnowledgeImportError(ValueError):
    """An export file that is malformed or whose content hashes do not match: refused whole."""


@dataclass
class _ConsolidationContext:
    lessons: list[SearchRecord]
    notes: list[Note]
    stats: list[TechniqueStat]
    through: int


class KnowledgeBase:
    def __init__(self, cache_dir: str, load_starter: bool = True):
        self.cache_dir = cache_dir
        self.path = os.path.join(cache_dir, FILENAME)
        initialize(self.path)
        if load_starter:
            self.ensure_starter()

    # ------------------------------------------------------------------ recording

    def record_search(
        self,
        problem: Problem,
        device: str,
        target: str,
        attempts: Sequence[Attempt],
        lesson: str,
        model: str,
    ) -> SearchRecord:
        """Store one finished search and update the statistics of its state, atomically."""
        features = dataclasses.replace(features_of(problem, device), target=target)
        record = SearchRecord(
            uid=uuid.uuid4().hex, created=time.time(), problem_key=problem.key, device=device, target=target,
            model=model, features=features, attempts=list(attempts), lesson=clean_lesson(lesson),
        )
        with writing(self.path) as con:
            record.id = _insert_search(con, record)
            _add_stats(con, record.state, record.attempts)
        log.debug("knowledge: recorded search %s (%s, %d attempts)", record.id, record.state, len(record.attempts))
        return record

    # ------------------------------------------------------------------ retrieval

    def similar(self, problem: Problem, device: str, k: int = MAX_LESSONS,
                min_score: float = MIN_RECORD_SIMILARITY) -> list[ScoredRecord]:
        """The `k` records with lessons most similar to `problem`, best first."""
        return self._similar(features_of(problem, device), k, min_score)

    def _similar(self, f: Features, k: int, min_score: float) -> list[ScoredRecord]:
        with reading(self.path) as con:
            rows = con.execute(
                "SELECT id, features FROM searches WHERE lesson != '' ORDER BY id DESC LIMIT ?", (MAX_CANDIDATES,)
            ).fetchall()
            # Cheap pass on features alone, then load the few that matter in full.
            scored = [(similarity(f, Features.from_json(json.loads(r["features"]))), r["id"]) for r in rows]
            top = sorted((s for s in scored if s[0] >= min_score), reverse=True)[: 4 * k]
            records = _load_records(con, [i for _, i in top])
        return rank_records(f, records, min_score)[:k]

    def retrieve(self, problem: Problem, device: str, budget_tokens: int = 1500) -> str:
        """Prompt section with the top few lessons from similar subgraphs, the technique
        statistics of this subgraph's state and the notes in scope, within `budget_tokens`
        (estimated as characters / 4). Empty string when nothing relevant is known."""
        f = features_of(problem, device)
        lessons = self._similar(f, MAX_LESSONS, MIN_RECORD_SIMILARITY)
        stats, scope = self.stats_for(f)
        notes = rank_notes(f, self.notes(), stats)
        return render_section(f, lessons, stats, scope, notes, budget_tokens)

    def stats_for(self, f: Features) -> tuple[list[TechniqueStat], str]:
        """Statistics of the exact state; when it has none yet, those of the same family and
        target over all bounds (labelled so the prompt says which)."""
        exact = self.stats(f.state)
        if exact:
            return exact, "state"
        family_target = self.stats(f"%/{f.family}/{f.target}")
        return family_target, "all bounds of"

    # ------------------------------------------------------------------ statistics and records

    def stats(self, state: str | None = None) -> list[TechniqueStat]:
        """Per-technique statistics; `state` may contain SQL LIKE wildcards (%), in which case
        matching states are summed per technique."""
        op = "LIKE" if state and "%" in state else "="
        where, params = (f"WHERE state {op} ?", (state,)) if state else ("", ())
        with reading(self.path) as con:
            rows = con.execute(
                "SELECT state, technique, tried, won, verified, log_gain_sum, gain_n FROM technique_stats "
                f"{where} ORDER BY state, technique", params
            ).fetchall()
        if state and "%" in state:
            merged: dict[str, list] = {}
            for r in rows:
                m = merged.setdefault(r["technique"], [state, r["technique"], 0, 0, 0, 0.0, 0])
                for i, key in enumerate(("tried", "won", "verified", "log_gain_sum", "gain_n"), start=2):
                    m[i] += r[key]
            rows = [dict(zip(("state", "technique", "tried", "won", "verified", "log_gain_sum", "gain_n"), m))
                    for m in merged.values()]
        return [_stat_of(r) for r in rows]

    def states(self) -> list[str]:
        with reading(self.path) as con:
            return [r[0] for r in con.execute("SELECT DISTINCT state FROM technique_stats ORDER BY state")]

    def count_searches(self) -> int:
        with reading(self.path) as con:
            return con.execute("SELECT COUNT(*) FROM searches").fetchone()[0]

    def searches(self, limit: int | None = None, state: str | None = None) -> list[SearchRecord]:
        """Records, newest first."""
        sql = "SELECT id FROM searches" + (" WHERE state = ?" if state else "") + " ORDER BY id DESC"
        params: tuple = (state,) if state else ()
        if limit is not None:
            sql, params = sql + " LIMIT ?", params + (int(limit),)
        with reading(self.path) as con:
            ids = [r[0] for r in con.execute(sql, params)]
            return _load_records(con, ids)

    def get_search(self, ref: int | str) -> SearchRecord | None:
        """By local id, or by uid (or a unique prefix of at least 6 characters)."""
        with reading(self.path) as con:
            ids = []
            if isinstance(ref, int) or str(ref).isdigit():
                ids = [r[0] for r in con.execute("SELECT id FROM searches WHERE id = ?", (int(ref),))]
            # a uid prefix may be all digits too (hex): tried when no local id matched
            if not ids and not isinstance(ref, int) and len(str(ref)) >= 6:
                ids = [r[0] for r in con.execute("SELECT id FROM searches WHERE uid LIKE ?", (f"{ref}%",))]
            found = _load_records(con, ids) if len(ids) == 1 else []
        return found[0] if found else None

    def find_text(self, query: str, limit: int = 20) -> list[tuple[float, str, str, str]]:
        """Keyword search over lessons and current notes: (score, kind, id, text), best first.
        Score = fraction of the query's words that start a word of the text."""
        patterns = [re.compile(r"\b" + re.escape(w), re.IGNORECASE) for w in query.split()]
        if not patterns:
            return []

        def score(text: str) -> float:
            return sum(bool(p.search(text)) for p in patterns) / len(patterns)

        hits = []
        for r in self.searches():
            s = score(f"{r.state} {' '.join(t for a in r.attempts for t in a.techniques)} {r.lesson}")
            if s > 0:
                hits.append((s, "search", str(r.id), r.lesson))
        for n in self.notes():
            s = score(f"{n.note_id} {n.technique} {n.title} {n.body} {' '.join(n.families + n.targets)}")
            if s > 0:
                hits.append((s, "note", n.note_id, f"{n.title}. {n.body}"))
        hits.sort(key=lambda h: h[0], reverse=True)
        return hits[:limit]

    # ------------------------------------------------------------------ notes, versions, consolidation

    def current_version(self) -> int | None:
        with reading(self.path) as con:
            v = get_meta(con, "current_notes_version")
        return int(v) if v is not None else None

    def notes(self, version: int | None = None) -> list[Note]:
        with reading(self.path) as con:
            return _notes_of(con, version if version is not None else _current(con))

    def note_versions(self) -> list[NoteVersion]:
        with reading(self.path) as con:
            current = _current(con)
            rows = con.execute(
                "SELECT v.*, (SELECT COUNT(*) FROM notes n WHERE n.version = v.version) AS n FROM note_versions v "
                "ORDER BY version"
            ).fetchall()
        return [NoteVersion(r["version"], r["created"], r["source"], r["parent"], r["lessons_through"], r["summary"],
                            r["n"], r["version"] == current) for r in rows]

    def rollback(self, version: int) -> None:
        """Make an earlier (or later) version of the notes current again. Nothing is deleted, so a
        rollback can itself be undone."""
        with writing(self.path) as con:
            if con.execute("SELECT 1 FROM note_versions WHERE version = ?", (int(version),)).fetchone() is None:
                raise ValueError(f"no note version {version}; see `llmbackend kb ls --versions`")
            set_meta(con, "current_notes_version", str(int(version)))
        log.info("knowledge: notes rolled back to version %d", version)

    def pending_lessons(self) -> int:
        """Lessons recorded since the current notes version: what `consolidate` would fold in.
        The agent can consolidate once this passes a threshold (e.g. 10)."""
        with reading(self.path) as con:
            through = _lessons_through(con, _current(con))
            return con.execute("SELECT COUNT(*) FROM searches WHERE id > ? AND lesson != ''", (through,)).fetchone()[0]

    def consolidation_prompt(self, max_lessons: int = 40) -> str | None:
        """The prompt `consolidate` would send now, or None when there are no new lessons."""
        ctx = self._consolidation_context(max_lessons)
        return consolidation_prompt(ctx.lessons, ctx.notes, ctx.stats) if ctx else None

    def consolidate(self, llm_call: Callable[[str], str], max_lessons: int = 40) -> int | None:
        """Ask the LLM (through `llm_call(prompt) -> reply text`) to fold the lessons recorded
        since the current notes version into the notes; store the result as a new version and
        make it current. Returns the new version, or None when there was nothing new. A
        malformed reply raises ConsolidationReplyError and changes nothing."""
        ctx = self._consolidation_context(max_lessons)
        if ctx is None:
            return None
        reply = llm_call(consolidation_prompt(ctx.lessons, ctx.notes, ctx.stats))
        changed, retire, summary = parse_consolidation_reply(reply)
        with writing(self.path) as con:
            parent = _current(con)
            merged = {n.note_id: n for n in _notes_of(con, parent)}
            unknown = [i for i in retire if i not in merged]
            if unknown:
                log.warning("knowledge: consolidation retires unknown notes %s; ignored", unknown)
            for i in retire:
                merged.pop(i, None)
            for n in changed:
                merged[n.note_id] = n
            summary = summary or f"{len(changed)} notes added or changed, {len(retire) - len(unknown)} retired"
            version = _new_version(con, list(merged.values()), "consolidation", parent, ctx.through, summary)
        log.info("knowledge: consolidated %d lessons into notes version %d (%s)", len(ctx.lessons), version, summary)
        return version

    def _consolidation_context(self, max_lessons: int) -> _ConsolidationContext | None:
        with reading(self.path) as con:
            through = _lessons_through(con, _current(con))
            ids = [r[0] for r in con.execute(
                "SELECT id FROM searches WHERE id > ? AND lesson != '' ORDER BY id LIMIT ?", (through, max_lessons))]
            if not ids:
                return None
            lessons = _load_records(con, ids)
            current = _notes_of(con, _current(con))
        techniques = {t for r in lessons for a in r.attempts for t in a.techniques}
        # Only the notes the lessons can speak to, so the prompt stays bounded as the base grows.
        notes = [n for n in current if n.technique in techniques
                 or any(note_scope_score(n, r.features) >= MIN_NOTE_SCORE for r in lessons)]
        stats = [s for state in sorted({r.state for r in lessons}) for s in self.stats(state)]
        return _ConsolidationContext(lessons, notes[:40], stats, max(ids))

    # ------------------------------------------------------------------ starter base

    def ensure_starter(self, path: str = STARTER_PATH) -> int | None:
        """Load the shipped starter notes once per starter content (by hash). On a base that has
        notes already, a changed starter replaces only the notes that came from the starter.
        Returns the new version, or None when it was already loaded."""
        with open(path, encoding="utf-8") as fh:
            entries = json.load(fh)["entries"]
        digest = sha256_of(entries)
        with reading(self.path) as con:
            if get_meta(con, "starter_sha256") == digest:
                return None
        notes = [Note.from_starter(e) for e in entries]
        with writing(self.path) as con:
            if get_meta(con, "starter_sha256") == digest:  # another process won the race
                return None
            parent = _current(con)
            # Notes learned from experience outrank starter text that has the same id.
            merged = {n.note_id: n for n in notes}
            merged.update({n.note_id: n for n in _notes_of(con, parent) if n.origin != "starter"})
            through = _lessons_through(con, parent)
            version = _new_version(con, list(merged.values()), "starter", parent, through,
                                   f"starter base {digest[:12]}")
            set_meta(con, "starter_sha256", digest)
        log.info("knowledge: loaded %d starter notes as version %d", len(notes), version)
        return version

    # ------------------------------------------------------------------ export / import

    def export(self, path: str) -> dict[str, Any]:
        """Write every search record and the current notes to a JSON file with content hashes."""
        records = [r.to_json() for r in reversed(self.searches())]
        notes = [n.to_json() for n in self.notes()]
        body = {
            "searches": [{"record": r, "sha256": sha256_of(r)} for r in records],
            "notes": {"notes": notes, "sha256": sha256_of(notes)},
        }
        doc = {"format": EXPORT_FORMAT, "format_version": EXPORT_FORMAT_VERSION, "exported": time.time(),
               **body, "sha256": sha256_of(body)}
        # 0644: an export is for sharing, as a plain open() would have made it
        write_atomically(path, json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False), fsync=True, mode=0o644)
        return {"path": path, "searches": len(records), "notes": len(notes)}

    def import_(self, path: str) -> dict[str, Any]:
        """Merge an export into this base: new search records are added (known ones, by uid, are
        skipped) and the statistics recomputed; learned notes (not starter ones) that differ from
        the current ones become a new version (imported notes win on equal ids), which `rollback`
        can undo."""
        records, notes = _read_export(path)
        added = 0
        with writing(self.path) as con:
            for r in records:
                if con.execute("SELECT 1 FROM searches WHERE uid = ?", (r.uid,)).fetchone():
                    continue
                _insert_search(con, r)
                added += 1
            if added:
                _rebuild_stats(con)
            version = None
            parent = _current(con)
            current = {n.note_id: n for n in _notes_of(con, parent)}
            # Starter notes are not experience: this installation's own starter stands for them.
            incoming = {n.note_id: dataclasses.replace(n, origin="import") for n in notes if n.origin != "starter"}
            if any(current.get(i) is None or _note_text(current[i]) != _note_text(n) for i, n in incoming.items()):
                merged = {**current, **incoming}
                version = _new_version(con, list(merged.values()), "import", parent, _lessons_through(con, parent),
                                       f"import of {os.path.basename(path)}")
        log.info("knowledge: imported %d new searches from %s (%d known)", added, path, len(records) - added)
        return {"path": path, "searches_added": added, "searches_skipped": len(records) - added,
                "notes_version": version}


# ---------------------------------------------------------------------- SQL helpers


def _current(con) -> int | None:
    v = get_meta(con, "current_notes_version")
    return int(v) if v is not None else None


def _lessons_through(con, version: int | None) -> int:
    row = con.execute("SELECT lessons_through FROM note_versions WHERE version = ?", (version,)).fetchone()
    return row[0] if row else 0


def _insert_search(con, r: SearchRecord) -> int:
    cur = con.execute(
        "INSERT INTO searches(uid, created, problem_key, device, target, model, state, family, features, best_gain, "
        "lesson) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (r.uid, r.created, r.problem_key, r.device, r.target, r.model, r.state, r.features.family,
         json.dumps(r.features.to_json()), r.best_gain, r.lesson),
    )
    con.executemany(
        "INSERT INTO attempts(search_id, idx, techniques, verified, reason, speedup_eager, speedup_inductor, won, speedup_library) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        [(cur.lastrowid, i, json.dumps(a.techniques), int(a.verified), a.reason, a.speedup_vs_eager,
          a.speedup_vs_inductor, int(a.won), a.speedup_vs_library) for i, a in enumerate(r.attempts)],
    )
    return cur.lastrowid


def _load_records(con, ids: Sequence[int]) -> list[SearchRecord]:
    """Full records for `ids`, in the order given."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {r["id"]: r for r in con.execute(f"SELECT * FROM searches WHERE id IN ({marks})", tuple(ids))}
    attempts: dict[int, list[Attempt]] = {i: [] for i in ids}
    for a in con.execute(f"SELECT * FROM attempts WHERE search_id IN ({marks}) ORDER BY search_id, idx", tuple(ids)):
        attempts[a["search_id"]].append(Attempt(json.loads(a["techniques"]), bool(a["verified"]), a["reason"],
                                                a["speedup_eager"], a["speedup_inductor"], bool(a["won"]),
                                                a["speedup_library"]))
    return [
        SearchRecord(r["uid"], r["created"], r["problem_key"], r["device"], r["target"], r["model"],
                     Features.from_json(json.loads(r["features"])), attempts[i], r["lesson"], id=i)
        for i in ids if (r := rows.get(i)) is not None
    ]


def _add_stats(con, state: str, attempts: Sequence[Attempt]) -> None:
    now = time.time()
    for a in attempts:
        gain = a.gain
        for t in a.techniques:
            con.execute(
                "INSERT INTO technique_stats(state, technique, tried, won, verified, log_gain_sum, gain_n, updated) "
                "VALUES (?,?,1,?,?,?,?,?) ON CONFLICT(state, technique) DO UPDATE SET "
                "tried = tried + 1, won = won + excluded.won, verified = verified + excluded.verified, "
                "log_gain_sum = log_gain_sum + excluded.log_gain_sum, gain_n = gain_n + excluded.gain_n, "
                "updated = excluded.updated",
                (state, t, int(a.won), int(a.verified), math.log(gain) if gain else 0.0, int(gain is not None), now),
            )


def _rebuild_stats(con) -> None:
    """Recompute every statistic from the stored attempts (after an import)."""
    con.execute("DELETE FROM technique_stats")
    ids = [r[0] for r in con.execute("SELECT id FROM searches ORDER BY id")]
    for chunk in range(0, len(ids), 500):
        for r in _load_records(con, ids[chunk : chunk + 500]):
            _add_stats(con, r.state, r.attempts)


def _stat_of(r) -> TechniqueStat:
    mean = math.exp(r["log_gain_sum"] / r["gain_n"]) if r["gain_n"] else None
    return TechniqueStat(r["state"], r["technique"], r["tried"], r["won"], r["verified"], mean,
                         wilson_lower_bound(r["won"], r["tried"]))


def _notes_of(con, version: int | None) -> list[Note]:
    if version is None:
        return []
    rows = con.execute("SELECT * FROM notes WHERE version = ? ORDER BY rowid", (version,)).fetchall()
    return [Note(r["note_id"], r["technique"], r["title"], r["body"], json.loads(r["targets"]),
                 json.loads(r["families"]), json.loads(r["bounds"]), r["origin"]) for r in rows]


def _new_version(con, notes: Sequence[Note], source: str, parent: int | None, lessons_through: int,
                 summary: str) -> int:
    version = con.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM note_versions").fetchone()[0]
    con.execute("INSERT INTO note_versions(version, created, source, parent, lessons_through, summary) "
                "VALUES (?,?,?,?,?,?)", (version, time.time(), source, parent, lessons_through, summary))
    con.executemany(
        "INSERT INTO notes(version, note_id, technique, title, body, targets, families, bounds, origin) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        [(version, n.note_id, n.technique, n.title, n.body, json.dumps(n.targets), json.dumps(n.families),
          json.dumps(n.bounds), n.origin) for n in notes],
    )
    set_meta(con, "current_notes_version", str(version))
    return version


def _note_text(n: Note) -> tuple:
    return (n.technique, n.title, n.body, tuple(n.targets), tuple(n.families), tuple(n.bounds))


def _read_export(path: str) -> tuple[list[SearchRecord], list[Note]]:
    """Parse and check an export; any hash mismatch or malformed part refuses the whole file."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise KnowledgeImportError(f"cannot read knowledge export {path}: {e}") from e
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise KnowledgeImportError(f"{path} is not a knowledge export (format {doc.get('format')!r})"
                                   if isinstance(doc, dict) else f"{path} is not a knowledge export")
    if doc.get("format_version") != EXPORT_FORMAT_VERSION:
        raise KnowledgeImportError(f"{path}: unsupported export format version {doc.get('format_version')!r}")
    try:
        body = {"searches": doc["searches"], "notes": doc["notes"]}
        if sha256_of(body) != doc["sha256"]:
            raise KnowledgeImportError(f"{path}: content hash mismatch; the file was modified after export")
        records = []
        for item in doc["searches"]:
            if sha256_of(item["record"]) != item["sha256"]:
                raise KnowledgeImportError(f"{path}: search record {item['record'].get('uid')} fails its hash")
            records.append(SearchRecord.from_json(item["record"]))
        if sha256_of(doc["notes"]["notes"]) != doc["notes"]["sha256"]:
            raise KnowledgeImportError(f"{path}: notes fail their hash")
        notes = [Note.from_json(n) for n in doc["notes"]["notes"]]
    except KnowledgeImportError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise KnowledgeImportError(f"{path}: malformed knowledge export ({type(e).__name__}: {e})") from e
    return records, notes
