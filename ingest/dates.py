"""Publication dates from article text and metadata, kept at the precision the source gives.

Recognised: ISO (2019-08, 2020-09-17, with a leading `date` label), German (17. September 2020,
17.09.2020, September 2020), English (September 17, 2020) and magazine issue footers (12 | 2024).
"""

from __future__ import annotations

import re

from ingest.model import PubDate

MONTH_NUMBERS = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1, "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mär": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11, "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

_ISO = re.compile(rf"\b{_YEAR}-(?P<mnum>0[1-9]|1[0-2])(?:-(?P<day>0[1-9]|[12]\d|3[01]))?(?![\d-])")
_GERMAN_DAY = re.compile(rf"\b(?P<day>[1-9]|[12]\d|3[01])\.\s*{_MONTH}\s+{_YEAR}\b", re.IGNORECASE)
_NUMERIC_DAY = re.compile(rf"\b(?P<day>0?[1-9]|[12]\d|3[01])\.(?P<mnum>0?[1-9]|1[0-2])\.{_YEAR}\b")
_ENGLISH_DAY = re.compile(rf"\b{_MONTH}\s+(?P<day>[1-9]|[12]\d|3[01]),\s*{_YEAR}\b", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+{_YEAR}\b", re.IGNORECASE)
_ISSUE = re.compile(rf"\b(?P<mnum>0?[1-9]|1[0-2])\s*\|\s*{_YEAR}\s*$")
_LABEL = re.compile(r"^\s*(?:date|datum|veröffentlicht|published|stand)\s*:?\s*", re.IGNORECASE)


def _build(m: re.Match) -> PubDate | None:
    g = m.groupdict()
    year = int(g["year"])
    month = int(g["mnum"]) if g.get("mnum") else MONTH_NUMBERS.get((g.get("month") or "").lower().rstrip("."))
    if not month:
        return PubDate(f"{year:04d}", "year")
    if g.get("day"):
        return PubDate(f"{year:04d}-{month:02d}-{int(g['day']):02d}", "day")
    return PubDate(f"{year:04d}-{month:02d}", "month")


def parse_date(value: str) -> PubDate | None:
    """A date written anywhere in value (metadata fields: '2020-09-17', '17. September 2020', '2019')."""
    value = value.strip()
    for pattern in (_ISO, _GERMAN_DAY, _NUMERIC_DAY, _ENGLISH_DAY, _MONTH_YEAR, _ISSUE):
        m = pattern.search(value)
        if m:
            return _build(m)
    if re.fullmatch(_YEAR, value):
        return PubDate(value, "year")
    return None


def find_publication_date(text: str) -> tuple[PubDate | None, str]:
    """The publication date stated in an article's header lines or issue footer, and the text with a
    pure date label (`date 2019-08`) removed. Dates of events inside the body are not publication dates."""
    lines = text.split("\n")
    for i, line in enumerate(lines[:6]):
        label = _LABEL.match(line)
        head = line[label.end():] if label else line
        m = _ISO.match(head.strip()) if label else None
        if m:  # "date 2019-08 Hamburg. ..." : a metadata label glued to the text
            rest = head.strip()[m.end():].lstrip()
            lines[i] = rest
            return _build(m), "\n".join(lines).lstrip("\n")
        stripped = line.strip()
        if stripped and len(stripped) <= 40:
            for pattern in (_GERMAN_DAY, _NUMERIC_DAY, _ENGLISH_DAY, _ISO, _MONTH_YEAR):
                m = pattern.fullmatch(stripped) or (label and pattern.search(stripped))
                if m:
                    return _build(m), text
    tail = text.rstrip()[-200:]
    m = _ISSUE.search(tail)
    if m:
        return _build(m), text
    return None, text


_ANY_YEAR = re.compile(rf"(?<![\d.-]){_YEAR}(?![\d-])")


def date_named(text: str) -> PubDate | None:
    """The month or year a question asks about ('im November 2024', '2019', '2024-11'), or None."""
    for pattern in (_ISO, _GERMAN_DAY, _NUMERIC_DAY, _ENGLISH_DAY, _MONTH_YEAR):
        m = pattern.search(text)
        if m:
            return _build(m)
    m = _ANY_YEAR.search(text)
    return PubDate(m.group("year"), "year") if m else None
