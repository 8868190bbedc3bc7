"""The knowledge base, one package: base.py (KnowledgeBase: record, retrieve, consolidate,
export/import), db.py (the SQLite file), features.py (what a subgraph is like: family, roofline
bound, similarity), records.py (attempts, search records, notes), retrieval.py (what fits a new
subgraph, within a token budget), prompts.py (lesson and consolidation requests) and
taxonomy.py (technique names)."""
from .base import (
    EXPORT_FORMAT, FILENAME, STARTER_PATH, Attempt, Features, KnowledgeBase, KnowledgeImportError, Note, NoteVersion,
    SearchRecord, TechniqueStat, classify_techniques, consolidation_prompt, features_of, lesson_prompt,
)

__all__ = [
    "EXPORT_FORMAT", "FILENAME", "STARTER_PATH", "Attempt", "Features", "KnowledgeBase", "KnowledgeImportError", "Note",
    "NoteVersion", "SearchRecord", "TechniqueStat", "classify_techniques", "consolidation_prompt", "features_of",
    "lesson_prompt",
]
