"""A trip as data: who travelled where, when and with whom, each field with the passage it comes from.

Every value carries its evidence: the article, the chunk, and the offsets of the words it was read from in
the article's text as indexed, with `quote == article_text[start:end]`. Evidence is computed by code from
offsets, never taken from a model: an extractor proposes values, `ground` finds them in the text or drops them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ingest.annotate import Annotation
from ingest.model import Chunk


STATUSES = ("made", "announced", "postponed", "cancelled")  # what became of a trip (Trip.status)
# how answers and the register table say a status, in German and English
STATUS_WORDS = {"de": {"made": "durchgeführt", "announced": "angekündigt", "postponed": "verschoben", "cancelled": "abgesagt"},
                "en": {"made": "made", "announced": "announced", "postponed": "postponed", "cancelled": "cancelled"}}


@dataclass(frozen=True)
class Evidence:
    doc_id: str
    chunk_id: str
    start: int
    end: int
    quote: str

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "chunk_id": self.chunk_id, "start": self.start, "end": self.end, "quote": self.quote}


@dataclass
class Mention:
    """One value of a field (a leader, a destination, the date) and where it stands."""

    value: dict  # e.g. {"name": "Uwe Albrecht", "role": "Wirtschaftsbürgermeister"}
    evidence: Evidence

    def to_json(self) -> dict:
        return {**self.value, **self.evidence.to_json()}

    def key(self) -> str:
        """What makes two mentions the same value (for merging one trip reported by several articles)."""
        main = next(iter(self.value.values()), "")
        return re.sub(r"\W+", " ", str(main).lower()).strip()


@dataclass
class Trip:
    doc_ids: list[str]
    extractor: str  # rules | llm
    delegation: Mention | None = None  # {"name"}
    origin: Mention | None = None  # {"place", "country"}
    leaders: list[Mention] = field(default_factory=list)  # {"name", "role"}
    participants: list[Mention] = field(default_factory=list)  # {"name", "role_or_org"}
    destinations: list[Mention] = field(default_factory=list)  # {"place", "country", "kind": city|region|country}
    start: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD
    end: str | None = None
    precision: str = "unknown"  # day | month | year | unknown
    when: Mention | None = None  # the words the dates were read from
    purpose: list[Mention] = field(default_factory=list)  # {"text"}
    outcomes: list[Mention] = field(default_factory=list)  # {"text"}
    published: str | None = None  # the article's date: a trip without a date of its own is filed under it
    kind: str = "delegation"  # delegation | official | business | other: who travels
    status: str = "made"  # one of STATUSES

    @property
    def id(self) -> str:
        first = min((m.evidence for m in self.destinations), key=lambda e: (e.doc_id, e.start), default=None)
        seed = f"{first.doc_id}:{first.start}" if first else ",".join(self.doc_ids)
        return "trip-" + hashlib.sha256(seed.encode()).hexdigest()[:10]

    @property
    def countries(self) -> set[str]:
        return {m.value.get("country") for m in self.destinations if m.value.get("country")}

    def mentions(self) -> list[Mention]:
        singles = [m for m in (self.delegation, self.origin, self.when) if m]
        return singles + self.leaders + self.participants + self.destinations + self.purpose + self.outcomes

    def to_json(self) -> dict:
        def one(m: Mention | None):
            return m.to_json() if m else None

        return {"id": self.id, "doc_ids": self.doc_ids, "delegation": one(self.delegation), "origin": one(self.origin),
                "leaders": [m.to_json() for m in self.leaders], "participants": [m.to_json() for m in self.participants],
                "destinations": [m.to_json() for m in self.destinations], "start": self.start, "end": self.end,
                "precision": self.precision, "when": one(self.when), "purpose": [m.to_json() for m in self.purpose],
                "outcomes": [m.to_json() for m in self.outcomes], "extractor": self.extractor, "published": self.published,
                "kind": self.kind, "status": self.status}

    @classmethod
    def from_json(cls, d: dict) -> Trip:
        def one(x):
            return _mention(x) if x else None

        return cls(d["doc_ids"], d["extractor"], one(d.get("delegation")), one(d.get("origin")),
                   [_mention(x) for x in d.get("leaders", [])], [_mention(x) for x in d.get("participants", [])],
                   [_mention(x) for x in d.get("destinations", [])], d.get("start"), d.get("end"),
                   d.get("precision", "unknown"), one(d.get("when")), [_mention(x) for x in d.get("purpose", [])],
                   [_mention(x) for x in d.get("outcomes", [])], d.get("published"), d.get("kind", "delegation"),
                   d.get("status", "made"))


_EVIDENCE_KEYS = ("doc_id", "chunk_id", "start", "end", "quote")


def _mention(d: dict) -> Mention:
    return Mention({k: v for k, v in d.items() if k not in _EVIDENCE_KEYS}, Evidence(*(d[k] for k in _EVIDENCE_KEYS)))


@dataclass
class Source:
    """An article as extractors read it: its text as indexed and its chunks (with their offsets into it)."""

    doc_id: str
    title: str
    text: str
    date: str | None
    chunks: list[Chunk]
    annotation: Annotation | None = None  # what the annotator read in the text (ingest/annotate.py)

    def evidence(self, start: int, end: int) -> Evidence:
        """The evidence for text[start:end], with the chunk that holds it (the first, where chunks overlap)."""
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        chunk = next((c for c in self.chunks if c.offset <= start and end <= c.offset + len(c.text)),
                     next((c for c in self.chunks if c.offset <= start < c.offset + len(c.text)), None))
        return Evidence(self.doc_id, chunk.chunk_id if chunk else f"{self.doc_id}#0", start, end, self.text[start:end])

    def find(self, value: str, near: int = 0) -> tuple[int, int] | None:
        """Where value stands in the text, compared without case, hyphens or spacing ("Wirtschafts-Delegation"
        finds "Wirtschaftsdelegation"), the occurrence nearest to `near`; None when it is not there."""
        folded, index = _searchable(self.text)
        wanted = _searchable(value)[0]
        if len(wanted) < 2:
            return None
        hits = [m.start() for m in re.finditer(re.escape(wanted), folded)]
        if not hits:
            return None
        at = min(hits, key=lambda h: abs(index[h] - near))
        return index[at], index[at + len(wanted) - 1] + 1


def _searchable(text: str) -> tuple[str, list[int]]:
    """Text lowercased without hyphens and white space, with the position in the original of each character."""
    out, index = [], []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in "-‐–—­":
            continue
        out.append(ch.lower())
        index.append(i)
    return "".join(out), index
