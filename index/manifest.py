"""What the index holds, file by file and article by article: in SQLite beside it (DATA_DIR/manifest.sqlite),
or in the PostgreSQL database several instances share (`database_url`, index/database.py).

The manifest is written only after the chunks it describes are in Chroma, one transaction per article (with
the chunks' stems for the keyword index and their sentence vectors), so after a crash it never claims more
than the store has: a re-run redoes exactly what was not finished.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (Column, Engine, Integer, LargeBinary, MetaData, String, Table, Text, delete, func, insert,
                        select, text)

from index.database import engine as database, shared, upsert
from index.vectors import SentenceVectors
from ingest.annotate import Annotation

metadata = MetaData()
files = Table("files", metadata, Column("path", Text, primary_key=True), Column("raw_hash", Text, nullable=False))
docs = Table("docs", metadata,
             Column("doc_id", Text, primary_key=True), Column("file", Text, nullable=False, index=True),
             Column("hash", Text, nullable=False), Column("title", Text, nullable=False), Column("date", Text),
             Column("date_precision", Text), Column("source", Text, nullable=False),
             Column("chunks", Integer, nullable=False))
meta = Table("meta", metadata, Column("key", String(200), primary_key=True), Column("value", Text, nullable=False))
chunk_terms = Table("chunk_terms", metadata,
                    Column("chunk_id", Text, primary_key=True), Column("doc_id", Text, nullable=False, index=True),
                    Column("date_first", Integer, nullable=False), Column("date_last", Integer, nullable=False),
                    Column("stems", Text, nullable=False))
_VECTOR_COLUMNS = lambda: (Column("chunk_id", Text, primary_key=True), Column("doc_id", Text, nullable=False, index=True),  # noqa: E731
                           Column("spans", Text, nullable=False), Column("vectors", LargeBinary, nullable=False))
chunk_vectors = Table("chunk_vectors", metadata, *_VECTOR_COLUMNS())
staged_vectors = Table("staged_vectors", MetaData(), *_VECTOR_COLUMNS())  # made and dropped by re-embedding
texts = Table("texts", metadata, Column("doc_id", Text, primary_key=True), Column("text", Text, nullable=False))
annotations = Table("annotations", metadata, Column("doc_id", Text, primary_key=True),
                    Column("version", Text, nullable=False), Column("annotation", Text, nullable=False))
_PER_DOC = (docs, chunk_terms, chunk_vectors, texts, annotations)


@dataclass
class ChunkTerms:
    """A chunk's word stems, what the keyword index is built from (kept here so rebuilding it reads no text)."""

    chunk_id: str
    doc_id: str
    date_first: int
    date_last: int
    stems: list[str]


@dataclass
class DocRecord:
    doc_id: str
    file: str
    hash: str
    title: str
    date: str | None
    date_precision: str | None
    source: str
    chunks: int


def _doc(row) -> DocRecord:
    return DocRecord(row.doc_id, row.file, row.hash, row.title, row.date, row.date_precision, row.source, row.chunks)


class Manifest:
    """`Manifest(engine)`: on the shared database of several instances, or (`Manifest.at(path)`) a SQLite file."""

    def __init__(self, made: Engine):
        self.engine = made
        metadata.create_all(made)

    @classmethod
    def at(cls, path: Path, database_url: str = "") -> Manifest:
        return cls(database(database_url, path))

    def close(self) -> None:
        if not shared(self.engine):
            self.engine.dispose()

    def _one(self, statement):
        with self.engine.connect() as db:
            return db.execute(statement).first()

    def _all(self, statement) -> list:
        with self.engine.connect() as db:
            return list(db.execute(statement))

    # -- meta
    def get_meta(self, key: str) -> str | None:
        row = self._one(select(meta.c.value).where(meta.c.key == key))
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as db:
            upsert(db, meta, [{"key": key, "value": value}])

    # -- files
    def file_hash(self, path: str) -> str | None:
        row = self._one(select(files.c.raw_hash).where(files.c.path == path))
        return row[0] if row else None

    def set_file(self, path: str, raw_hash: str) -> None:
        with self.engine.begin() as db:
            upsert(db, files, [{"path": path, "raw_hash": raw_hash}])

    def forget_file(self, path: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(files).where(files.c.path == path))

    def file_hashes(self) -> list[tuple[str, str]]:
        return [(r.path, r.raw_hash) for r in self._all(select(files))]

    # -- docs
    def doc(self, doc_id: str) -> DocRecord | None:
        row = self._one(select(docs).where(docs.c.doc_id == doc_id))
        return _doc(row) if row else None

    def docs_of(self, file: str) -> list[DocRecord]:
        return [_doc(r) for r in self._all(select(docs).where(docs.c.file == file))]

    def put_doc(self, rec: DocRecord, terms: list[ChunkTerms], vectors: dict[str, SentenceVectors], text: str,
                annotation: Annotation | None = None) -> None:
        """Record an article, its text as indexed, its chunks' stems, their sentence vectors and the article's
        annotation in one transaction."""
        with self.engine.begin() as db:
            upsert(db, docs, [{"doc_id": rec.doc_id, "file": rec.file, "hash": rec.hash, "title": rec.title,
                               "date": rec.date, "date_precision": rec.date_precision, "source": rec.source,
                               "chunks": rec.chunks}])
            upsert(db, texts, [{"doc_id": rec.doc_id, "text": text}])
            _put_terms(db, rec.doc_id, terms)
            _put_vectors(db, chunk_vectors, rec.doc_id, vectors)
            if annotation is not None:
                _put_annotation(db, rec.doc_id, annotation)
            else:
                db.execute(delete(annotations).where(annotations.c.doc_id == rec.doc_id))

    # -- annotations (ingest/annotate.py): what an article says about people, places, organisations, dates
    def annotation(self, doc_id: str) -> Annotation | None:
        row = self._one(select(annotations.c.annotation).where(annotations.c.doc_id == doc_id))
        return Annotation.from_json(json.loads(row[0])) if row else None

    def put_annotation(self, doc_id: str, annotation: Annotation) -> None:
        with self.engine.begin() as db:
            _put_annotation(db, doc_id, annotation)

    def docs_to_annotate(self, version: str) -> list[str]:
        """Articles without an annotation of this annotator version (new to it, or read by an older one)."""
        current = select(annotations.c.doc_id).where(annotations.c.version == version)
        return [r[0] for r in self._all(select(docs.c.doc_id).where(docs.c.doc_id.not_in(current)).order_by(docs.c.doc_id))]

    def text(self, doc_id: str) -> str | None:
        """The article's text as it was cleaned and indexed (what evidence offsets point into)."""
        row = self._one(select(texts.c.text).where(texts.c.doc_id == doc_id))
        return row[0] if row else None

    def put_text(self, doc_id: str, text: str) -> None:
        with self.engine.begin() as db:
            upsert(db, texts, [{"doc_id": doc_id, "text": text}])

    def docs_without_text(self) -> list[str]:
        return [r[0] for r in self._all(select(docs.c.doc_id).where(docs.c.doc_id.not_in(select(texts.c.doc_id))))]

    def put_vectors(self, doc_id: str, vectors: dict[str, SentenceVectors]) -> None:
        with self.engine.begin() as db:
            _put_vectors(db, chunk_vectors, doc_id, vectors)

    def vectors(self, chunk_ids: list[str]) -> dict[str, SentenceVectors]:
        """The sentence vectors of these chunks (those that have them)."""
        out: dict[str, SentenceVectors] = {}
        ids = list(dict.fromkeys(chunk_ids))
        with self.engine.connect() as db:
            for start in range(0, len(ids), 500):  # SQLite's limit on parameters
                part = ids[start:start + 500]
                rows = db.execute(select(chunk_vectors.c.chunk_id, chunk_vectors.c.spans, chunk_vectors.c.vectors)
                                  .where(chunk_vectors.c.chunk_id.in_(part)))
                out.update((c, SentenceVectors.from_row(spans, bytes(blob))) for c, spans, blob in rows)
        return out

    def docs_without_vectors(self) -> list[str]:
        """Articles indexed before chunks were embedded by their sentences."""
        having = select(chunk_vectors.c.doc_id).distinct()
        return [r[0] for r in self._all(select(docs.c.doc_id).where(docs.c.chunks > 0, docs.c.doc_id.not_in(having)))]

    def put_terms(self, doc_id: str, terms: list[ChunkTerms]) -> None:
        with self.engine.begin() as db:
            _put_terms(db, doc_id, terms)

    def drop_doc(self, doc_id: str) -> None:
        with self.engine.begin() as db:
            for table in _PER_DOC:
                db.execute(delete(table).where(table.c.doc_id == doc_id))

    def docs_without_terms(self) -> list[str]:
        """Articles indexed before the keyword index existed (or whose stems were lost)."""
        having = select(chunk_terms.c.doc_id).distinct()
        return [r[0] for r in self._all(select(docs.c.doc_id).where(docs.c.chunks > 0, docs.c.doc_id.not_in(having)))]

    def all_terms(self) -> list[ChunkTerms]:
        rows = self._all(select(chunk_terms).order_by(chunk_terms.c.chunk_id))
        return [ChunkTerms(r.chunk_id, r.doc_id, r.date_first, r.date_last, r.stems.split()) for r in rows]

    def page(self, query: str = "", limit: int = 50, offset: int = 0) -> tuple[int, list[DocRecord]]:
        """(how many articles match, one page of them by id): `query` is found in the id, title or source."""
        where = []
        if query.strip():
            like = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where = [docs.c.doc_id.ilike(like, escape="\\") | docs.c.title.ilike(like, escape="\\") |
                     docs.c.source.ilike(like, escape="\\")]
        with self.engine.connect() as db:
            total = db.execute(select(func.count()).select_from(docs).where(*where)).scalar_one()
            rows = db.execute(select(docs).where(*where).order_by(docs.c.doc_id).limit(limit).offset(offset))
            return total, [_doc(r) for r in rows]

    # -- re-embedding into a new collection: vectors are staged beside the live ones and swapped in at once
    def start_staging(self) -> None:
        staged_vectors.drop(self.engine, checkfirst=True)
        staged_vectors.create(self.engine)

    def stage_vectors(self, doc_id: str, vectors: dict[str, SentenceVectors]) -> None:
        with self.engine.begin() as db:
            _put_vectors(db, staged_vectors, doc_id, vectors, replace=False)

    def switch_to_staged(self, collection: str) -> None:
        """In one transaction: the staged sentence vectors become the live ones and `collection` the
        Chroma collection the index reads."""
        with self.engine.begin() as db:
            db.execute(delete(chunk_vectors))
            db.execute(insert(chunk_vectors).from_select([c.name for c in staged_vectors.columns], select(staged_vectors)))
            db.execute(text("DROP TABLE staged_vectors"))
            upsert(db, meta, [{"key": "collection", "value": collection}])

    def all_docs(self) -> list[DocRecord]:
        return [_doc(r) for r in self._all(select(docs).order_by(docs.c.doc_id))]

    def counts(self) -> tuple[int, int]:
        docs_n, chunks_n = self._one(select(func.count(), func.coalesce(func.sum(docs.c.chunks), 0)).select_from(docs))
        return docs_n, chunks_n

    def newest_date(self) -> str | None:
        return self._one(select(func.max(docs.c.date)))[0]


def _put_annotation(db, doc_id: str, annotation: Annotation) -> None:
    upsert(db, annotations, [{"doc_id": doc_id, "version": annotation.version,
                              "annotation": json.dumps(annotation.to_json(), ensure_ascii=False)}])


def _put_terms(db, doc_id: str, terms: list[ChunkTerms]) -> None:
    db.execute(delete(chunk_terms).where(chunk_terms.c.doc_id == doc_id))
    upsert(db, chunk_terms, [{"chunk_id": t.chunk_id, "doc_id": t.doc_id, "date_first": t.date_first,
                              "date_last": t.date_last, "stems": " ".join(t.stems)} for t in terms])


def _put_vectors(db, table: Table, doc_id: str, vectors: dict[str, SentenceVectors], replace: bool = True) -> None:
    if replace:
        db.execute(delete(table).where(table.c.doc_id == doc_id))
    rows = []
    for chunk_id, v in vectors.items():
        spans, blob = v.to_row()
        rows.append({"chunk_id": chunk_id, "doc_id": doc_id, "spans": spans, "vectors": blob})
    upsert(db, table, rows)
