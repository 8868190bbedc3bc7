"""Records the knowledge base stores and returns: one attempt, one search, one technique's
statistics in one state, one technique note and one version of the note set.

All are JSON-friendly (never pickled) so they travel in exports and bundles.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ...hashing import content_hash as sha256_of  # noqa: F401 (knowledge and exports read it here)
from .features import Features
from .taxonomy import normalize_technique


def wilson_lower_bound(wins: int, n: int, z: float = 1.96) -> float:
    """Lower end of the 95% Wilson interval of a win rate: 1 win in 1 try ranks below 8 in 10,
    which a plain ratio would not do."""
    if n <= 0:
        return 0.0
    p = wins / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / denom)


def _finite_or_none(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) and x > 0 else None


@dataclass
class Attempt:
    """One candidate of a search: what it tried and how it came out."""

    techniques: list[str]
    verified: bool
    reason: str = ""  # why it failed (stage and message), or "" / "ok"
    speedup_vs_eager: float | None = None
    speedup_vs_inductor: float | None = None
    won: bool = False  # this candidate became the search's winner (beat the baselines)
    speedup_vs_library: float | None = None  # a target's own library kernel (Gemmini: in cycles)

    def __post_init__(self) -> None:
        self.techniques = list(dict.fromkeys(normalize_technique(t) for t in self.techniques if t and t.strip()))
        self.speedup_vs_eager = _finite_or_none(self.speedup_vs_eager)
        self.speedup_vs_inductor = _finite_or_none(self.speedup_vs_inductor)
        self.speedup_vs_library = _finite_or_none(self.speedup_vs_library)

    @property
    def gain(self) -> float | None:
        """Speed-up against the better (faster) baseline, the one the backend must beat."""
        if not self.verified:
            return None
        known = [s for s in (self.speedup_vs_eager, self.speedup_vs_inductor, self.speedup_vs_library) if s is not None]
        return min(known) if known else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Attempt":
        return Attempt(list(d["techniques"]), bool(d["verified"]), str(d.get("reason", "")),
                       d.get("speedup_vs_eager"), d.get("speedup_vs_inductor"), bool(d.get("won", False)),
                       d.get("speedup_vs_library"))


@dataclass
class SearchRecord:
    uid: str  # random; identifies the record across exports so an import never duplicates it
    created: float
    problem_key: str
    device: str
    target: str
    model: str
    features: Features
    attempts: list[Attempt]
    lesson: str
    id: int | None = None  # local row id; not exported

    @property
    def state(self) -> str:
        return self.features.state

    @property
    def best_gain(self) -> float | None:
        gains = [a.gain for a in self.attempts if a.gain is not None]
        return max(gains) if gains else None

    @property
    def winning_techniques(self) -> list[str]:
        return list(dict.fromkeys(t for a in self.attempts if a.won for t in a.techniques))

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid, "created": self.created, "problem_key": self.problem_key, "device": self.device,
            "target": self.target, "model": self.model, "features": self.features.to_json(),
            "attempts": [a.to_json() for a in self.attempts], "lesson": self.lesson,
        }

    @staticmethod
    def from_json(d: dict[str, Any], id: int | None = None) -> "SearchRecord":
        return SearchRecord(
            uid=str(d["uid"]), created=float(d["created"]), problem_key=str(d["problem_key"]),
            device=str(d["device"]), target=str(d["target"]), model=str(d["model"]),
            features=Features.from_json(d["features"]), attempts=[Attempt.from_json(a) for a in d["attempts"]],
            lesson=str(d["lesson"]), id=id,
        )


@dataclass
class TechniqueStat:
    state: str
    technique: str
    tried: int
    won: int
    verified: int
    mean_gain: float | None  # geometric mean speed-up vs the better baseline, over verified attempts
    confidence: float  # Wilson lower bound of won / tried

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Note:
    """A short text about one technique: from the starter base, a consolidation, or an import."""

    note_id: str
    technique: str
    title: str
    body: str
    targets: list[str] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    bounds: list[str] = field(default_factory=list)
    origin: str = "starter"  # "starter" | "consolidated" | "import"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Note":
        return Note(str(d["note_id"]), str(d["technique"]), str(d["title"]), str(d["body"]),
                    [str(x) for x in d.get("targets", [])], [str(x) for x in d.get("families", [])],
                    [str(x) for x in d.get("bounds", [])], str(d.get("origin", "import")))

    @staticmethod
    def from_starter(e: dict[str, Any]) -> "Note":
        body = f"{e['what']} When: {e['when']} Pitfalls: {e['pitfalls']} Expected gain: {e['gain']}"
        return Note(e["id"], normalize_technique(e["technique"]), e["title"], body,
                    list(e["targets"]), list(e["families"]), list(e["bounds"]), "starter")


@dataclass
class NoteVersion:
    version: int
    created: float
    source: str  # "starter" | "consolidation" | "import"
    parent: int | None
    lessons_through: int  # searches with id <= this were folded into the notes
    summary: str
    notes: int  # how many notes the version holds
    current: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
