"""What users said about answers (👍/👎 and a comment), kept in SQLite in the data dir (or the database shared
instances share, `database_url`): written by the chat and
`POST /api/feedback`, read by `delegations feedback` (evals/feedback.py turns the entries into eval cases).

Each entry is written in one transaction (a crash loses nothing acknowledged) and holds what a case needs:
the question, the conversation before it, the answer and its citations, the backend, the time and the user
name; no IP address, no browser data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select, update

from index.database import engine, shared

metadata = MetaData()
feedback = Table("feedback", metadata,
                 Column("id", Integer, primary_key=True, autoincrement=True), Column("time", Text, nullable=False),
                 Column("user", String(200), nullable=False), Column("rating", String(8), nullable=False),
                 Column("comment", Text, nullable=False), Column("question", Text, nullable=False),
                 Column("history", Text, nullable=False), Column("answer", Text, nullable=False),
                 Column("citations", Text, nullable=False), Column("backend", Text, nullable=False),
                 Column("generation", Text, nullable=False), Column("lang", String(8), nullable=False),
                 Column("refused", Integer, nullable=False))
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
    def __init__(self, data_dir: Path, database_url: str = ""):
        self.engine = engine(database_url, data_dir / "feedback.sqlite")
        metadata.create_all(self.engine)

    def close(self) -> None:
        if not shared(self.engine):
            self.engine.dispose()

    def add(self, entry: Feedback) -> int:
        """Store one entry (committed before this returns); its id."""
        if entry.rating not in RATINGS:
            raise ValueError(f"rating must be 'up' or 'down', not {entry.rating!r}.")
        when = entry.time or datetime.now(timezone.utc).isoformat(timespec="seconds")
        citations = [{k: c.get(k) for k in ("n", "doc_id", "title", "chunk_id")} for c in entry.citations]
        history = [{"role": t.get("role"), "content": t.get("content")} for t in entry.history]
        with self.engine.begin() as db:
            result = db.execute(insert(feedback).values(
                time=when, user=entry.user or "", rating=entry.rating, comment=entry.comment[:MAX_COMMENT_CHARS],
                question=entry.question, history=json.dumps(history, ensure_ascii=False), answer=entry.answer,
                citations=json.dumps(citations, ensure_ascii=False), backend=entry.backend,
                generation=entry.generation, lang=entry.lang, refused=int(entry.refused)))
        return int(result.inserted_primary_key[0])

    def set_comment(self, entry_id: int, comment: str) -> bool:
        """Add the comment written after the thumb was given; False for an unknown id."""
        with self.engine.begin() as db:
            result = db.execute(update(feedback).where(feedback.c.id == entry_id).values(comment=comment[:MAX_COMMENT_CHARS]))
        return result.rowcount == 1

    def all(self) -> list[Feedback]:
        with self.engine.connect() as db:
            rows = list(db.execute(select(feedback).order_by(feedback.c.id)))
        return [Feedback(rating=r.rating, question=r.question, answer=r.answer, citations=json.loads(r.citations),
                         history=json.loads(r.history), comment=r.comment, backend=r.backend, generation=r.generation,
                         lang=r.lang, refused=bool(r.refused), user=r.user, time=r.time, id=r.id) for r in rows]
