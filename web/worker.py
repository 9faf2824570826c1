"""The server's ingest worker: uploads, removals and a watched folder's syncs run in one child process, one at
a time, through the same functions `delegations ingest` and `docs remove` call (never by running the CLI).

Why a process: embedding and reading articles take whole seconds of CPU; in a child, the server's event loop
and its answering threads are not slowed by them, and a crash (or the OOM killer) during an ingest cannot take
the server down. The child keeps its embedder loaded between jobs and ends with the server (index.lifeline),
however the server ends. Errors come back as the exceptions the ingest raised (IngestBusy, UploadRefused,
UnreadableFile, StoreError, ...), so the API maps them by type; a worker that dies gives IngestWorkerDied.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from index.sync import IngestBusy
from settings import Settings

log = logging.getLogger("delegations.worker")


class IngestWorkerDied(Exception):
    """The worker process ended during a job (killed, out of memory); the job's changes were undone."""


# -- in the worker process

_ws = None


def _start(settings_json: str, parent: int) -> None:
    from index.lifeline import hold
    from index.workspace import Workspace

    global _ws
    hold(parent)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _ws = Workspace(Settings.model_validate_json(settings_json))


def _then():
    from assistant.llms import trip_step

    return trip_step(_ws)


def _upload(name: str, data: bytes) -> dict:
    from index.uploads import add_file

    return add_file(_ws, name, data, _then()).to_json()


def _remove(doc_id: str) -> dict:
    from index.uploads import remove

    return remove(_ws, doc_id, _then())


def _sync(paths: list[str]) -> dict:
    from index.sync import sync

    return sync([Path(p) for p in paths], _ws, None, _then()).to_json()


# -- in the server

class IngestWorker:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._busy = threading.Lock()  # one job at a time; an upload or removal meanwhile is told so at once

    def upload(self, name: str, data: bytes) -> dict:
        """Index one uploaded file (already checked by index.uploads.check_upload), all or nothing."""
        return self._now(_upload, name, data)

    def remove(self, doc_id: str) -> dict:
        return self._now(_remove, doc_id)

    def sync(self, paths: list[Path]) -> dict:
        """An ingest of these paths, after whatever job runs now (the watched folder waits its turn)."""
        with self._busy:
            return self._run(_sync, [str(p) for p in paths])

    def _now(self, job, *args):
        if not self._busy.acquire(blocking=False):
            raise IngestBusy("Another upload or removal is being indexed right now; try again when it is done.")
        try:
            return self._run(job, *args)
        finally:
            self._busy.release()

    def _run(self, job, *args):
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start, initargs=(self.settings.model_dump_json(), os.getpid()))
            pool = self._pool
        try:
            return pool.submit(job, *args).result()
        except BrokenProcessPool:
            with self._pool_lock:
                if self._pool is pool:
                    self._pool = None
            log.error("The ingest worker died during %s; its changes are undone by the next ingest.", job.__name__.strip("_"))
            raise IngestWorkerDied("The ingest worker stopped before it finished (killed or out of memory); nothing of "
                                   "this change was kept. Try again; the server log may say more.") from None

    def close(self) -> None:
        """Stop the worker now (at server shutdown): a job it was running is undone by the next ingest."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
