"""Managing the corpus from the running server: what admins do in the chat's Dokumente tab and through
/api/documents. Uploads are kept in DATA_DIR/uploads/ and indexed by `delegations ingest` in a child process,
removals done by `delegations docs remove` in one: one ingest at a time (the ingest lock), questions answered
throughout from the index as it was, and a crash of either cannot take the server down.

Every failure is a DocumentError with the HTTP status it maps to and one line saying why.
"""

from __future__ import annotations

import os
from pathlib import Path

from index.watch import run_cli
from ingest.readers import SUFFIXES, slug
from settings import Settings


class DocumentError(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def uploads_dir(settings: Settings) -> Path:
    return (settings.data_dir / "uploads").resolve()


def add_file(settings: Settings, name: str, data: bytes) -> dict:
    """Index one uploaded file; the ingest report. A file of the same name replaces the earlier upload (a new
    version); when the new one cannot be read, the earlier one stays, file and index alike."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(415, f"{name or 'The file'}: {suffix or 'no extension'} is not accepted; send "
                                 f"{', '.join(sorted(SUFFIXES))}.")
    limit = settings.server.max_upload_mb
    if len(data) > limit * 1024 * 1024:
        raise DocumentError(413, f"{name} is {len(data) / 1024 / 1024:.1f} MB; the limit is {limit:g} MB (server.max_upload_mb).")
    stem = slug(Path(name).stem) or "upload"
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}{suffix}"
    previous = target.read_bytes() if target.exists() else None
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(data)
    os.replace(partial, target)
    report, failure = run_cli("ingest", str(target), "--data-dir", str(settings.data_dir.resolve()))
    own = [f for f in (report or {}).get("failed", []) if f["path"] == str(target)]
    if report is None or (own and not (report["added"] or report["updated"] or report["unchanged"])):
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(previous)
        if report is None:
            raise DocumentError(409 if "Another ingest" in failure else 503, failure)
        raise DocumentError(422, f"{name}: {own[0]['error']} Nothing was indexed.")
    return report


def remove(settings: Settings, doc_id: str, known: bool) -> dict:
    """Take an article out of the index; an uploaded file of its own is deleted too."""
    if not known:
        raise DocumentError(404, f"No article with the id {doc_id!r} in the index.")
    from index.manifest import Manifest

    manifest = Manifest(settings.data_dir / "manifest.sqlite")
    try:
        record = manifest.doc(doc_id)
        alone = record is not None and len(manifest.docs_of(record.file)) == 1
    finally:
        manifest.close()
    if record is not None and alone and Path(record.file).resolve().parent == uploads_dir(settings):
        Path(record.file).unlink(missing_ok=True)  # its only article: the file goes, so a re-upload is read anew
    report, failure = run_cli("docs", "remove", doc_id, "--data-dir", str(settings.data_dir.resolve()))
    if report is None:
        raise DocumentError(409 if "Another ingest" in failure else 503, failure)
    return report
