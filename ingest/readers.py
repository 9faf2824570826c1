"""Files to articles: find the files under the paths a user names, and read each format into Articles.

Every problem a file can have becomes an IngestError with one sentence saying what is wrong, so the ingest
can list it and carry on with the good files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.clean import clean_text, fold, strip_page_furniture
from ingest.dates import find_publication_date, parse_date
from ingest.html import extract_html
from ingest.model import Article, Failure

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl"}


class IngestError(Exception):
    """A file that cannot be turned into articles; the message is shown to the user as is."""


def slug(value: str) -> str:
    """An id from a name: folded, every run of other characters one hyphen ("Leipzig–Japan.txt" -> leipzig-japan)."""
    return re.sub(r"[^a-z0-9]+", "-", fold(value)).strip("-") or "article"


def discover(paths: list[Path]) -> tuple[list[Path], list[Failure]]:
    """The readable article files under paths (sorted, each once), and the paths that could not be used."""
    found: dict[Path, None] = {}
    failures: list[Failure] = []
    for path in paths:
        if not path.exists():
            failures.append(Failure(str(path), "No such file or folder."))
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                found[path] = None
            else:
                failures.append(Failure(str(path), f"Unsupported file type {path.suffix or '(none)'}; use one of {', '.join(sorted(SUFFIXES))}."))
        else:
            seen_dirs: set[tuple[int, int]] = set()
            for root, dirs, files in os.walk(path, followlinks=True, onerror=lambda e: failures.append(Failure(str(e.filename), f"Cannot read folder: {e.strerror}."))):
                st = os.stat(root)
                if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink loop: walk each real folder once
                    failures.append(Failure(root, "Symbolic link loop; skipped."))
                    dirs[:] = []
                    continue
                seen_dirs.add((st.st_dev, st.st_ino))
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    p = Path(root, name)
                    if not name.startswith(".") and p.suffix.lower() in SUFFIXES:
                        found[p] = None
    return sorted(found), failures


def decode(data: bytes, path: Path, markup: bool = False) -> str:
    """Text from bytes in whatever encoding they are (UTF-8, UTF-16 with or without BOM, Windows-1252, ISO
    8859-x, ... told by charset-normalizer); bytes that are not text at all are refused. Markup (HTML) is not
    held to the share of letters that plain text has: its tags are no letters."""
    if not data.strip():
        raise IngestError("The file is empty.")
    text = None
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 BOMs decode as neither UTF-8 nor binary
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    if text is None or "\x00" in text[:4096]:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise IngestError("The file is binary, not text.")
        text = str(best).lstrip("\ufeff")
    sample = text[:20000]
    odd = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t") or ch == "\ufffd" or 0x7f <= ord(ch) <= 0x9f)
    letters = sum(ch.isalpha() for ch in sample)
    if odd > 0.02 * len(sample) or (not markup and letters < 0.4 * len(sample.replace(" ", "").replace("\n", ""))):
        raise IngestError("The file does not look like text (wrong encoding or binary data).")
    return text


def _title_and_body(text: str, fallback: str) -> tuple[str, str]:
    """A first line that reads like a headline is the title; otherwise the article's opening words."""
    first, _, rest = text.partition("\n")
    first = first.strip()
    if first and len(first) <= 120 and not first.endswith((".", ",", ";")) and rest.strip():
        return first, text
    from ingest.sentences import split_sentences

    opening = [s for s in split_sentences(text[:600]) if len(s.split()) >= 4]  # skip datelines ("Hamburg.")
    words = (opening[0] if opening else fallback).split()
    title = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    return title, text


def _text_article(path: Path, raw: str, doc_id: str, title_hint: str | None = None, date_hint: str | None = None) -> Article:
    date, raw = find_publication_date(raw) if not date_hint else (parse_date(date_hint), raw)
    text = clean_text(raw)
    if not date:
        date, _ = find_publication_date(text)
    if len(text) < 20:
        raise IngestError("No article text found in the file.")
    title, text = (title_hint, text) if title_hint else _title_and_body(text, path.stem)
    return Article(doc_id=doc_id, title=title, text=text, source=str(path), date=date)


def _read_pdf(path: Path, data: bytes, doc_id: str) -> Article:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise IngestError("The PDF is encrypted with a password; save an unprotected copy.")
            except (NotImplementedError, PdfReadError):
                raise IngestError("The PDF is encrypted with a password; save an unprotected copy.") from None
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or None
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise IngestError(f"The PDF cannot be read ({type(exc).__name__}: {exc}).".replace("..", ".")) from None
    body = "\n\n".join(p for p in strip_page_furniture(pages) if p.strip())
    if not body.strip():
        raise IngestError("The PDF has no extractable text (a scan? run OCR first).")
    return _text_article(path, body, doc_id, title_hint=meta_title)


def _read_jsonl(path: Path, text: str) -> tuple[list[Article], list[Failure]]:
    articles, failures = [], []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            failures.append(Failure(where, f"Line {n} is not valid JSON ({exc.msg})."))
            continue
        if not isinstance(row, dict) or not str(row.get("text") or "").strip():
            failures.append(Failure(where, f"Line {n} has no 'text' field."))
            continue
        doc_id = slug(str(row.get("id") or f"{path.stem}-{n}"))
        body = clean_text(str(row["text"]))
        if not body:
            failures.append(Failure(where, f"Line {n} has no article text after cleaning."))
            continue
        date = parse_date(str(row.get("date") or "")) if row.get("date") else find_publication_date(body)[0]
        title = " ".join(str(row.get("title") or "").split()) or _title_and_body(body, doc_id)[0]
        source = str(row.get("url") or row.get("source") or where)
        articles.append(Article(doc_id=doc_id, title=title, text=body, source=source, date=date))
    return articles, failures


def read_file(path: Path, data: bytes) -> tuple[list[Article], list[Failure]]:
    """Articles in one file's bytes. Whole-file problems raise IngestError; bad lines of a JSONL file are
    returned as failures beside the good articles."""
    suffix = path.suffix.lower()
    doc_id = slug(path.stem)
    if suffix == ".pdf":
        if not data.strip():
            raise IngestError("The file is empty.")
        return [_read_pdf(path, data, doc_id)], []
    markup = suffix in (".html", ".htm")
    text = decode(data, path, markup=markup)
    if suffix == ".jsonl":
        return _read_jsonl(path, text)
    if markup:
        title, body, date = extract_html(text)
        if not body.strip():
            raise IngestError("No article text found in the page (neither trafilatura nor the plain reader found any).")
        article = _text_article(path, body, doc_id, title_hint=title or None, date_hint=date)
        return [article], []
    if suffix in (".md", ".markdown"):
        text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text, flags=re.MULTILINE)  # headings keep their words
        text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
        text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links keep their text
        text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return [_text_article(path, text, doc_id)], []


@dataclass
class Limits:
    """What a file or an article may be before it is refused unread (the ingest settings)."""

    max_file_mb: float = 64
    max_article_chars: int = 500_000


@dataclass
class Source:
    """One file under the ingested paths, read into articles."""

    path: Path
    fingerprint: str  # hash of its bytes (and the salt): a file whose fingerprint is known is not parsed again
    articles: list[Article] | None  # None: skipped, `unchanged` knew the fingerprint
    failures: list[Failure] = field(default_factory=list)  # its bad parts (JSONL lines, over-long articles)


def sources(paths: list[Path], limits: Limits | None = None, salt: bytes = b"",
            unchanged: Callable[[Path, str], bool] | None = None) -> Iterator[Source | Failure]:
    """Each article file under paths, read, in order; a Failure for each path or file that cannot be used.
    `unchanged(path, fingerprint)` true: the file is not parsed (its articles are indexed as they are)."""
    limits = limits or Limits()
    files, failures = discover(paths)
    yield from failures
    for path in files:
        try:
            too_big = _too_big(path, path.stat().st_size, limits)
            if too_big:
                yield Failure(str(path), too_big)
                continue
            data = path.read_bytes()
        except OSError as exc:
            yield Failure(str(path), f"Cannot read the file: {exc.strerror or exc}.")
            continue
        yield read_source(path, data, limits, salt, unchanged)


def read_source(path: Path, data: bytes, limits: Limits | None = None, salt: bytes = b"",
                unchanged: Callable[[Path, str], bool] | None = None) -> Source | Failure:
    """One file's bytes read as if they stood at `path` (an upload is read before it is written there)."""
    limits = limits or Limits()
    too_big = _too_big(path, len(data), limits)
    if too_big:
        return Failure(str(path), too_big)
    fingerprint = hashlib.sha256(data + salt).hexdigest()[:24]
    if unchanged and unchanged(path, fingerprint):
        return Source(path, fingerprint, None)
    try:
        articles, bad = read_file(path, data)
    except IngestError as exc:
        return Failure(str(path), str(exc))
    kept = []
    for article in articles:
        if len(article.text) > limits.max_article_chars:
            where = f"{path}:{article.doc_id}" if path.suffix.lower() == ".jsonl" else str(path)
            bad.append(Failure(where, f"The article is {len(article.text):,} characters long; the limit is "
                                      f"{limits.max_article_chars:,} (ingest.max_article_chars)."))
        else:
            kept.append(article)
    return Source(path, fingerprint, kept, bad)


def _too_big(path: Path, size: int, limits: Limits) -> str | None:
    """Why a file is refused before it is read: over max_file_mb, or a one-article text file too long to be one."""
    if size > limits.max_file_mb * 1_000_000:
        return f"The file is {size / 1_000_000:,.1f} MB; the limit is {limits.max_file_mb:g} MB (ingest.max_file_mb); not read."
    if path.suffix.lower() in (".txt", ".md", ".markdown") and size > 4 * limits.max_article_chars:
        return (f"The file is {size / 1_000_000:,.1f} MB, more text than one article can hold (ingest.max_article_chars: "
                f"{limits.max_article_chars:,} characters); not read.")
    return None


def load(paths: list[Path], limits: Limits | None = None) -> tuple[list[Article], list[Failure]]:
    """All articles under paths, and every failure (one line each)."""
    articles: list[Article] = []
    failures: list[Failure] = []
    for item in sources(paths, limits):
        if isinstance(item, Failure):
            failures.append(item)
        else:
            articles.extend(item.articles or [])
            failures.extend(item.failures)
    return articles, failures
