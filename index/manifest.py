"""What the index holds, file by file and article by article, in SQLite beside it.

The manifest is written only after the chunks it describes are in Chroma, one transaction per article (with
the chunks' stems for the keyword index and their sentence vectors), so after a crash it never claims more
than the store has: a re-run redoes exactly what was not finished.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.vectors import SentenceVectors
from ingest.annotate import Annotation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, raw_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    doc_id TEXT PRIMARY KEY, file TEXT NOT NULL, hash TEXT NOT NULL, title TEXT NOT NULL,
    date TEXT, date_precision TEXT, source TEXT NOT NULL, chunks INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS docs_file ON docs(file);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunk_terms (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, date_first INTEGER NOT NULL, date_last INTEGER NOT NULL,
    stems TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunk_terms_doc ON chunk_terms(doc_id);
CREATE TABLE IF NOT EXISTS chunk_vectors (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, spans TEXT NOT NULL, vectors BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunk_vectors_doc ON chunk_vectors(doc_id);
CREATE TABLE IF NOT EXISTS texts (doc_id TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS annotations (doc_id TEXT PRIMARY KEY, version TEXT NOT NULL, annotation TEXT NOT NULL);
"""


@contextmanager
def transaction(db: sqlite3.Connection):
    """BEGIN … COMMIT on a connection in autocommit mode, ROLLBACK on any exception (a kill between leaves
    nothing half-written)."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


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


class Manifest:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)  # the server reads it from worker threads
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- meta
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- files
    def file_hash(self, path: str) -> str | None:
        row = self.db.execute("SELECT raw_hash FROM files WHERE path=?", (path,)).fetchone()
        return row[0] if row else None

    def set_file(self, path: str, raw_hash: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?)", (path, raw_hash))

    def forget_file(self, path: str) -> None:
        self.db.execute("DELETE FROM files WHERE path=?", (path,))

    def file_hashes(self) -> list[tuple[str, str]]:
        return list(self.db.execute("SELECT path, raw_hash FROM files"))

    # -- docs
    def doc(self, doc_id: str) -> DocRecord | None:
        row = self.db.execute("SELECT * FROM docs WHERE doc_id=?", (doc_id,)).fetchone()
        return DocRecord(*row) if row else None

    def docs_of(self, file: str) -> list[DocRecord]:
        return [DocRecord(*r) for r in self.db.execute("SELECT * FROM docs WHERE file=?", (file,))]

    def put_doc(self, rec: DocRecord, terms: list[ChunkTerms], vectors: dict[str, SentenceVectors], text: str,
                annotation: Annotation | None = None) -> None:
        """Record an article, its text as indexed, its chunks' stems, their sentence vectors and the article's
        annotation in one transaction."""
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (rec.doc_id, rec.file, rec.hash, rec.title, rec.date, rec.date_precision, rec.source, rec.chunks))
            self.db.execute("INSERT OR REPLACE INTO texts VALUES (?, ?)", (rec.doc_id, text))
            self._put_terms(rec.doc_id, terms)
            self._put_vectors(rec.doc_id, vectors)
            if annotation is not None:
                self._put_annotation(rec.doc_id, annotation)
            else:
                self.db.execute("DELETE FROM annotations WHERE doc_id=?", (rec.doc_id,))

    # -- annotations (ingest/annotate.py): what an article says about people, places, organisations, dates
    def annotation(self, doc_id: str) -> Annotation | None:
        row = self.db.execute("SELECT annotation FROM annotations WHERE doc_id=?", (doc_id,)).fetchone()
        return Annotation.from_json(json.loads(row[0])) if row else None

    def put_annotation(self, doc_id: str, annotation: Annotation) -> None:
        self._put_annotation(doc_id, annotation)

    def _put_annotation(self, doc_id: str, annotation: Annotation) -> None:
        self.db.execute("INSERT OR REPLACE INTO annotations VALUES (?, ?, ?)",
                        (doc_id, annotation.version, json.dumps(annotation.to_json(), ensure_ascii=False)))

    def docs_to_annotate(self, version: str) -> list[str]:
        """Articles without an annotation of this annotator version (new to it, or read by an older one)."""
        return [r[0] for r in self.db.execute(
            "SELECT doc_id FROM docs WHERE doc_id NOT IN (SELECT doc_id FROM annotations WHERE version=?) ORDER BY doc_id",
            (version,))]

    def text(self, doc_id: str) -> str | None:
        """The article's text as it was cleaned and indexed (what evidence offsets point into)."""
        row = self.db.execute("SELECT text FROM texts WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def put_text(self, doc_id: str, text: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO texts VALUES (?, ?)", (doc_id, text))

    def docs_without_text(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT doc_id FROM docs WHERE doc_id NOT IN (SELECT doc_id FROM texts)")]

    def put_vectors(self, doc_id: str, vectors: dict[str, SentenceVectors]) -> None:
        with self._transaction():
            self._put_vectors(doc_id, vectors)

    def _put_vectors(self, doc_id: str, vectors: dict[str, SentenceVectors]) -> None:
        self.db.execute("DELETE FROM chunk_vectors WHERE doc_id=?", (doc_id,))
        self.db.executemany("INSERT OR REPLACE INTO chunk_vectors VALUES (?, ?, ?, ?)",
                            [(chunk_id, doc_id, *v.to_row()) for chunk_id, v in vectors.items()])

    def vectors(self, chunk_ids: list[str]) -> dict[str, SentenceVectors]:
        """The sentence vectors of these chunks (those that have them)."""
        out: dict[str, SentenceVectors] = {}
        ids = list(dict.fromkeys(chunk_ids))
        for start in range(0, len(ids), 500):  # SQLite's limit on parameters
            part = ids[start:start + 500]
            rows = self.db.execute(f"SELECT chunk_id, spans, vectors FROM chunk_vectors WHERE chunk_id IN ({','.join('?' * len(part))})", part)
            out.update((c, SentenceVectors.from_row(spans, blob)) for c, spans, blob in rows)
        return out

    def docs_without_vectors(self) -> list[str]:
        """Articles indexed before chunks were embedded by their sentences."""
        return [r[0] for r in self.db.execute(
            "SELECT doc_id FROM docs WHERE chunks > 0 AND doc_id NOT IN (SELECT DISTINCT doc_id FROM chunk_vectors)")]

    def put_terms(self, doc_id: str, terms: list[ChunkTerms]) -> None:
        with self._transaction():
            self._put_terms(doc_id, terms)

    def _put_terms(self, doc_id: str, terms: list[ChunkTerms]) -> None:
        self.db.execute("DELETE FROM chunk_terms WHERE doc_id=?", (doc_id,))
        self.db.executemany("INSERT OR REPLACE INTO chunk_terms VALUES (?, ?, ?, ?, ?)",
                            [(t.chunk_id, t.doc_id, t.date_first, t.date_last, " ".join(t.stems)) for t in terms])

    def drop_doc(self, doc_id: str) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM chunk_terms WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM chunk_vectors WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM texts WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM annotations WHERE doc_id=?", (doc_id,))

    def docs_without_terms(self) -> list[str]:
        """Articles indexed before the keyword index existed (or whose stems were lost)."""
        return [r[0] for r in self.db.execute(
            "SELECT doc_id FROM docs WHERE chunks > 0 AND doc_id NOT IN (SELECT DISTINCT doc_id FROM chunk_terms)")]

    def all_terms(self) -> list[ChunkTerms]:
        rows = self.db.execute("SELECT chunk_id, doc_id, date_first, date_last, stems FROM chunk_terms ORDER BY chunk_id")
        return [ChunkTerms(c, d, f, la, s.split()) for c, d, f, la, s in rows]

    def _transaction(self):
        return transaction(self.db)

    def page(self, query: str = "", limit: int = 50, offset: int = 0) -> tuple[int, list[DocRecord]]:
        """(how many articles match, one page of them by id): `query` is found in the id, title or source."""
        where, args = "", []
        if query.strip():
            where = "WHERE doc_id LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\'"
            like = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args = [like, like, like]
        total = self.db.execute(f"SELECT COUNT(*) FROM docs {where}", args).fetchone()[0]
        rows = self.db.execute(f"SELECT * FROM docs {where} ORDER BY doc_id LIMIT ? OFFSET ?", [*args, limit, offset])
        return total, [DocRecord(*r) for r in rows]

    # -- re-embedding into a new collection: vectors are staged beside the live ones and swapped in at once
    def start_staging(self) -> None:
        self.db.execute("DROP TABLE IF EXISTS staged_vectors")
        self.db.execute("CREATE TABLE staged_vectors (chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, "
                        "spans TEXT NOT NULL, vectors BLOB NOT NULL)")

    def stage_vectors(self, doc_id: str, vectors: dict[str, SentenceVectors]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO staged_vectors VALUES (?, ?, ?, ?)",
                            [(chunk_id, doc_id, *v.to_row()) for chunk_id, v in vectors.items()])

    def switch_to_staged(self, collection: str) -> None:
        """In one transaction: the staged sentence vectors become the live ones and `collection` the
        Chroma collection the index reads."""
        with self._transaction():
            self.db.execute("DELETE FROM chunk_vectors")
            self.db.execute("INSERT INTO chunk_vectors SELECT * FROM staged_vectors")
            self.db.execute("DROP TABLE staged_vectors")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('collection', ?)", (collection,))

    def all_docs(self) -> list[DocRecord]:
        return [DocRecord(*r) for r in self.db.execute("SELECT * FROM docs ORDER BY doc_id")]

    def counts(self) -> tuple[int, int]:
        docs, chunks = self.db.execute("SELECT COUNT(*), COALESCE(SUM(chunks), 0) FROM docs").fetchone()
        return docs, chunks

    def newest_date(self) -> str | None:
        return self.db.execute("SELECT MAX(date) FROM docs").fetchone()[0]
