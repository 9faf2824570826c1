"""Question to passages: dense search in Chroma, filtered by article and date, a few passages per article."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from index.store import StoredChunk
from index.workspace import Workspace


@dataclass
class Filters:
    """Restrict retrieval to some articles and/or a publication date range (ISO dates, inclusive)."""

    doc_ids: list[str] = field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None

    def where(self) -> dict | None:
        clauses: list[dict] = []
        if self.doc_ids:
            clauses.append({"doc_id": {"$in": list(self.doc_ids)}})
        if self.date_from:
            clauses.append({"date_last": {"$gte": _day_number(self.date_from, first=True)}})
        if self.date_to:
            clauses.append({"date_first": {"$lte": _day_number(self.date_to, first=False)}})
            clauses.append({"date_first": {"$gt": 0}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _day_number(iso: str, first: bool) -> int:
    parts = iso.strip().split("-")
    if not parts[0].isdigit() or len(parts[0]) != 4:
        raise ValueError(f"Dates are written YYYY, YYYY-MM or YYYY-MM-DD, not {iso!r}.")
    year, month, day = (parts + [None, None])[:3]
    month = month or ("01" if first else "12")
    day = day or ("01" if first else "31")  # "31" for any month: date_first values are real days
    return int(f"{year}{month.zfill(2)}{day.zfill(2)}")


@dataclass
class Passage:
    """A retrieved chunk, as the answerer and the user see it."""

    chunk_id: str
    doc_id: str
    title: str
    date: str | None
    source: str
    text: str
    score: float  # cosine similarity of question and passage, 0..1

    @classmethod
    def from_stored(cls, row: StoredChunk) -> Passage:
        m = row.metadata
        return cls(row.chunk_id, m["doc_id"], m["title"], m["date"] or None, m["source"], row.text,
                   round(1.0 - row.distance, 4))


@dataclass
class Retrieval:
    passages: list[Passage]
    ms: float


class Retriever:
    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self.cfg = workspace.settings.retrieval

    def retrieve(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> Retrieval:
        start = time.perf_counter()
        k = top_k or self.cfg.top_k
        vector = self.ws.embed_model.get_query_embedding(question)
        where = filters.where() if filters else None
        rows = self.ws.store.query(vector, max(self.cfg.candidates, k), where)
        per_article: dict[str, int] = {}
        passages = []
        for row in rows:  # best first; cap each article so several articles get a say
            doc = row.metadata["doc_id"]
            if per_article.get(doc, 0) >= self.cfg.max_per_article:
                continue
            per_article[doc] = per_article.get(doc, 0) + 1
            passages.append(Passage.from_stored(row))
            if len(passages) == k:
                break
        return Retrieval(passages, (time.perf_counter() - start) * 1000)
