"""The data ingest hands to the index: clean articles and the chunks cut from them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PubDate:
    """A publication date as precise as the article gives it: '2019-08' has month precision."""

    iso: str  # YYYY, YYYY-MM or YYYY-MM-DD
    precision: str  # "year" | "month" | "day"

    @property
    def first_day(self) -> int:
        """The earliest day the date can mean, as YYYYMMDD (for range filters)."""
        parts = self.iso.split("-") + ["01", "01"]
        return int("".join(parts[:3]))

    @property
    def last_day(self) -> int:
        y, *rest = self.iso.split("-")
        if self.precision == "year":
            return int(f"{y}1231")
        if self.precision == "month":
            return int(f"{y}{rest[0]}31")
        return self.first_day


@dataclass
class Article:
    doc_id: str
    title: str
    text: str
    source: str  # file path or URL the user can follow
    date: PubDate | None = None
    hash: str = ""

    def __post_init__(self):
        if not self.hash:
            self.hash = content_hash(f"{self.title}\n{self.date and self.date.iso}\n{self.source}\n{self.text}")


@dataclass
class Chunk:
    chunk_id: str  # "<doc_id>#<n>": stable, so re-ingesting the same article is idempotent
    doc_id: str
    ordinal: int
    text: str  # the article's own words, as shown and quoted
    title: str
    source: str
    date: PubDate | None
    article_hash: str
    spans: list[tuple[int, int]] = field(default_factory=list)  # its sentences, as offsets into text
    offset: int = 0  # where its text starts in the article's text

    @property
    def sentences(self) -> list[str]:
        return [self.text[a:b] for a, b in self.spans]

    @property
    def embed_text(self) -> str:
        return indexed_text(self.title, self.date.iso if self.date else "", self.text)


@dataclass
class Failure:
    path: str
    error: str  # one sentence a user can act on


def indexed_text(title: str, date_iso: str, text: str) -> str:
    """What the embedder and keyword index see: a chunk with its article's title and date as context."""
    head = f"{title} ({date_iso})" if date_iso else title
    return f"{head}\n{text}"
