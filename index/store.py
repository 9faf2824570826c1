"""Chunks in Chroma: embedded under the data dir, or on a Chroma server. The product's one module that
imports chromadb (the benchmark's naive reference pipeline opens a Chroma of its own).

Chroma never embeds anything itself here: every add and query carries our own vectors, and the collection
is given our embedder as its embedding function, so Chroma's default (which downloads a model) never runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from ingest.model import Chunk


class StoreError(Exception):
    """The vector store cannot be reached or used; the message says what to do."""


@dataclass
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    distance: float = 0.0


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    date = chunk.date
    return {
        "doc_id": chunk.doc_id,
        "ordinal": chunk.ordinal,
        "title": chunk.title,
        "source": chunk.source,
        "date": date.iso if date else "",
        "date_precision": date.precision if date else "",
        # Range filters compare numbers: a month-precise date covers its whole month.
        "date_first": date.first_day if date else 0,
        "date_last": date.last_day if date else 0,
        "article_hash": chunk.article_hash,
    }


def embedding_function(embedder: Callable[[], Any], name: str):
    """`embedder()` gives the embedder, opened when Chroma first calls it: the index always hands Chroma its
    vectors, and a question's vector comes from the annotator's pass, so a question never opens it."""
    from chromadb.api.types import EmbeddingFunction

    class OurEmbeddings(EmbeddingFunction):
        """Our embedder, handed to Chroma so that it never falls back to its downloading default."""

        def __call__(self, input):
            return embedder().get_text_embedding_batch(list(input))

        def embed_query(self, input):
            return [embedder().get_query_embedding(q) for q in input]

        @staticmethod
        def name() -> str:
            return "delegations"

        def get_config(self) -> dict[str, Any]:
            return {"embedder": name}

        @staticmethod
        def build_from_config(config: dict[str, Any]):
            return embedding_function(embedder, config.get("embedder", name))

        def is_legacy(self) -> bool:
            return False

    return OurEmbeddings()


def _client(data_dir: Path, url: str):
    import chromadb
    from chromadb.config import Settings as ChromaConfig

    config = ChromaConfig(anonymized_telemetry=False, allow_reset=False)  # an intranet product does not phone home
    if not url:
        data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=config)
    parsed = urlparse(url if "://" in url else f"http://{url}")
    try:
        client = chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                     ssl=parsed.scheme == "https", settings=config)
        client.heartbeat()
    except Exception as exc:
        raise StoreError(f"Cannot reach the Chroma server at {url} ({type(exc).__name__}); start it with "
                         f"`chroma run --path DIR --port {parsed.port or 8000}` or unset DELEGATIONS_CHROMA_URL.") from None
    return client


class ChunkStore:
    """One Chroma collection of chunks, each with its article's metadata."""

    def __init__(self, data_dir: Path, url: str, collection: str, embedder: Callable[[], Any], embedder_name: str,
                 check_embedder: bool = True):
        self.url = url
        self.embedder_name = embedder_name
        self._client = _client(data_dir, url)
        try:
            self.collection = self._client.get_or_create_collection(
                collection,
                metadata={"hnsw:space": "cosine", "embedder": embedder_name},
                embedding_function=embedding_function(embedder, embedder_name),
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"Cannot open the Chroma collection {collection!r}: {exc}") from None
        built_with = (self.collection.metadata or {}).get("embedder")
        if check_embedder and built_with and built_with != embedder_name:
            raise StoreError(
                f"This index was built with the embedder {built_with}, but the settings choose {embedder_name}. "
                f"Run `delegations reindex` to embed it again with {embedder_name} (or switch the embedder back); "
                f"embeddings of two models cannot be mixed.")

    def _guard(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            where = f"the Chroma server at {self.url}" if self.url else "the embedded Chroma index"
            message = f"Could not {what} {where}: {type(exc).__name__}: {exc}".rstrip(". ") + "."
            if "disk is full" in message or "No space left" in message:
                message += " Free space and run the command again: what was indexed before is kept."
            raise StoreError(message) from None

    def close(self) -> None:
        """Let go of the Chroma client (an embedded one stops, so a new one reads the index from disk again)."""
        try:
            self._client.close()
        except Exception:  # closing is best effort: a server may already be gone
            pass

    def count(self) -> int:
        return self._guard("count chunks in", self.collection.count)

    def replace_docs(self, docs: list[tuple[str, list[Chunk], bool]], embeddings: list[list[float]]) -> None:
        """Several articles at once, as (doc_id, chunks, was_indexed_before), their embeddings in order:
        one delete for the articles indexed before, then their chunks written in the fewest calls."""
        replaced = [doc_id for doc_id, _, before in docs if before]
        if replaced:
            self._guard("delete from", self.collection.delete, where={"doc_id": {"$in": replaced}})
        chunks = [c for _, cs, _ in docs for c in cs]
        step = self._client.get_max_batch_size()
        for start in range(0, len(chunks), step):
            part = chunks[start:start + step]
            self._guard("write to", self.collection.upsert, ids=[c.chunk_id for c in part], documents=[c.text for c in part],
                        metadatas=[chunk_metadata(c) for c in part], embeddings=embeddings[start:start + step])

    def delete_doc(self, doc_id: str) -> None:
        self._guard("delete from", self.collection.delete, where={"doc_id": doc_id})

    def delete_docs(self, doc_ids: list[str], batch: int = 500) -> None:
        """Many articles at once, a few hundred per call (one call per article takes seconds each at scale)."""
        for start in range(0, len(doc_ids), batch):
            self._guard("delete from", self.collection.delete, where={"doc_id": {"$in": list(doc_ids[start:start + batch])}})

    def doc_ids(self) -> set[str]:
        got = self._guard("read", self.collection.get, include=["metadatas"])
        return {m["doc_id"] for m in got["metadatas"]}

    def chunks_of(self, doc_id: str) -> list[StoredChunk]:
        got = self._guard("read", self.collection.get, where={"doc_id": doc_id}, include=["documents", "metadatas"])
        rows = [StoredChunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(rows, key=lambda r: r.metadata["ordinal"])

    def article_chunks(self, doc_id: str) -> list[Chunk]:
        """An article's chunks as they were indexed, rebuilt from what the store holds (to embed them again)."""
        from ingest.model import PubDate
        from ingest.sentences import sentence_spans

        return [Chunk(r.chunk_id, doc_id, r.metadata["ordinal"], r.text, r.metadata["title"], r.metadata["source"],
                      PubDate(r.metadata["date"], r.metadata["date_precision"]) if r.metadata["date"] else None,
                      r.metadata["article_hash"], [(a, b) for a, b in sentence_spans(r.text)])
                for r in self.chunks_of(doc_id)]

    def query(self, embedding: list[float], k: int, where: dict | None = None) -> list[StoredChunk]:
        n = self.count()
        if n == 0:
            return []
        got = self._guard("search", self.collection.query, query_embeddings=[embedding], n_results=min(k, n),
                          where=where or None, include=["documents", "metadatas", "distances"])
        return [StoredChunk(i, d, m, dist) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]

    def nearest(self, embedding: list[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """The k nearest chunks as (chunk id, cosine distance) only: many candidates, little to read."""
        n = self.count()
        if n == 0:
            return []
        got = self._guard("search", self.collection.query, query_embeddings=[embedding], n_results=min(k, n),
                          where=where or None, include=["distances"])
        return list(zip(got["ids"][0], got["distances"][0]))

    def drop(self) -> None:
        """Delete the whole collection (the one a reindex has replaced)."""
        self._guard("delete a collection of", self._client.delete_collection, self.collection.name)

    def get(self, chunk_ids: list[str]) -> list[StoredChunk]:
        got = self._guard("read", self.collection.get, ids=list(chunk_ids), include=["documents", "metadatas"])
        return [StoredChunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
