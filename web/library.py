"""The corpus as admins manage it from the server, the same for the chat's Dokumente tab and /api/documents:
list and read articles (from the manifest, in the server), upload and remove them (in the ingest worker).
"""

from __future__ import annotations

from assistant.service import Assistant
from index.documents import Document, UnknownDocument, listing, show
from index.uploads import check_upload
from settings import Settings
from web.worker import IngestWorker

MAX_FAILURES_SHOWN = 20  # a JSONL upload with thousands of bad lines answers with the first ones and their count


class Library:
    def __init__(self, assistant: Assistant, settings: Settings, worker: IngestWorker):
        """`settings`: the server's (its upload limits); the worker ingests into the data dir they name."""
        self.assistant = assistant
        self.settings = settings
        self.worker = worker

    def listing(self, query: str = "", limit: int = 50, offset: int = 0) -> tuple[int, list[Document]]:
        return listing(self.assistant.ws, query, limit, offset)

    def show(self, doc_id: str) -> Document:
        return show(self.assistant.ws, doc_id)

    def upload(self, name: str, data: bytes) -> dict:
        """The ingest report of one file (its failures shortened); refusals raise (index.uploads, index.sync)."""
        check_upload(self.settings, name, data)  # refused here, before the bytes travel to the worker
        report = self.worker.upload(name, data)
        failed = report.get("failed", [])
        if len(failed) > MAX_FAILURES_SHOWN:
            report["failed"], report["failed_total"] = failed[:MAX_FAILURES_SHOWN], len(failed)
        return report

    def remove(self, doc_id: str) -> dict:
        if self.assistant.ws.manifest.doc(doc_id) is None:
            raise UnknownDocument(f"No article with the id {doc_id!r} in the index.")
        return self.worker.remove(doc_id)
