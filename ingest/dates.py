"""Publication dates from article text and metadata, kept at the precision the source gives.

Recognised: ISO (2019-08, 2020-09-17, with a leading `date` label), German (17. September 2020,
17.09.2020, September 2020), English (September 17, 2020) and magazine issue footers (12 | 2024).
"""

from __future__ import annotations

import re

from ingest.model import PubDate

# Month names as articles and questions write them: German (with the Austrian Jänner) and English, in full ...
MONTHS = {
    "januar": 1, "jänner": 1, "january": 1, "februar": 2, "february": 2, "märz": 3, "maerz": 3, "march": 3,
    "april": 4, "mai": 5, "may": 5, "juni": 6, "june": 6, "juli": 7, "july": 7, "august": 8, "september": 9,
    "oktober": 10, "october": 10, "november": 11, "dezember": 12, "december": 12,
}
# ... and abbreviated (in dates only: "Jan" and "Mar" are also words).
MONTH_NUMBERS = MONTHS | {
    "jan": 1, "feb": 2, "mär": 3, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sept": 9, "sep": 9,
    "okt": 10, "oct": 10, "nov": 11, "dez": 12, "dec": 12,
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")\.?"
YEAR = r"(?P<year>(?:19|20)\d\d)"

ISO = re.compile(rf"\b{YEAR}-(?P<mnum>0[1-9]|1[0-2])(?:-(?P<day>0[1-9]|[12]\d|3[01]))?(?![\d-])")
GERMAN_DAY = re.compile(rf"\b(?P<day>[1-9]|[12]\d|3[01])\.\s*{_MONTH}\s+{YEAR}\b", re.IGNORECASE)
NUMERIC_DAY = re.compile(rf"\b(?P<day>0?[1-9]|[12]\d|3[01])\.(?P<mnum>0?[1-9]|1[0-2])\.{YEAR}\b")
ENGLISH_DAY = re.compile(rf"\b{_MONTH}\s+(?P<day>[1-9]|[12]\d|3[01]),\s*{YEAR}\b", re.IGNORECASE)
MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+{YEAR}\b", re.IGNORECASE)
_ISSUE = re.compile(rf"\b(?P<mnum>0?[1-9]|1[0-2])\s*\|\s*{YEAR}\s*$")
_LABEL = re.compile(r"^\s*(?:date|datum|veröffentlicht|published|stand)\s*:?\s*", re.IGNORECASE)


def build_date(m: re.Match) -> PubDate | None:
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
    for pattern in (ISO, GERMAN_DAY, NUMERIC_DAY, ENGLISH_DAY, MONTH_YEAR, _ISSUE):
        m = pattern.search(value)
        if m:
            return build_date(m)
    if re.fullmatch(YEAR, value):
        return PubDate(value, "year")
    return None


def find_publication_date(text: str) -> tuple[PubDate | None, str]:
    """The publication date stated in an article's header lines or issue footer, and the text with a
    pure date label (`date 2019-08`) removed. Dates of events inside the body are not publication dates."""
    lines = text.split("\n")
    for i, line in enumerate(lines[:6]):
        label = _LABEL.match(line)
        head = line[label.end():] if label else line
        m = ISO.match(head.strip()) if label else None
        if m:  # "date 2019-08 Hamburg. ..." : a metadata label glued to the text
            rest = head.strip()[m.end():].lstrip()
            lines[i] = rest
            return build_date(m), "\n".join(lines).lstrip("\n")
        stripped = line.strip()
        if stripped and len(stripped) <= 40:
            for pattern in (GERMAN_DAY, NUMERIC_DAY, ENGLISH_DAY, ISO, MONTH_YEAR):
                m = pattern.fullmatch(stripped) or (label and pattern.search(stripped))
                if m:
                    return build_date(m), text
    tail = text.rstrip()[-200:]
    m = _ISSUE.search(tail)
    if m:
        return build_date(m), text
    return None, text
