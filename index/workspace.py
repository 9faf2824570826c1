"""The index as one object: manifest, Chroma store and embedder for a data dir, each opened on first use
(or handed in already open, as the benchmark and tests do to share one loaded embedder or index)."""

from __future__ import annotations

from functools import cached_property

from index.embedders import embedder_name, make_embedder
from index.manifest import Manifest
from index.store import ChunkStore
from settings import Settings


class Workspace:
    def __init__(self, settings: Settings, *, manifest: Manifest | None = None, store: ChunkStore | None = None,
                 embed_model=None):
        self.settings = settings
        for name, part in (("manifest", manifest), ("store", store), ("embed_model", embed_model)):
            if part is not None:
                self.__dict__[name] = part  # what cached_property would hold once opened

    def with_settings(self, settings: Settings) -> Workspace:
        """Other settings (a backend, a timeout) over the same opened index and embedder."""
        opened = {k: self.__dict__[k] for k in ("manifest", "store", "embed_model") if k in self.__dict__}
        return Workspace(settings, **opened)

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
        return ChunkStore(s.data_dir, s.chroma.url, self.collection, self.embed_model, self.embedder_name)

    @property
    def collection(self) -> str:
        """The Chroma collection the index reads: the settings' name, or the one `delegations reindex` last
        switched to."""
        return self.manifest.get_meta("collection") or self.settings.chroma.collection

    def reopen_store(self) -> None:
        """An embedded Chroma keeps its vector index in memory and does not see what another process (an
        ingest) wrote: open it again. A Chroma server needs no such thing."""
        if self.settings.chroma.url or "store" not in self.__dict__:
            return
        self.__dict__.pop("store").close()

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
