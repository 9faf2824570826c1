"""Incremental ingest: bring the index in step with the files under the given paths.

Unchanged files are recognised by the hash of their bytes before any parsing; unchanged articles inside a
changed file by their content hash before any embedding. Changed articles are replaced, articles whose
file (or JSONL line) is gone are removed. Only files under the paths named are considered for removal.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.keywords import KeywordIndex, chunk_terms
from index.manifest import ChunkTerms, DocRecord, Manifest
from index.terms import content_stems
from index.workspace import Workspace
from ingest.chunking import chunk_article
from ingest.model import Article, Failure, indexed_text
from ingest.readers import IngestError, discover, read_file


class IngestBusy(Exception):
    """Another ingest holds the data dir."""


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[Failure] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0

    def to_json(self) -> dict:
        out = asdict(self)
        out["failed"] = [asdict(f) for f in self.failed]
        return out


@contextmanager
def ingest_lock(data_dir: Path):
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusy(f"Another ingest is running on {data_dir}; wait for it to finish and run this again.") from None
        yield


def _under(path: str, roots: list[Path]) -> bool:
    p = os.path.abspath(path)
    return any(p == str(r) or p.startswith(str(r) + os.sep) for r in roots)


def _file_key(path: Path) -> str:
    return os.path.abspath(path)


def sync(paths: list[Path], ws: Workspace, progress: Callable[[int, int], None] | None = None) -> IngestReport:
    """Ingest paths into the workspace's index; returns what changed. Holds the data dir's ingest lock.
    `progress(done, total)` is called as articles to (re-)embed are stored."""
    with ingest_lock(ws.settings.data_dir):
        return _sync(paths, ws, progress)


@dataclass
class _Job:
    """An article to (re-)index, and the file it came from."""

    article: Article
    file_key: str
    version: str
    known: bool
    chunks: list = field(default_factory=list)


@dataclass
class _FileDone:
    """What to record once every article of a changed file is indexed: its hash, and its vanished articles."""

    key: str
    raw_hash: str
    vanished: list[str]
    jobs_left: int


def _sync(paths: list[Path], ws: Workspace, progress) -> IngestReport:
    report = IngestReport()
    manifest: Manifest = ws.manifest
    cfg = ws.settings.ingest
    params = f"chunk={cfg.chunk_chars}/{cfg.chunk_overlap_sentences}"
    if manifest.get_meta("interrupted") == "1":
        _reconcile(ws)  # the last ingest died mid-way: drop chunks the manifest does not vouch for
    manifest.set_meta("interrupted", "1")
    files, report.failed = discover(paths)
    roots = [Path(os.path.abspath(p)) for p in paths]
    seen_files = {_file_key(f) for f in files}

    # Files that were indexed from these paths and are gone now: their articles go too.
    for known in manifest.files():
        if known not in seen_files and _under(known, roots):
            for rec in manifest.docs_of(known):
                _remove(ws, rec.doc_id)
                report.removed += 1
            manifest.forget_file(known)

    # Read and chunk what changed (cheap), then embed it in large batches across articles (the cost).
    jobs: list[_Job] = []
    done_files: list[_FileDone] = []
    claimed: dict[str, str] = {}
    for path in files:
        key = _file_key(path)
        try:
            too_big = _too_big(path, path.stat().st_size, cfg)
            if too_big:
                report.failed.append(Failure(str(path), too_big))
                continue
            data = path.read_bytes()
        except OSError as exc:
            report.failed.append(Failure(str(path), f"Cannot read the file: {exc.strerror or exc}."))
            continue
        raw_hash = hashlib.sha256(data + params.encode()).hexdigest()[:24]
        if manifest.file_hash(key) == raw_hash:
            report.unchanged += len(manifest.docs_of(key))
            continue
        try:
            articles, bad = read_file(path, data)
        except IngestError as exc:
            report.failed.append(Failure(str(path), str(exc)))  # what was indexed from it before stays
            continue
        del data
        report.failed.extend(bad)
        previous = {r.doc_id for r in manifest.docs_of(key)}
        current: set[str] = set()
        file_jobs = 0
        for article in articles:
            if len(article.text) > cfg.max_article_chars:
                where = f"{path}:{article.doc_id}" if path.suffix.lower() == ".jsonl" else str(path)
                report.failed.append(Failure(where, f"The article is {len(article.text):,} characters long; the limit is "
                                                    f"{cfg.max_article_chars:,} (ingest.max_article_chars)."))
                continue
            article.doc_id = _unique_id(manifest, article, key, current, claimed)
            current.add(article.doc_id)
            known = manifest.doc(article.doc_id)
            version = f"{article.hash}/{params}"  # new chunking settings make every article new
            if known and known.hash == version and known.file == key:
                report.unchanged += 1
                continue
            jobs.append(_Job(article, key, version, known is not None,
                             chunk_article(article, cfg.chunk_chars, cfg.chunk_overlap_sentences)))
            file_jobs += 1
            if known:
                report.updated += 1
            else:
                report.added += 1
        # a JSONL line that failed to parse this time keeps its old version
        vanished = sorted(previous - current) if not bad else []
        done_files.append(_FileDone(key, raw_hash, vanished, file_jobs))

    _index_jobs(ws, jobs, done_files, report, progress)
    _backfill_terms(ws)
    changed = report.added or report.updated or report.removed
    if changed or manifest.get_meta("keywords_built") != "1" or KeywordIndex.build_id_on_disk(ws.settings.data_dir) is None:
        manifest.set_meta("keywords_built", "0")
        KeywordIndex.build(manifest.all_terms(), ws.settings.data_dir)
        manifest.set_meta("keywords_built", "1")
    manifest.set_meta("interrupted", "0")
    report.documents, report.chunks = manifest.counts()
    return report


def _too_big(path: Path, size: int, cfg) -> str | None:
    """Why a file is refused before it is read: over max_file_mb, or a one-article text file too long to be one."""
    if size > cfg.max_file_mb * 1_000_000:
        return f"The file is {size / 1_000_000:,.1f} MB; the limit is {cfg.max_file_mb:g} MB (ingest.max_file_mb); not read."
    if path.suffix.lower() in (".txt", ".md", ".markdown") and size > 4 * cfg.max_article_chars:
        return (f"The file is {size / 1_000_000:,.1f} MB, more text than one article can hold (ingest.max_article_chars: "
                f"{cfg.max_article_chars:,} characters); not read.")
    return None


EMBED_GROUP_CHUNKS = 64  # chunks embedded per call: two full embedder batches, and a progress tick every few seconds


def _index_jobs(ws: Workspace, jobs: list[_Job], done_files: list[_FileDone], report: IngestReport, progress) -> None:
    """Embed the articles' chunks in groups, write each group to Chroma in one call, then record each article
    in the manifest (after its chunks are stored: a crash in between leaves chunks the next run removes).
    A file's hash is recorded once all its articles are in, so an interrupted file is read again."""
    by_file = {d.key: d for d in done_files}
    finished = [d for d in done_files if d.jobs_left == 0]
    done = 0
    i = 0
    while i < len(jobs) or finished:
        group: list[_Job] = []
        size = 0
        while i < len(jobs) and (not group or size + len(jobs[i].chunks) <= EMBED_GROUP_CHUNKS):
            group.append(jobs[i])
            size += len(jobs[i].chunks)
            i += 1
        if group:
            texts = [c.embed_text for job in group for c in job.chunks]
            embeddings = ws.embed_model.get_text_embedding_batch(texts) if texts else []
            ws.store.replace_docs([(job.article.doc_id, job.chunks, job.known) for job in group], embeddings)
            for job in group:
                a, date = job.article, job.article.date
                ws.manifest.put_doc(DocRecord(a.doc_id, job.file_key, job.version, a.title, date and date.iso,
                                              date and date.precision, a.source, len(job.chunks)), chunk_terms(job.chunks))
                job.chunks = []  # the texts are stored; let them go
                by_file[job.file_key].jobs_left -= 1
                if by_file[job.file_key].jobs_left == 0:
                    finished.append(by_file[job.file_key])
            done += len(group)
            _tick(progress, done, len(jobs))
        for f in finished:
            for doc_id in f.vanished:
                _remove(ws, doc_id)
                report.removed += 1
            ws.manifest.set_file(f.key, f.raw_hash)
        finished = []


def _backfill_terms(ws: Workspace) -> None:
    """Articles indexed before the keyword index existed get their stems from the stored chunks."""
    for doc_id in ws.manifest.docs_without_terms():
        rows = ws.store.chunks_of(doc_id)
        ws.manifest.put_terms(doc_id, [
            ChunkTerms(r.chunk_id, doc_id, r.metadata["date_first"], r.metadata["date_last"],
                       content_stems(indexed_text(r.metadata["title"], r.metadata["date"], r.text)))
            for r in rows])


def _reconcile(ws: Workspace) -> None:
    ws.manifest.set_meta("keywords_built", "0")  # it may lag behind what the interrupted run changed
    known = {r.doc_id for r in ws.manifest.all_docs()}
    for doc_id in ws.store.doc_ids() - known:
        ws.store.delete_doc(doc_id)


def _tick(progress, done: int, total: int) -> None:
    if progress:
        progress(done, total)


def _unique_id(manifest: Manifest, article: Article, file_key: str, taken: set[str], claimed: dict[str, str]) -> str:
    """The article's own id, unless another file already uses it (in the index, or earlier in this run):
    then the id plus a hash of the path. `claimed` maps the ids of this run to their files."""
    known = manifest.doc(article.doc_id)
    own = claimed.get(article.doc_id, file_key) == file_key
    doc_id = article.doc_id
    if doc_id in taken or not own or (known is not None and known.file != file_key):
        doc_id = f"{article.doc_id}-{hashlib.sha256(file_key.encode()).hexdigest()[:6]}"
    claimed[doc_id] = file_key
    return doc_id


def _remove(ws: Workspace, doc_id: str) -> None:
    ws.store.delete_doc(doc_id)
    ws.manifest.drop_doc(doc_id)
