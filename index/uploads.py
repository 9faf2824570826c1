"""Managing the corpus from the running server: what admins do in the chat's Dokumente tab and through
/api/documents. Uploads are kept in DATA_DIR/uploads/.

`check_upload` runs where the request arrives and refuses what cannot be an upload before any reading (a bad
name, a type ingest does not read, too many bytes or, for JSONL, too many lines). `add_file` and `remove` run
in the server's ingest worker (web/worker.py): an upload is indexed all or nothing (index.sync.sync_upload),
one ingest at a time (the ingest lock). Every refusal is an exception whose type says what happened, and the
HTTP status it maps to is decided by the API (web/api.py), never by the message's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from index.sync import IngestReport, Refusal, german_number, sync_upload
from index.workspace import Workspace
from ingest.readers import SUFFIXES, slug
from settings import Settings

MAX_NAME_CHARS = 200


class UploadRefused(Refusal):
    """An upload that cannot be taken as sent; the message says why (in English, and German as `de`)."""


class BadFileName(UploadRefused):
    """No usable file name: empty, too long, or with control characters."""


class UnsupportedType(UploadRefused):
    """A file type ingest does not read."""


class UploadTooLarge(UploadRefused):
    """More bytes than server.max_upload_mb, or more articles than server.max_upload_articles."""


def uploads_dir(settings: Settings) -> Path:
    return (settings.data_dir / "uploads").resolve()


def check_upload(settings: Settings, name: str, data: bytes) -> str:
    """The file name the upload is kept under, or the reason it is refused unread."""
    base = Path((name or "").replace("\\", "/")).name
    if not base or len(base) > MAX_NAME_CHARS or re.search(r"[\x00-\x1f\x7f]", base):
        shown = (base[:40] + "…") if len(base) > 40 else base
        raise BadFileName(f"The file name {shown!r} cannot be used: give a name of 1 to {MAX_NAME_CHARS} "
                          f"characters without control characters.",
                          f"Der Dateiname „{shown}“ ist nicht verwendbar: 1 bis {MAX_NAME_CHARS} Zeichen, ohne Steuerzeichen.")
    suffix = Path(base).suffix.lower()
    accepted = ", ".join(sorted(SUFFIXES))
    if suffix not in SUFFIXES:
        raise UnsupportedType(f"{base}: {suffix or 'no extension'} is not accepted; send {accepted}.",
                              f"{base}: {suffix or 'ohne Endung'} wird nicht gelesen; erlaubt sind {accepted}.")
    limit = settings.server.max_upload_mb
    if len(data) > limit * 1024 * 1024:
        size = f"{len(data) / 1024 / 1024:.1f}"
        raise UploadTooLarge(f"{base} is {size} MB; the limit is {limit:g} MB (server.max_upload_mb).",
                             f"{base} ist {size.replace('.', ',')} MB groß; erlaubt sind {limit:g} MB.")
    if suffix == ".jsonl":
        lines = sum(1 for line in data.splitlines() if line.strip())
        cap = settings.server.max_upload_articles
        if lines > cap:
            raise UploadTooLarge(f"{base} has {lines:,} lines; an upload may hold {cap:,} articles "
                                 f"(server.max_upload_articles). Ingest larger corpora with `delegations ingest`.",
                                 f"{base} hat {german_number(lines)} Zeilen; ein Upload darf {german_number(cap)} Artikel "
                                 f"enthalten. Größere Sammlungen mit `delegations ingest` aufnehmen.")
    return f"{slug(Path(base).stem) or 'upload'}{suffix}"


def add_file(ws: Workspace, name: str, data: bytes, then: Callable[[], dict] | None = None) -> IngestReport:
    """Index one checked upload, all or nothing; a file of the same name is replaced (a new version), and
    when the new one cannot be read the earlier one stays, file and index alike."""
    settings = ws.settings
    return sync_upload(uploads_dir(settings) / check_upload(settings, name, data), data, ws, then,
                       settings.server.max_upload_articles)


def remove(ws: Workspace, doc_id: str, then: Callable[[], dict] | None = None) -> dict:
    """Take an article out of the index; an uploaded file of its own is deleted too (so a re-upload of it is
    read anew). Raises index.documents.UnknownDocument for an id the index does not hold."""
    from index.documents import UnknownDocument, remove as remove_docs

    record = ws.manifest.doc(doc_id)
    if record is None:
        raise UnknownDocument(f"No article with the id {doc_id!r} in the index.")
    alone = len(ws.manifest.docs_of(record.file)) == 1
    if alone and Path(record.file).resolve().parent == uploads_dir(ws.settings):
        Path(record.file).unlink(missing_ok=True)
    removed = remove_docs(ws, [doc_id], then)
    documents, chunks = ws.manifest.counts()
    return {"removed": removed, "documents": documents, "chunks": chunks}
