"""What users said about answers (👍/👎 and a comment), kept in SQLite in the data dir: written by the chat and
`POST /api/feedback`, read by `delegations feedback` (evals/feedback.py turns the entries into eval cases).

Each entry is written in one transaction (a crash loses nothing acknowledged) and holds what a case needs:
the question, the conversation before it, the answer and its citations, the backend, the time and the user
name; no IP address, no browser data.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, user TEXT NOT NULL, rating TEXT NOT NULL,
    comment TEXT NOT NULL, question TEXT NOT NULL, history TEXT NOT NULL, answer TEXT NOT NULL,
    citations TEXT NOT NULL, backend TEXT NOT NULL, generation TEXT NOT NULL, lang TEXT NOT NULL,
    refused INTEGER NOT NULL)
"""
RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 2000


@dataclass
class Feedback:
    rating: str  # up | down
    question: str
    answer: str
    citations: list[dict] = field(default_factory=list)  # {"n", "doc_id", "title", "chunk_id"} of the answer
    history: list[dict] = field(default_factory=list)  # earlier turns: {"role", "content"}
    comment: str = ""
    backend: str = ""
    generation: str = ""
    lang: str = "de"
    refused: bool = False
    user: str = ""
    time: str = ""
    id: int | None = None


class FeedbackStore:
    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(data_dir / "feedback.sqlite", timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def add(self, entry: Feedback) -> int:
        """Store one entry (committed before this returns); its id."""
        if entry.rating not in RATINGS:
            raise ValueError(f"rating must be 'up' or 'down', not {entry.rating!r}.")
        when = entry.time or datetime.now(timezone.utc).isoformat(timespec="seconds")
        citations = [{k: c.get(k) for k in ("n", "doc_id", "title", "chunk_id")} for c in entry.citations]
        history = [{"role": t.get("role"), "content": t.get("content")} for t in entry.history]
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO feedback (time, user, rating, comment, question, history, answer, citations, backend, "
                "generation, lang, refused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (when, entry.user or "", entry.rating, entry.comment[:MAX_COMMENT_CHARS], entry.question,
                 json.dumps(history, ensure_ascii=False), entry.answer, json.dumps(citations, ensure_ascii=False),
                 entry.backend, entry.generation, entry.lang, int(entry.refused)))
        return int(cursor.lastrowid)

    def set_comment(self, entry_id: int, comment: str) -> bool:
        """Add the comment written after the thumb was given; False for an unknown id."""
        with self.db:
            cursor = self.db.execute("UPDATE feedback SET comment=? WHERE id=?", (comment[:MAX_COMMENT_CHARS], entry_id))
        return cursor.rowcount == 1

    def all(self) -> list[Feedback]:
        rows = self.db.execute("SELECT id, time, user, rating, comment, question, history, answer, citations, backend, "
                               "generation, lang, refused FROM feedback ORDER BY id")
        return [Feedback(rating=r[3], question=r[5], answer=r[7], citations=json.loads(r[8]), history=json.loads(r[6]),
                         comment=r[4], backend=r[9], generation=r[10], lang=r[11], refused=bool(r[12]), user=r[2],
                         time=r[1], id=r[0]) for r in rows]
