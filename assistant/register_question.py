"""What a question asks of the trip register: a list, a count, who led which, or the places visited, of the
trips it selects (places, several joined by "oder"/"und"; a continent; a year or date). Part of the one
analysis of a question (assistant/question.py `analyse`); a question about one trip ("Welche Städte besuchte die
Berliner Delegation?") names whose trip it is and is none of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.concepts import concepts_of
from index.places import continent_named
from index.terms import words
from ingest.annotate import lexicon
from ingest.clean import fold
from trips.model import STATUS_WORDS
from trips.register import TripFilter

_TRIP_NOUN = r"(?:\w*delegation(?:en)?|\w*reisen?|besuche|trips?|delegations?|visits|journeys)"
_LIST = re.compile(rf"^\W*(?:und\s+)?(?:welche|which|what)\s+(?:\w+\s+)?{_TRIP_NOUN}\b", re.IGNORECASE)
_COUNT = re.compile(rf"\b(?:wie\s+viele|how\s+many)\s+(?:\w+\s+)?{_TRIP_NOUN}\b", re.IGNORECASE)
_WHO_LED = re.compile(r"\b(?:wer\s+(?:hat\s+)?(?:leitete|führte|fuehrte|angeführt|angefuehrt|geleitet)\s+welche|"
                      r"who\s+(?:led|headed)\s+(?:which|what)|wer\s+hat\s+welche\s+\w+\s+(?:angeführt|geleitet|geführt)|"
                      r"and\s+who\s+(?:led|headed)\s+them|und\s+wer\s+(?:leitete|führte)\s+sie)\b", re.IGNORECASE)
# "Welche Minister besuchten 2010 Afghanistan?", "Which ministers visited Japan?": who went, across the register
# (the plural verb, German "-en", or the plural noun, English "-s", says several travellers are asked for;
# "Welche Firmen besuchte die Delegation?" asks what one delegation visited). The verb is one of travelling or
# visiting (ingest/lexicon/de/concepts.yaml); "mit"/"with" after it asks who came along on one trip.
_WHO_TRAVELLED_DE = re.compile(r"^\W*(?:[Uu]nd\s+)?[Ww]elche\s+(?:[a-zäöüß][\w-]*\s+)?[A-ZÄÖÜ][\w-]*\s+(\w+en)\b(?!\s+mit\b)")
_WHO_TRAVELLED_EN = re.compile(r"^\W*(?:and\s+)?(?:which|what)\s+(?:\w+\s+)?\w+s\s+(\w+)\b(?!\s+with\b)(?!.*\bwith\b)",
                               re.IGNORECASE)
_PLACES_VISITED = re.compile(r"^\W*(?:welche|which)\s+(?:städte|staedte|orte|länder|laender|cities|places|countries)\s+"
                             r"(?:wurden|were|haben|have)\b", re.IGNORECASE)


@dataclass
class TripQuestion:
    """What a question asks of the register."""

    kind: str  # list | count | leaders | places
    where: TripFilter
    asked: str  # how the answer names the selection: "nach Israel", "2019"
    position: int | None = None  # one trip of the list, by its place in it (0: the first, -1: the last)


def trip_question(q) -> TripQuestion | None:
    """The register question an analysed question (assistant.question.Question, which holds the answer as its
    `register`) is, or None when it is about one trip or not about trips at all."""
    text = q.text
    kind = "leaders" if _WHO_LED.search(text) else "count" if _COUNT.search(text) else \
        "places" if _PLACES_VISITED.search(text) else "list" if _LIST.search(text) else None
    if kind is None and _who_travelled(text, q.lang):
        kind = "list"
    if kind is None:
        return None
    people = [t for t in q.critical if t.names]
    demonyms = [t for t in q.critical if t.place and fold(t.word).endswith(("er", "ern"))]  # "die Berliner Delegation"
    if people or (demonyms and kind != "count"):
        return None  # it names whose trip: one trip's facts, for retrieval
    places = list(dict.fromkeys(t.word for t in q.critical if t.place))  # "nach China oder Japan": each of them
    to = places[0] if len(places) == 1 else None if places else _continent(text)
    year = int(q.period.iso[:4]) if q.period and q.period.precision == "year" else None
    date_from = date_to = None
    if q.period and q.period.precision != "year":
        date_from = date_to = q.period.iso
    where = TripFilter(to=to, to_any=tuple(places) if len(places) > 1 else (), year=year, date_from=date_from,
                       date_to=date_to)
    joined = " oder ".join(places) if q.lang == "de" else " or ".join(places)
    where_to = to or (joined if len(places) > 1 else None)
    asked = " ".join(x for x in (f"→ {where_to}" if where_to else "", str(year) if year else (q.period.iso if q.period else "")) if x)
    return with_status(TripQuestion(kind, where, asked), asked_status(text), q.lang)


def with_status(tq: TripQuestion, status: str | None, lang: str, kind: str | None = None) -> TripQuestion:
    """The register question narrowed to trips of one status, the status said in how the answer names the
    selection; for a follow-up ("Welche davon wurden nur angekündigt?" after "Wie viele Reisen …?"), `kind`
    is the follow-up's own: a list or a count."""
    if status is None:
        return tq
    said = STATUS_WORDS[lang][status]
    return replace(tq, kind=kind or tq.kind, where=replace(tq.where, status=status),
                   asked=f"{tq.asked}, {said}" if tq.asked else said)


# One of the trips a list answer named, by its place in the list (the register lists them by date): "Wer war
# der erste davon?", "Und die letzte?", "Who led the second of them?" (Duden: Ordinalzahl — erste, zweite, dritte,
# vierte, fünfte; letzte; Merriam-Webster: first, second, third, fourth, fifth, last), matched in the folded text.
_GERMAN_ORDINALS = {"erst": 0, "zweit": 1, "dritt": 2, "viert": 3, "fuenft": 4, "letzt": -1}  # stems: erste, ersten ...
_ENGLISH_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1}
ORDINALS = {**_GERMAN_ORDINALS, **_ENGLISH_ORDINALS}
_ORDINAL = re.compile(rf"\b({'|'.join(_GERMAN_ORDINALS)})e[nmrs]?\b|\b({'|'.join(_ENGLISH_ORDINALS)})\b")


def asked_position(text: str) -> int | None:
    """The place in a list a follow-up asks about ("der erste davon" -> 0, "the last one" -> -1), or None."""
    m = _ORDINAL.search(fold(text).lower())
    return ORDINALS[m.group(1) or m.group(2)] if m else None


def at_position(tq: TripQuestion, position: int) -> TripQuestion:
    """The list question narrowed to one of its trips, by its place in the list."""
    return replace(tq, kind="list", position=position)


@lru_cache(maxsize=1)
def _status_cues() -> list[tuple[str, re.Pattern]]:
    return [(e["status"], re.compile(r"\b" + r"\s+".join(map(re.escape, cue.split())))) for e in lexicon("status_asked")
            for cue in e["cues"]]


def asked_status(text: str) -> str | None:
    """The status of trip a question asks for (ingest/lexicon/de/status_asked.yaml): "Welche Reisen wurden
    abgesagt?" -> cancelled; None when it asks for none."""
    folded = fold(text).lower()
    return next((status for status, cue in _status_cues() if cue.search(folded)), None)


def _who_travelled(text: str, lang: str) -> bool:
    """The question asks which travellers went somewhere ("Welche Politiker besuchten 2010 Afghanistan?"), not
    which places ("Welche Städte besuchten sie?": the places of one trip)."""
    m = (_WHO_TRAVELLED_EN if lang == "en" else _WHO_TRAVELLED_DE).match(text)
    if m is None or not concepts_of(m.group(1)) & {"travel", "visit"}:
        return False
    return not _PLACE_NOUN.search(text[:m.start(1)])


# the nouns of places a which-question asks for (Duden: Stadt, Ort, Land, Region; Merriam-Webster: city, place,
# country, region; as ingest/lexicon/de/question_slots.yaml has them for the evidence check)
_PLACE_NOUN = re.compile(r"\b(?:städte|staedte|orte|länder|laender|regionen|cities|places|countries|regions)\b", re.IGNORECASE)


def _continent(text: str) -> str | None:
    tokens = words(text)
    for width in (2, 1):
        for i in range(len(tokens) - width + 1):
            name = " ".join(tokens[i:i + width])
            if continent_named(name):
                return name
    return None


def within(tq: TripQuestion, filters) -> TripQuestion:
    """The register question narrowed to what the chat's or the API's filters (index.retrieve.Filters) admit:
    trips reported in the chosen articles, in the chosen date range (where the question names a period too,
    the later start and the earlier end)."""
    start = max(filter(None, [tq.where.date_from, filters.date_from]), key=lambda d: _padded(d, "-01-01"), default=None)
    end = min(filter(None, [tq.where.date_to, filters.date_to]), key=lambda d: _padded(d, "-12-31"), default=None)
    return replace(tq, where=replace(tq.where, docs=tuple(filters.doc_ids), date_from=start, date_to=end))


def _padded(iso: str, fill: str) -> str:
    """A date of any precision as a day for comparing: "2019-11" from -> 2019-11-01, to -> 2019-11-31."""
    return iso + fill[len(iso) - 4:]
