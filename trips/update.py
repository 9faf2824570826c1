"""Keeping the register in step with the index: the trips of added and changed articles are extracted, those
of removed articles dropped. Run by `delegations ingest` after the chunks are stored, and by `delegations
trips --rebuild` after the extractor changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from index.reading import annotate_article
from index.workspace import Workspace
from ingest import annotate as annotator
from ingest.chunking import chunk_article
from ingest.model import Article, PubDate
from trips.model import Source, Trip
from trips.register import TripRegister


class Extractor(Protocol):
    name: str
    version: str

    def extract(self, source: Source) -> list[Trip] | tuple[list[Trip], int]:
        """The trips an article reports (and, for a model, how many proposed values were dropped)."""


@dataclass
class TripReport:
    added: int = 0  # trips of articles read this time
    removed: int = 0  # trips of articles removed or read again
    dropped_fields: int = 0  # proposed values that did not stand in their article (llm)

    def to_json(self) -> dict:
        return {"added": self.added, "removed": self.removed, "dropped_fields": self.dropped_fields}


def update(ws: Workspace, extractor: Extractor, register: TripRegister | None = None,
           progress: Callable[[int, int], None] | None = None) -> TripReport:
    """Extract the trips of every article whose version or extractor differs from the one last read."""
    register = register or TripRegister.of(ws.settings)
    report = TripReport()
    done = register.extracted()
    docs = {r.doc_id: r for r in ws.manifest.all_docs()}
    for doc_id in set(done) - set(docs):
        report.removed += register.remove(doc_id)
    # an article is read again when its text, the extractor or the annotation it reads changed
    version = lambda rec: f"{rec.hash}/{extractor.name}-{extractor.version}/annotator-{annotator.ANNOTATOR}"  # noqa: E731
    todo = [rec for rec in docs.values() if done.get(rec.doc_id, ("", ""))[0] != version(rec)]
    cfg = ws.settings.ingest
    for i, rec in enumerate(todo, 1):
        text = ws.manifest.text(rec.doc_id)
        if text is None:
            continue
        date = PubDate(rec.date, rec.date_precision) if rec.date else None
        article = Article(rec.doc_id, rec.title, text, rec.source, date)
        chunks = chunk_article(article, cfg.chunk_chars, cfg.chunk_overlap_sentences)
        annotation = ws.manifest.annotation(rec.doc_id)
        if annotation is None or annotation.version != annotator.ANNOTATOR:  # indexed before it was annotated at ingest
            annotation = annotate_article(text, rec.date, chunks)
            ws.manifest.put_annotation(rec.doc_id, annotation)
        source = Source(rec.doc_id, rec.title, text, rec.date, chunks, annotation)
        got = extractor.extract(source)
        trips, dropped = got if isinstance(got, tuple) else (got, 0)
        if rec.doc_id in done:
            report.removed += register.count_of(rec.doc_id)
        register.replace(rec.doc_id, version(rec), extractor.name, trips, dropped)
        report.added += len(trips)
        report.dropped_fields += dropped
        if progress:
            progress(i, len(todo))
    return report



def trip_step(ws: Workspace, kind: str | None = None, model=None) -> Callable[[], dict]:
    """What an ingest runs under its lock once the chunks are stored: the register brought in step, with the
    extractor `kind` (default: trips.extractor); `model`: the llm extractor's (assistant.llms.trip_model).
    Raises trips.extractors.ExtractorError when the extractor cannot be used as configured."""
    from trips.extractors import make_extractor

    extractor = make_extractor(kind or ws.settings.trips.extractor, model)
    return lambda: update(ws, extractor).to_json()
