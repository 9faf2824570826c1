"""The index as one object: manifest, Chroma store and embedder for a data dir, each opened on first use."""

from __future__ import annotations

from functools import cached_property

from index.embedders import embedder_name, make_embedder
from index.manifest import Manifest
from index.store import ChunkStore
from settings import Settings


class Workspace:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest(self.settings.data_dir / "manifest.sqlite")

    @cached_property
    def embed_model(self):
        return make_embedder(self.settings)

    @property
    def embedder_name(self) -> str:
        return embedder_name(self.settings)

    @cached_property
    def store(self) -> ChunkStore:
        s = self.settings
        return ChunkStore(s.data_dir, s.chroma.url, s.chroma.collection, self.embed_model, self.embedder_name)

    def status(self) -> dict:
        docs, chunks = self.manifest.counts()
        return {
            "documents": docs,
            "chunks": chunks,
            "newest_article_date": self.manifest.newest_date(),
            "data_dir": str(self.settings.data_dir),
            "chroma": self.settings.chroma.url or "embedded",
            "embedder": self.embedder_name,
        }
