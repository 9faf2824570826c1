"""Data-dir upgrades, as one versioned step: each index records the schema version it was brought to
(manifest meta `schema_version`), and `migrate` runs the steps after it, in order, once. It runs under the
ingest lock at the start of `delegations serve` and before every ingest, so an index built by an older
version is brought up to date before anyone reads it. The tables themselves are created when missing
(index/manifest.py, trips/register.py: SQLAlchemy's create_all), the same in SQLite and PostgreSQL.
"""

from __future__ import annotations

from index.manifest import ChunkTerms
from index.terms import content_stems
from index.vectors import embed_chunks
from index.workspace import Workspace
from ingest.model import indexed_text


def migrate(ws: Workspace) -> list[str]:
    """Run the upgrade steps this index has not had; what they were (empty when it was current)."""
    done = int(ws.manifest.get_meta("schema_version") or 0)
    ran = []
    for version, what, step in STEPS:
        if version > done:
            step(ws)
            ws.manifest.set_meta("schema_version", str(version))
            ran.append(what)
    return ran


def _terms(ws: Workspace) -> None:
    """Articles indexed before the keyword index existed get their stems from the stored chunks."""
    for doc_id in ws.manifest.docs_without_terms():
        rows = ws.store.chunks_of(doc_id)
        ws.manifest.put_terms(doc_id, [
            ChunkTerms(r.chunk_id, doc_id, r.metadata["date_first"], r.metadata["date_last"],
                       content_stems(indexed_text(r.metadata["title"], r.metadata["date"], r.text)))
            for r in rows])


def _vectors(ws: Workspace) -> None:
    """Articles indexed before chunks were embedded by their sentences: their chunks are embedded again from
    the stored text (once, on the first ingest after the upgrade) and their vectors in Chroma replaced."""
    for doc_id in ws.manifest.docs_without_vectors():
        record = ws.manifest.doc(doc_id)
        chunks = ws.store.article_chunks(doc_id)
        if not chunks or record is None:
            continue
        embeddings, sentences = embed_chunks(chunks, ws.embed_model)
        ws.store.replace_docs([(doc_id, chunks, True)], embeddings)
        ws.manifest.put_vectors(doc_id, {c.chunk_id: v for c, v in zip(chunks, sentences)})


def _texts(ws: Workspace) -> None:
    """Articles indexed before their text was kept: it is joined again from their chunks (each overlaps the
    next by the sentences the chunking repeats)."""
    for doc_id in ws.manifest.docs_without_text():
        text = ""
        for row in ws.store.chunks_of(doc_id):
            overlap = next((k for k in range(min(len(text), len(row.text)), 0, -1) if text.endswith(row.text[:k])), 0)
            text = text + row.text[overlap:] if overlap else (f"{text}\n{row.text}" if text else row.text)
        ws.manifest.put_text(doc_id, text)


STEPS = [
    (1, "chunk stems for the keyword index", _terms),
    (2, "sentence vectors", _vectors),
    (3, "article texts", _texts),
]
SCHEMA_VERSION = STEPS[-1][0]
