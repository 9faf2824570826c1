"""Dates an article mentions, resolved against its publication date: "am 13. Dezember", "im Mai 2024",
"Mitte Juli", "2006", "am Sonntag", "gestern", "am gestrigen Montag", "in der kommenden Woche", "vor drei Tagen".

Candidates are found by their German (and English) shapes; relative ones are resolved by dateparser with the
article's date as RELATIVE_BASE, after they are put into the wording dateparser reads ("kommende Woche" ->
"nächste Woche", "am gestrigen Montag" -> "gestern"); what dateparser does not read (parts of a month, a
weekday said with "am", a day without a year) is resolved here. Each date keeps its precision: day, week,
month, year.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ingest.dates import MONTH_NUMBERS

_MONTH = "|".join(sorted((m for m in MONTH_NUMBERS if m.isalpha()), key=len, reverse=True))
_WEEKDAYS = {"montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonnabend": 5,
             "sonntag": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_WEEKDAY = "|".join(_WEEKDAYS)
_PART = r"(?P<part>Anfang|Mitte|Ende|Beginn|early|mid|late)"
_COUNT = {"einem": 1, "einer": 1, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7,
          "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12}
_UNIT = r"(?P<unit>Tag|Tagen|Woche|Wochen|Monat|Monaten|Jahr|Jahren)"
# A year: after a month, a day or "im Jahr" any year of the last thousand ("im Oktober 1803", "im Jahr 1857"; Duden:
# Jahr, "im Jahr[e] 1990"; the seasons: Duden, Frühjahr, Sommer, Herbst, Winter);
# standing alone only 1900-2099, since "1500 Soldaten" is a number (the units after which it is one are below)
_YEAR = r"(?P<year>1\d\d\d|20\d\d)"
_SEASON = r"(?:Frühjahr|Frühling|Sommer|Herbst|Winter|spring|summer|autumn|fall|winter)"
_NOT_A_YEAR = r"(?!\s*(?:Euro|Dollar|Menschen|Mitglieder|Meter|km|Kilometer|Tonnen|Prozent))"

# Longest shapes first: a span taken by one is not read again by a shorter one.
_SHAPES = [
    ("range", re.compile(rf"\b(?:vom\s+)?(?P<d1>[1-9]|[12]\d|3[01])\.\s*(?:(?P<m1>{_MONTH})\.?\s+)?(?:bis(?:\s+zum)?|–|-)\s*"
                         rf"(?P<day>[1-9]|[12]\d|3[01])\.\s*(?P<month>{_MONTH})\.?(?:\s+{_YEAR})?\b", re.I)),
    ("day", re.compile(rf"\b(?:am\s+|vom\s+|bis\s+(?:zum\s+)?|zum\s+|seit\s+dem\s+)?(?:(?:{_WEEKDAY}),?\s+(?:den\s+)?)?"
                       rf"(?P<day>[1-9]|[12]\d|3[01])\.\s*(?P<month>{_MONTH})\.?(?:\s+{_YEAR})?\b", re.I)),
    ("day", re.compile(rf"\b(?P<day>0?[1-9]|[12]\d|3[01])\.(?P<mnum>0?[1-9]|1[0-2])\.{_YEAR}\b")),
    ("part", re.compile(rf"\b{_PART}\s+(?:des\s+)?(?P<month>{_MONTH})(?:\s+{_YEAR})?\b", re.I)),
    ("month", re.compile(rf"\b(?:im\s+|in\s+|seit\s+|ab\s+|und\s+)?(?P<month>{_MONTH})(?:\s+{_YEAR})?\b", re.I)),
    ("yesterday_weekday", re.compile(rf"\b(?:am\s+)?(?P<rel>gestrigen|heutigen|morgigen|vorgestrigen)\s+(?P<wd>{_WEEKDAY})\w*", re.I)),
    ("weekday", re.compile(rf"\b(?:am\s+|(?P<dir>kommenden|nächsten|vergangenen|letzten|vorigen)\s+|am\s+(?P<dir2>kommenden|nächsten|vergangenen|letzten|vorigen)\s+)?"
                           rf"(?P<wd>{_WEEKDAY})(?:abend|morgen|mittag|nachmittag|vormittag|nacht)?\b", re.I)),
    ("relative_unit", re.compile(r"\b(?:in\s+der\s+|im\s+|in\s+dieser\s+|diese[rnm]?\s+)?(?P<dir>kommenden?|nächsten?|vergangenen?|letzten?|vorigen?|dieser|diesem|diesen)\s+(?P<unit>Woche|Monat|Monats|Jahr|Jahres)\b", re.I)),
    ("ago", re.compile(rf"\b(?P<dir>vor|in|nach)\s+(?P<n>\d+|{'|'.join(_COUNT)})\s+{_UNIT}\b", re.I)),
    # a time long ago, counted back in years too many to name one ("vor 12.000 Jahren", "vor rund 66 Millionen
    # Jahren", "10,000 years ago"; Duden: "vor", Präposition, temporal: "vor drei Jahren", with its scale words
    # Tausend, Million, Milliarde): it states when, no calendar year
    ("era", re.compile(r"\bvor\s+(?:(?:rund|etwa|ungefähr|circa|ca\.|über|mehr\s+als|knapp|fast)\s+)?\d[\d.,]*\s+"
                       r"(?:(?:Millionen|Milliarden|Tausend)\s+)?Jahren\b"
                       r"|\b\d[\d.,]*\s+(?:(?:million|billion|thousand)\s+)?years\s+ago\b", re.I)),
    ("word", re.compile(r"\b(?P<word>vorgestern|gestern|heute|morgen|übermorgen|yesterday|today|tomorrow)\b", re.I)),
    # a time told by an event ("kurz nach den Präsidentschaftswahlen", "unmittelbar vor dem Gipfel"): an
    # event-anchored expression in TimeML's terms (TIMEX3 with an anchor, Pustejovsky et al. 2003); it states
    # when, which day it cannot say
    ("anchored", re.compile(r"\b(?:kurz|unmittelbar|direkt|gleich|wenige\s+Tage|shortly|just|right)\s+(?:nach|vor|before|after)\s+"
                            r"(?:de[nmrs]|die|das|einer?|the)\s+(?-i:(?:[a-zäöüß]\w*\s+)?[A-ZÄÖÜ][\w-]+|[a-z]\w+)", re.I)),
    ("year", re.compile(rf"\b(?:im|in\s+the)\s+(?:Jahre?|year)\s+(?P<year>[1-9]\d{{2,3}})\b", re.I)),
    ("year", re.compile(rf"\b(?:(?:im|in)\s+)?{_SEASON}\s+{_YEAR}\b", re.I)),
    ("year", re.compile(rf"\b(?:seit\s+|bis\s+)?(?P<year>(?:19|20)\d\d)\b{_NOT_A_YEAR}")),
    # an earlier year where nothing else is meant: in brackets after a title ("Planet of Giants (1964)",
    # "(1788)"), or after a preposition of time with no noun after it ("seit 1788", "zwischen 1618 und 1648")
    ("year", re.compile(r"(?<=\()(?P<year>1\d\d\d)(?=\))")),
    ("year", re.compile(rf"\b(?i:seit|bis|von|ab|um|zwischen|vor|nach|und|since|until|from|between|before|after|and)\s+"
                        rf"(?P<year>1\d\d\d)\b(?![.,]?\d)(?!\s+[A-ZÄÖÜ]){_NOT_A_YEAR}")),
    # or right before a word that cannot be what a number counts: a conjunction, a preposition, an article,
    # an auxiliary ("gründete 1263 während der Regierungszeit", "veröffentlichte 1795 eine zweibändige Fassung")
    ("year", re.compile(r"\b(?P<year>1\d\d\d)(?=\s+(?:während|als|nachdem|bevor|in|im|nach|vor|bei|mit|unter|wurden?|war|waren|"
                        r"hatten?|der|die|das|den|dem|des|eine?[nmrs]?|when|the|and|was|were|in|at)\b)")),
    # a decade or a century ("in den 1950er Jahren", "in den späten 1980ern", "Mitte des 18. Jahrhunderts"; Duden:
    # Jahrzehnt, "die 1920er-Jahre"; Jahrhundert; Merriam-Webster: "the 1990s", century)
    ("decade", re.compile(r"\b(?:(?:in\s+)?den\s+)?(?:(?:frühen|späten|mittleren|early|late)\s+)?(?P<year>1\d\d0|20\d0)(?:er(?:\s+Jahren?|n)?|s)\b", re.I)),
    ("century", re.compile(r"\b(?:(?:Anfang|Mitte|Ende|Beginn)\s+)?(?:(?:im|des|dem)\s+)?(?P<century>\d{1,2})\.\s+Jahrhunderts?\b"
                           r"|\b(?P<century_en>\d{1,2})(?:st|nd|rd|th)\s+century\b", re.I)),
]


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    text: str
    value: str | None  # YYYY, YYYY-MM, YYYY-MM-DD (a week: its Monday); None: relative, and no date to resolve it by
    precision: str  # day | week | month | year | decade | century (value: its first year) | event ("kurz nach der Wahl")
    relative: bool  # resolved against the article's date


def _month(m: re.Match) -> int | None:
    if m.groupdict().get("mnum"):
        return int(m["mnum"])
    name = (m.groupdict().get("month") or "").lower().rstrip(".")
    return MONTH_NUMBERS.get(name)


def _year_for(month: int, base: dt.date | None) -> int | None:
    """A month named without a year: the one nearest the article's date."""
    if base is None:
        return None
    best = min((base.year - 1, base.year, base.year + 1), key=lambda y: abs((dt.date(y, month, 15) - base).days))
    return best


def _dateparser(phrase: str, base: dt.date, future: bool) -> dt.date | None:
    import dateparser

    got = dateparser.parse(phrase, languages=["de", "en"],
                           settings={"RELATIVE_BASE": dt.datetime(base.year, base.month, base.day),
                                     "PREFER_DATES_FROM": "future" if future else "past",
                                     "RETURN_AS_TIMEZONE_AWARE": False})
    return got.date() if got else None


def find_dates(text: str, published: str | None, future_context=None) -> list[DateMention]:
    """Every date the text mentions, resolved. `published`: the article's date (YYYY[-MM[-DD]]); without it,
    relative dates ("am Dienstag", "gestern", "in der kommenden Woche") are kept unresolved (value None: the
    text states a date, which one it cannot say), and so are days without a year when the text writes no full
    date to take the year from. `future_context(start)`: whether the
    words around a position speak of the future (a bare weekday then means the next one)."""
    base = _base(published)
    exact = base is not None and len(published or "") >= 10  # a day to count days from
    # months and days named without a year: the article's year, else the year of the first full date it writes
    near = base or _first_full_date(text)
    taken: list[tuple[int, int]] = []
    out: list[DateMention] = []
    for shape, pattern in _SHAPES:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if shape == "range":
                out += _range(m, near)
                taken.append((m.start(), m.end()))
                continue
            if shape in ("decade", "century"):
                number = m.groupdict().get("year") or f"{int(m['century'] or m['century_en']) - 1:02d}00"
                out.append(DateMention(m.start(), m.end(), m.group(0), f"{int(number):04d}", shape, False))
                taken.append((m.start(), m.end()))
                continue
            if shape == "era":
                out.append(DateMention(m.start(), m.end(), m.group(0), None, "year", False))
                taken.append((m.start(), m.end()))
                continue
            if shape in ("day", "part", "month", "year"):
                got = _resolve(shape, m, near, False)
            elif not exact:
                # a weekday or "gestern" needs the article's day; with only its month, a relative week or
                # month is that month at best
                got = (f"{base.year}-{base.month:02d}", "month", True) if base and shape == "relative_unit" and \
                    m["unit"].lower().startswith("woche") else None
            else:
                got = _resolve(shape, m, base, bool(future_context and future_context(m.start())))
            if got is None and shape not in ("month", "year"):  # "am 13. November", "Mitte Juli", "am Dienstag" of no known year
                unit = (m.groupdict().get("unit") or "").lower()[:4]
                precision = "event" if shape == "anchored" else "month" if shape == "part" else _UNRESOLVED_PRECISION.get(unit, "day")
                got = (None, precision, shape != "day")
            if got is None:
                continue
            value, precision, relative = got
            taken.append((m.start(), m.end()))
            out.append(DateMention(m.start(), m.end(), m.group(0), value, precision, relative))
    return sorted(out, key=lambda d: d.start)


_UNRESOLVED_PRECISION = {"woch": "week", "mona": "month", "jahr": "year"}  # by the unit's first letters; else a day


def _first_full_date(text: str) -> dt.date | None:
    """The first date the text writes with its year ("28. November 2019", "im März 2020")."""
    m = re.search(rf"\b(?:(?P<day>[1-9]|[12]\d|3[01])\.\s*)?(?P<month>{_MONTH})\s+{_YEAR}\b", text, re.I)
    if not m:
        return None
    return dt.date(int(m["year"]), _month(m) or 1, int(m["day"]) if m["day"] else 15)


def _range(m: re.Match, near: dt.date | None) -> list[DateMention]:
    """"vom 25. bis zum 28. November 2019": its first and its last day, each over its own words."""
    month = _month(m)
    first_month = MONTH_NUMBERS.get((m["m1"] or "").lower().rstrip(".")) or month
    year = int(m["year"]) if m["year"] else _year_for(month, near) if month else None
    if not (month and first_month and year):
        return []
    try:
        start = dt.date(year if first_month <= month else year - 1, first_month, int(m["d1"]))
        end = dt.date(year, month, int(m["day"]))
    except ValueError:
        return []
    cut = m.start("day") - m.start()
    split = m.group(0)[:cut].rstrip()
    tail = re.search(r"(?:bis(?:\s+zum)?|–|-)\s*$", split)
    first_text = split[:tail.start()].rstrip() if tail else split
    return [DateMention(m.start(), m.start() + len(first_text), first_text, start.isoformat(), "day", not m["year"]),
            DateMention(m.start() + (tail.start() if tail else cut), m.end(), m.group(0)[(tail.start() if tail else cut):],
                        end.isoformat(), "day", not m["year"])]


def _base(published: str | None) -> dt.date | None:
    if not published:
        return None
    parts = [int(p) for p in published.split("-")] + [1, 1]
    try:
        return dt.date(parts[0], parts[1] or 1, parts[2] or 1)
    except ValueError:
        return None


def _resolve(shape: str, m: re.Match, base: dt.date | None, future: bool) -> tuple[str, str, bool] | None:
    g = m.groupdict()
    if shape == "day":
        month = _month(m)
        year = int(g["year"]) if g.get("year") else _year_for(month, base) if month else None
        if not (month and year):
            return None
        try:
            return dt.date(year, month, int(g["day"])).isoformat(), "day", not g.get("year")
        except ValueError:
            return None
    if shape in ("part", "month"):
        month = _month(m)
        if not month or (shape == "month" and not g.get("year") and not re.match(r"(?:im|in|seit|ab|und)\s", m.group(0), re.I)):
            return None  # a bare month name ("Mai" is also a name) counts with "im" ("im November und Dezember") or a year
        year = int(g["year"]) if g.get("year") else _year_for(month, base)
        return (f"{year}-{month:02d}", "month", not g.get("year")) if year else None
    if shape == "year":
        return f"{int(g['year']):04d}", "year", False
    if base is None:
        return None
    if shape == "word":
        shift = {"vorgestern": -2, "gestern": -1, "yesterday": -1, "heute": 0, "today": 0, "morgen": 1, "tomorrow": 1,
                 "übermorgen": 2}[g["word"].lower()]
        return (base + dt.timedelta(days=shift)).isoformat(), "day", True
    if shape == "yesterday_weekday":
        shift = {"vorgestrigen": -2, "gestrigen": -1, "heutigen": 0, "morgigen": 1}[g["rel"].lower()]
        return (base + dt.timedelta(days=shift)).isoformat(), "day", True
    if shape == "weekday":
        wanted = _WEEKDAYS[g["wd"].lower()]
        direction = (g.get("dir") or g.get("dir2") or "").lower()
        ahead = direction in ("kommenden", "nächsten") or (not direction and future)
        days = (wanted - base.weekday()) % 7
        if ahead:
            day = base + dt.timedelta(days=days or 7)
        else:
            day = base - dt.timedelta(days=(base.weekday() - wanted) % 7 or (7 if direction else 0))
        return day.isoformat(), "day", True  # the article's own weekday is that day ("am Sonntag" in Sunday's paper)
    if shape == "relative_unit":
        direction, unit = g["dir"].lower(), g["unit"].lower().rstrip("s")
        step = 1 if direction.startswith(("kommende", "nächste")) else -1 if direction.startswith(("vergangene", "letzte", "vorige")) else 0
        if unit.startswith("woche"):
            monday = base - dt.timedelta(days=base.weekday()) + dt.timedelta(weeks=step)
            return monday.isoformat(), "week", True
        if unit.startswith("monat"):
            month_index = base.year * 12 + base.month - 1 + step
            return f"{month_index // 12}-{month_index % 12 + 1:02d}", "month", True
        return str(base.year + step), "year", True
    if shape == "ago":
        n = int(g["n"]) if g["n"].isdigit() else _COUNT[g["n"].lower()]
        sign = -1 if g["dir"].lower() == "vor" else 1
        unit = g["unit"].lower()
        phrase = f"{'vor' if sign < 0 else 'in'} {n} {unit}"
        got = _dateparser(phrase, base, sign > 0)
        if got is None:
            days = {"tag": 1, "woche": 7, "monat": 30, "jahr": 365}[_unit_key(unit)]
            got = base + dt.timedelta(days=sign * n * days)
        precision = "day" if unit.startswith("tag") else "week" if unit.startswith("woche") else \
            "month" if unit.startswith("monat") else "year"
        value = got.isoformat() if precision in ("day", "week") else f"{got.year}-{got.month:02d}" if precision == "month" else str(got.year)
        return value, precision, True
    return None


def _unit_key(unit: str) -> str:
    for k in ("tag", "woche", "monat", "jahr"):
        if unit.startswith(k):
            return k
    return "tag"
