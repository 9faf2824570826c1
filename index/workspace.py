"""The index as one object: manifest, Chroma store and embedder for a data dir, each opened on first use
(or handed in already open, as the benchmark and tests do to share one loaded embedder or index)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import cached_property

from index.embedders import embedder_name, make_embedder
from index.manifest import Manifest
from index.store import ChunkStore
from settings import Settings


class Workspace:
    REOPEN_WAIT_S = 5.0  # how long a reopen waits for questions reading the store before it tries another time

    def __init__(self, settings: Settings, *, manifest: Manifest | None = None, store: ChunkStore | None = None,
                 embed_model=None):
        self.settings = settings
        # Questions read the store at once; reopening it (after another process's ingest) waits until none does.
        self._readers = 0
        self._reopening = False
        self._turn = threading.Condition()
        self._mine = threading.local()
        for name, part in (("manifest", manifest), ("store", store), ("embed_model", embed_model)):
            if part is not None:
                self.__dict__[name] = part  # what cached_property would hold once opened

    def with_settings(self, settings: Settings) -> Workspace:
        """Other settings (a backend, a timeout) over the same opened index and embedder."""
        opened = {k: self.__dict__[k] for k in ("manifest", "store", "embed_model") if k in self.__dict__}
        return Workspace(settings, **opened)

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest.at(self.settings.data_dir / "manifest.sqlite", self.settings.database_url)

    @cached_property
    def embed_model(self):
        return make_embedder(self.settings)

    @property
    def embedder_name(self) -> str:
        return embedder_name(self.settings)

    @cached_property
    def store(self) -> ChunkStore:
        s = self.settings
        return ChunkStore(s.data_dir, s.chroma.url, self.collection, lambda: self.embed_model, self.embedder_name)

    @property
    def collection(self) -> str:
        """The Chroma collection the index reads: the settings' name, or the one `delegations reindex` last
        switched to."""
        return self.manifest.get_meta("collection") or self.settings.chroma.collection

    @contextmanager
    def reading(self):
        """Around a question's use of the store: any number at once, never while it is being reopened. A thread
        already reading goes on (nested use), so a reopen never waits for a reader that waits for it."""
        depth = getattr(self._mine, "depth", 0)
        with self._turn:
            if depth == 0:
                self._turn.wait_for(lambda: not self._reopening)
            self._readers += 1
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            with self._turn:
                self._readers -= 1
                self._turn.notify_all()

    def reopen_store(self) -> bool:
        """An embedded Chroma keeps its vector index in memory and does not see what another process (an
        ingest) wrote: open it again, once no question is reading it (new ones wait meanwhile). False when
        readers did not finish within REOPEN_WAIT_S: the next question tries again. A Chroma server needs
        no such thing."""
        if self.settings.chroma.url or "store" not in self.__dict__:
            return True
        if getattr(self._mine, "depth", 0):
            return False  # this thread is reading it: not now
        with self._turn:
            if self._reopening:
                return False
            self._reopening = True
            try:
                if not self._turn.wait_for(lambda: self._readers == 0, timeout=self.REOPEN_WAIT_S):
                    return False
                self.__dict__.pop("store").close()
                return True
            finally:
                self._reopening = False
                self._turn.notify_all()

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
