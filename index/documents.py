"""The articles the index holds, one by one: list and show them (from the manifest, paged in SQLite, so it stays
fast at tens of thousands), remove some, export all as the JSONL that ingest reads, and embed everything again
into a new collection (`reindex`), switched to at once at the end.

Removal and reindex hold the ingest lock, as ingest does. Removal follows ingest's order: chunks out of Chroma,
then the manifest record (one transaction), then the keyword index and trips; a crash in between leaves the
data dir marked `interrupted`, and the next ingest or removal first drops chunks the manifest no longer vouches
for. A reindex writes a new collection and staged vectors beside the live ones and switches in one SQLite
transaction: until then questions are answered from the old index, and one killed mid-way leaves it in use.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from index.keywords import KeywordIndex
from index.manifest import DocRecord
from index.reading import annotate_stale
from index.store import ChunkStore
from index.sync import heal, ingest_lock
from index.vectors import embed_chunks
from index.workspace import Workspace
from ingest.model import Chunk


class UnknownDocument(Exception):
    """An article id the index does not hold."""


@dataclass
class Document:
    doc_id: str
    title: str
    date: str | None
    source: str
    chunks: int
    text: str | None = None

    @classmethod
    def of(cls, rec: DocRecord, text: str | None = None) -> Document:
        return cls(rec.doc_id, rec.title, rec.date, rec.source, rec.chunks, text)

    def to_json(self) -> dict:
        row = {"id": self.doc_id, "title": self.title, "date": self.date, "source": self.source, "chunks": self.chunks}
        return row if self.text is None else {**row, "text": self.text}


def listing(ws: Workspace, query: str = "", limit: int = 50, offset: int = 0) -> tuple[int, list[Document]]:
    """How many articles match `query` (in id, title or source) and one page of them, ordered by id."""
    total, rows = ws.manifest.page(query, limit, offset)
    return total, [Document.of(r) for r in rows]


def show(ws: Workspace, doc_id: str) -> Document:
    rec = ws.manifest.doc(doc_id)
    if rec is None:
        raise UnknownDocument(f"No article with the id {doc_id!r} in the index (see `delegations docs list`).")
    return Document.of(rec, ws.manifest.text(doc_id) or "")


def remove(ws: Workspace, doc_ids: list[str], then: Callable[[], dict] | None = None) -> list[str]:
    """Take these articles out of the index: chunks, keyword index, manifest and trips. All ids are checked
    first, so an unknown one removes nothing. The file an article came from is left as it is and stays
    recorded as read: the article comes back only when that file changes (delete or move it to keep it out;
    a file already deleted is forgotten, so a new one at its path is read).
    `then()` runs under the lock afterwards (the trip register's update)."""
    with ingest_lock(ws.settings.data_dir, ws.settings.database_url):
        missing = [d for d in dict.fromkeys(doc_ids) if ws.manifest.doc(d) is None]
        if missing:
            raise UnknownDocument(f"No article with the id{'s' if len(missing) > 1 else ''} "
                                  f"{', '.join(map(repr, missing))} in the index; nothing was removed.")
        manifest = ws.manifest
        heal(ws)
        manifest.set_meta("interrupted", "1")
        removed = list(dict.fromkeys(doc_ids))
        files = {manifest.doc(doc_id).file for doc_id in removed}
        ws.store.delete_docs(removed)
        for doc_id in removed:
            manifest.drop_doc(doc_id)
        for file in files:  # a file deleted first is forgotten: a new file at its path is read again
            if not os.path.exists(file) and not manifest.docs_of(file):
                manifest.forget_file(file)
        KeywordIndex.publish(manifest, ws.settings.data_dir)
        manifest.set_meta("interrupted", "0")
        if then:
            then()
        return removed


def export(ws: Workspace) -> Iterator[str]:
    """One JSON line per article (id, title, date, text, source): what `delegations ingest` reads from a .jsonl
    file, so exporting and ingesting into an empty data dir gives the same articles and chunks."""
    for rec in ws.manifest.all_docs():
        row = {"id": rec.doc_id, "title": rec.title, "date": rec.date, "text": ws.manifest.text(rec.doc_id) or "",
               "source": rec.source}
        yield json.dumps(row, ensure_ascii=False)


REINDEX_GROUP_CHUNKS = 64  # chunks embedded per call, as ingest does


def reindex(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> dict:
    """Embed every stored chunk again with the embedder the settings choose, into a new Chroma collection,
    and switch to it at the end; the old collection is deleted after the switch. Articles an older annotator
    read are annotated again (index/reading.py)."""
    settings = ws.settings
    with ingest_lock(settings.data_dir, settings.database_url):
        manifest = ws.manifest
        old_name = ws.collection
        unfinished = manifest.get_meta("reindex_target")
        if unfinished and unfinished != old_name:  # a reindex that died: its half-filled collection goes
            _drop_collection(ws, unfinished)
        new_name = f"{settings.chroma.collection}-{time.strftime('%Y%m%d%H%M%S')}"
        manifest.set_meta("reindex_target", new_name)
        old = ChunkStore(settings.data_dir, settings.chroma.url, old_name, lambda: ws.embed_model, ws.embedder_name,
                         check_embedder=False)
        new = ChunkStore(settings.data_dir, settings.chroma.url, new_name, lambda: ws.embed_model, ws.embedder_name)
        manifest.start_staging()
        docs = manifest.all_docs()
        started = time.perf_counter()
        done = chunks_done = 0
        group: list[list[Chunk]] = []
        for i, rec in enumerate(docs, 1):
            group.append(old.article_chunks(rec.doc_id))
            if sum(map(len, group)) >= REINDEX_GROUP_CHUNKS or i == len(docs):
                chunks = [c for cs in group for c in cs]
                if chunks:
                    embeddings, sentences = embed_chunks(chunks, ws.embed_model)
                    new.replace_docs([(cs[0].doc_id, cs, False) for cs in group if cs], embeddings)
                    by_doc: dict[str, dict] = {}
                    for c, v in zip(chunks, sentences):
                        by_doc.setdefault(c.doc_id, {})[c.chunk_id] = v
                    for doc_id, vectors in by_doc.items():
                        manifest.stage_vectors(doc_id, vectors)
                chunks_done += len(chunks)
                done = i
                group = []
                if progress:
                    progress(done, len(docs))
        manifest.switch_to_staged(new_name)
        manifest.set_meta("reindex_target", "")
        KeywordIndex.publish(manifest, settings.data_dir)  # a new build id tells running servers to reopen the store
        ws.__dict__.pop("store", None)
        old.drop()
        annotated = annotate_stale(ws)
        return {"documents": len(docs), "chunks": chunks_done, "collection": new_name, "replaced": old_name,
                "embedder": ws.embedder_name, "annotated": annotated,
                "seconds": round(time.perf_counter() - started, 1)}


def _drop_collection(ws: Workspace, name: str) -> None:
    try:
        ChunkStore(ws.settings.data_dir, ws.settings.chroma.url, name, lambda: ws.embed_model, ws.embedder_name,
                   check_embedder=False).drop()
    except Exception:  # noqa: BLE001 - it may never have been created
        pass
