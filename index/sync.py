"""Incremental ingest: bring the index in step with the files under the given paths.

    sources (ingest.readers)  ->  plan (pure)  ->  apply (embed, store, record)

Unchanged files are recognised by the hash of their bytes before any parsing; unchanged articles inside a
changed file by their content hash before any embedding. Changed articles are replaced, articles whose
file (or JSONL line) is gone are removed. Only files under the paths named are considered for removal.

Crash safety: an article is recorded in the manifest only after its chunks are in Chroma, a file's hash
only after all its articles are; a run that dies leaves the data dir marked `interrupted`, and the next run
first removes chunks the manifest does not vouch for. So a re-run after `kill -9` gives the same index as a
clean run.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import text

from index.database import engine as database
from index.keywords import KeywordIndex, chunk_terms
from index.manifest import DocRecord, Manifest
from index.migrate import migrate
from index.reading import Read, annotate_stale, embed_and_annotate
from index.workspace import Workspace
from ingest.chunking import chunk_article
from ingest.model import Article, Chunk, Failure
from ingest.readers import Limits, Source, read_source, sources

EMBED_GROUP_CHUNKS = 64  # chunks embedded per call: two full embedder batches, and a progress tick every few seconds


class IngestBusy(Exception):
    """Another ingest holds the data dir."""


class Refusal(Exception):
    """Something a user sent that ingest refuses: the message in English (str(), for the API and the log)
    and in German (`de`, for the chat). Pickles as it is (it crosses from the ingest worker)."""

    def __init__(self, message: str, de: str = ""):
        super().__init__(message, de)

    def __str__(self) -> str:
        return self.args[0]

    @property
    def de(self) -> str:
        return self.args[1] or self.args[0]


def german_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


class UnreadableFile(Refusal):
    """Nothing in an uploaded file could be read as an article; nothing of it was indexed."""


class TooManyArticles(Refusal):
    """An uploaded file holds more articles than one upload may (server.max_upload_articles)."""


PENDING_UPLOAD = "pending_upload"  # manifest meta: the upload being committed, undone by the next ingest if it died


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[Failure] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    trips: dict | None = None  # what the step run after the chunks (the trip register) reports

    def to_json(self) -> dict:
        out = asdict(self)
        out["failed"] = [asdict(f) for f in self.failed]
        if out["trips"] is None:
            del out["trips"]
        return out


@dataclass
class Known:
    """What the manifest holds, read once before planning: files with their fingerprints, articles with
    their versions and files."""

    files: dict[str, str]  # file -> fingerprint of the bytes last indexed
    docs: dict[str, tuple[str, str]]  # doc_id -> (version, file)

    @classmethod
    def of(cls, manifest: Manifest) -> Known:
        return cls(dict(manifest.file_hashes()), {r.doc_id: (r.hash, r.file) for r in manifest.all_docs()})

    def docs_of(self, file: str) -> list[str]:
        return [doc for doc, (_, f) in self.docs.items() if f == file]


@dataclass
class Job:
    """An article to (re-)index: its chunks, its file, its version, and whether an older version is stored."""

    article: Article
    file: str
    version: str
    replaces: bool
    chunks: list[Chunk]


@dataclass
class FileDone:
    """Recorded once every article of a changed file is indexed: its fingerprint, and its articles that are gone."""

    file: str
    fingerprint: str
    vanished: list[str]
    jobs: int


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    files: list[FileDone] = field(default_factory=list)
    gone_files: dict[str, list[str]] = field(default_factory=dict)  # files no longer there -> their articles
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)


def file_key(path: Path) -> str:
    """The manifest's name for a file: its absolute path."""
    return os.path.abspath(path)


def sync(paths: list[Path], ws: Workspace, progress: Callable[[int, int], None] | None = None,
         then: Callable[[], dict] | None = None) -> IngestReport:
    """Ingest paths into the workspace's index; returns what changed. Holds the data dir's ingest lock.
    `progress(done, total)` is called as articles to (re-)embed are stored; `then()` runs under the same lock
    once they are (the trip register's update) and its report is the report's `trips`."""
    with ingest_lock(ws.settings.data_dir, ws.settings.database_url):
        manifest = ws.manifest
        heal(ws)
        manifest.set_meta("interrupted", "1")
        cfg = ws.settings.ingest
        params = _params(ws)
        known = Known.of(manifest)
        read = sources(paths, Limits(cfg.max_file_mb, cfg.max_article_chars), salt=params.encode(),
                       unchanged=lambda path, fingerprint: known.files.get(file_key(path)) == fingerprint)
        plan_ = plan(read, known, paths, params, cfg.chunk_chars, cfg.chunk_overlap_sentences)
        report = apply(plan_, ws, progress)
        migrate(ws)
        annotate_stale(ws)
        return _finish(ws, report, then)


def sync_upload(target: Path, data: bytes, ws: Workspace, then: Callable[[], dict] | None = None,
                max_articles: int | None = None, progress: Callable[[int, int], None] | None = None) -> IngestReport:
    """One uploaded file into the index, all or nothing: its bytes are read as the file `target` (which they
    replace), and every article is chunked and embedded before anything is written. Then, marked pending in
    the manifest, its chunks and records are written, the file is put in place, the keyword index and trips
    follow, and the mark is cleared. A failure before the writes leaves nothing; an ingest killed during
    them is undone by the next one (`heal`), which takes the articles out again, so that the file, whichever
    version of it stands at `target`, is read anew by the next sync of its folder."""
    with ingest_lock(ws.settings.data_dir, ws.settings.database_url):
        manifest = ws.manifest
        heal(ws)
        cfg = ws.settings.ingest
        params = _params(ws)
        known = Known.of(manifest)
        item = read_source(target, data, Limits(cfg.max_file_mb, cfg.max_article_chars), params.encode())
        if isinstance(item, Failure):
            raise UnreadableFile(f"{target.name}: {item.error} Nothing was indexed.",
                                 f"{target.name} ist nicht lesbar ({item.error}); nichts wurde indexiert.")
        articles = len(item.articles or [])
        if not articles:
            bad = item.failures
            first = f" The first: {bad[0].error}" if bad else ""
            raise UnreadableFile(f"{target.name}: no article in it could be read ({len(bad)} problem"
                                 f"{'s' if len(bad) != 1 else ''}).{first} Nothing was indexed.",
                                 f"{target.name}: kein Artikel darin ist lesbar ({len(bad)} Fehler"
                                 f"{f'; der erste: {bad[0].error}' if bad else ''}); nichts wurde indexiert.")
        if max_articles and articles > max_articles:
            raise TooManyArticles(f"{target.name} holds {articles:,} articles; an upload may hold {max_articles:,} "
                                  f"(server.max_upload_articles). Ingest larger corpora with `delegations ingest`.",
                                  f"{target.name} enthält {german_number(articles)} Artikel; ein Upload darf "
                                  f"{german_number(max_articles)} enthalten. Größere Sammlungen mit `delegations ingest` aufnehmen.")
        plan_ = plan([item], known, [target], params, cfg.chunk_chars, cfg.chunk_overlap_sentences)
        staged, done = [], 0
        for group in _groups(plan_.jobs, EMBED_GROUP_CHUNKS):  # the slow part: nothing is written meanwhile
            staged.append((group, read_jobs(group, ws)))
            done += len(group)
            if progress:
                progress(done, len(plan_.jobs))
        touched = {job.article.doc_id for job in plan_.jobs} | set(known.docs_of(file_key(target)))
        manifest.set_meta(PENDING_UPLOAD, json.dumps({"file": file_key(target), "docs": sorted(touched)}))
        manifest.set_meta("interrupted", "1")
        report = apply(plan_, ws, embedded=staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
        report = _finish(ws, report, then)
        manifest.set_meta(PENDING_UPLOAD, "")
        return report


def _params(ws: Workspace) -> str:
    cfg = ws.settings.ingest
    return f"chunk={cfg.chunk_chars}/{cfg.chunk_overlap_sentences}"


def _finish(ws: Workspace, report: IngestReport, then: Callable[[], dict] | None) -> IngestReport:
    """After the chunks: the keyword index rebuilt when something changed, the data dir marked consistent,
    the trips brought in step, the totals counted."""
    manifest = ws.manifest
    changed = report.added or report.updated or report.removed
    if changed or manifest.get_meta("keywords_built") != "1" or KeywordIndex.build_id_on_disk(ws.settings.data_dir) is None:
        KeywordIndex.publish(manifest, ws.settings.data_dir)
    manifest.set_meta("interrupted", "0")
    if then:
        report.trips = then()
    report.documents, report.chunks = manifest.counts()
    return report


def recover(ws: Workspace, uploads: Path, then: Callable[[], dict] | None = None) -> IngestReport:
    """At the server's start: what a killed ingest left is undone (`heal`), and the uploads folder is brought in
    step, so an upload undone mid-commit is read again from the file that stands there, if one does."""
    if uploads.is_dir():
        return sync([uploads], ws, then=then)
    with ingest_lock(ws.settings.data_dir, ws.settings.database_url):
        manifest = ws.manifest
        unsettled = manifest.get_meta(PENDING_UPLOAD) or manifest.get_meta("interrupted") == "1"
        if migrate(ws):
            unsettled = True  # the keyword index is rebuilt from what the upgrade wrote
        if not unsettled and manifest.get_meta("keywords_built") in (None, "1"):
            return IngestReport()
        undone = heal(ws)
        return _finish(ws, IngestReport(removed=len(undone)), then)


def heal(ws: Workspace) -> list[str]:
    """Undo what a killed ingest left (called under the ingest lock): an upload caught mid-commit loses all its
    articles and its file's fingerprint (the file is read again by the next sync of its folder), and chunks
    the manifest does not vouch for leave Chroma. The articles taken out."""
    manifest = ws.manifest
    undone: list[str] = []
    pending = manifest.get_meta(PENDING_UPLOAD)
    if pending:
        upload = json.loads(pending)
        undone = [d for d in upload["docs"] if manifest.doc(d) is not None]
        ws.store.delete_docs(upload["docs"])
        for doc_id in upload["docs"]:
            manifest.drop_doc(doc_id)
        manifest.forget_file(upload["file"])
        manifest.set_meta("interrupted", "1")
        manifest.set_meta(PENDING_UPLOAD, "")
    if manifest.get_meta("interrupted") == "1":
        reconcile(ws)  # the last ingest died mid-way: drop chunks the manifest does not vouch for
    return undone


INGEST_LOCK_KEY = 0x64656C65  # the PostgreSQL advisory lock of the shared corpus ("dele")


@contextmanager
def ingest_lock(data_dir: Path, database_url: str = ""):
    """One ingest at a time on a data dir (a file lock), and, when instances share a corpus (`database_url`),
    one among all of them (PostgreSQL's advisory lock, held by a connection: released if the process dies).
    The second gets IngestBusy at once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusy(f"Another ingest is running on {data_dir}; wait for it to finish and run this again.") from None
        if not database_url:
            yield
            return
        with database(database_url, data_dir).connect() as db:
            if not db.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": INGEST_LOCK_KEY}).scalar():
                raise IngestBusy("Another instance is ingesting into the shared corpus; wait for it to finish and "
                                 "run this again.")
            try:
                yield
            finally:
                db.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INGEST_LOCK_KEY})
                db.commit()


def plan(read: Iterable[Source | Failure], known: Known, paths: list[Path], params: str, chunk_chars: int = 700,
         overlap: int = 1) -> Plan:
    """What to add, replace, remove and leave, from the files as read and what the manifest knows; the
    articles to (re-)index are chunked here. No I/O beyond consuming `read`."""
    out = Plan()
    claimed: dict[str, str] = {}  # ids of this run -> their files
    seen: set[str] = set()
    for item in read:
        if isinstance(item, Failure):
            out.failed.append(item)
            seen.add(file_key(Path(item.path)))  # a file that could not be read: what was indexed from it stays
            continue
        key = file_key(item.path)
        seen.add(key)
        if item.articles is None:  # the bytes are the ones last indexed
            out.unchanged += len(known.docs_of(key))
            continue
        out.failed.extend(item.failures)
        current: set[str] = set()
        jobs = 0
        for article in item.articles:
            article.doc_id = _unique_id(known, article, key, current, claimed)
            current.add(article.doc_id)
            version = f"{article.hash}/{params}"  # new chunking settings make every article new
            stored = known.docs.get(article.doc_id)
            if stored == (version, key):
                out.unchanged += 1
                continue
            out.jobs.append(Job(article, key, version, stored is not None, chunk_article(article, chunk_chars, overlap)))
            jobs += 1
            if stored:
                out.updated += 1
            else:
                out.added += 1
        # a JSONL line that failed to parse this time keeps its old version
        vanished = sorted(set(known.docs_of(key)) - current) if not item.failures else []
        out.files.append(FileDone(key, item.fingerprint, vanished, jobs))
    roots = [Path(os.path.abspath(p)) for p in paths]
    for gone in known.files:  # files indexed from these paths that are not there any more: their articles go too
        if gone not in seen and _under(gone, roots):
            out.gone_files[gone] = known.docs_of(gone)
    return out


def apply(p: Plan, ws: Workspace, progress: Callable[[int, int], None] | None = None,
          embedded: list[tuple[list[Job], Read]] | None = None) -> IngestReport:
    """Carry the plan out: remove what is gone, embed the jobs' chunks in groups across articles, write each
    group to Chroma in one call, then record each article in the manifest (after its chunks are stored: a
    crash in between leaves chunks the next run removes). A file's fingerprint is recorded once all its
    articles are in, so an interrupted file is read again."""
    report = IngestReport(added=p.added, updated=p.updated, unchanged=p.unchanged, failed=list(p.failed))
    for file, docs in p.gone_files.items():
        for doc_id in docs:
            _remove(ws, doc_id)
            report.removed += 1
        ws.manifest.forget_file(file)
    left = {f.file: f.jobs for f in p.files}
    by_file = {f.file: f for f in p.files}

    def finish(file: FileDone) -> None:
        for doc_id in file.vanished:
            _remove(ws, doc_id)
            report.removed += 1
        ws.manifest.set_file(file.file, file.fingerprint)

    for f in p.files:
        if f.jobs == 0:
            finish(f)
    done = 0
    groups = embedded if embedded is not None else ((group, read_jobs(group, ws)) for group in _groups(p.jobs, EMBED_GROUP_CHUNKS))
    for group, read in groups:  # `embedded`: an upload's, embedded before anything is written
        chunks = [c for job in group for c in job.chunks]
        ws.store.replace_docs([(job.article.doc_id, job.chunks, job.replaces) for job in group], read.embeddings)
        by_chunk = {c.chunk_id: v for c, v in zip(chunks, read.sentences)}
        for job in group:
            a, date = job.article, job.article.date
            ws.manifest.put_doc(DocRecord(a.doc_id, job.file, job.version, a.title, date and date.iso,
                                          date and date.precision, a.source, len(job.chunks)), chunk_terms(job.chunks),
                                {c.chunk_id: by_chunk[c.chunk_id] for c in job.chunks}, a.text,
                                read.annotations.get(a.doc_id))
            job.chunks = []  # the texts are stored; let them go
            left[job.file] -= 1
            if left[job.file] == 0:
                finish(by_file[job.file])
        done += len(group)
        if progress:
            progress(done, len(p.jobs))
    return report


def read_jobs(group: list[Job], ws: Workspace) -> Read:
    """The jobs' chunks embedded and their articles annotated, in one pass of the encoder (index/reading.py)."""
    return embed_and_annotate([(job.article.doc_id, job.article.text, job.article.date and job.article.date.iso,
                                job.chunks) for job in group], ws.embed_model)


def _groups(jobs: list[Job], size: int) -> Iterator[list[Job]]:
    """Consecutive jobs with at most `size` chunks together (a longer article alone)."""
    group: list[Job] = []
    chunks = 0
    for job in jobs:
        if group and chunks + len(job.chunks) > size:
            yield group
            group, chunks = [], 0
        group.append(job)
        chunks += len(job.chunks)
    if group:
        yield group


def _under(path: str, roots: list[Path]) -> bool:
    p = os.path.abspath(path)
    return any(p == str(r) or p.startswith(str(r) + os.sep) for r in roots)


def reconcile(ws: Workspace) -> None:
    ws.manifest.set_meta("keywords_built", "0")  # it may lag behind what the interrupted run changed
    known = {r.doc_id for r in ws.manifest.all_docs()}
    ws.store.delete_docs(sorted(ws.store.doc_ids() - known))


def _unique_id(known: Known, article: Article, file: str, taken: set[str], claimed: dict[str, str]) -> str:
    """The article's own id, unless another file already uses it (in the index, or earlier in this run):
    then the id plus a hash of the path. `claimed` maps the ids of this run to their files."""
    import hashlib

    stored = known.docs.get(article.doc_id)
    own = claimed.get(article.doc_id, file) == file
    doc_id = article.doc_id
    if doc_id in taken or not own or (stored is not None and stored[1] != file):
        doc_id = f"{article.doc_id}-{hashlib.sha256(file.encode()).hexdigest()[:6]}"
    claimed[doc_id] = file
    return doc_id


def _remove(ws: Workspace, doc_id: str) -> None:
    ws.store.delete_doc(doc_id)
    ws.manifest.drop_doc(doc_id)
