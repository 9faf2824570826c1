"""List, count and "who led which" questions, answered from the trip register for every backend.

Top-k passages cannot answer "Welche Delegationen waren 2019 in Israel?" or "Wie viele Reisen führten nach
Asien?": the answer is spread over articles. The register holds every trip as a record whose fields cite
their words, so the answer names each matching trip with a marker [n] pointing at the passage its evidence
stands in. A question about one trip ("Welche Städte besuchte die Berliner Delegation?") is not one of these:
it names whose trip it is, and goes through retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answer import Citation, Draft, refusal
from assistant.answerer import Prepared, Settled
from assistant.question import Question
from assistant.register_question import TripQuestion
from index.retrieve import Passage
from ingest import gazetteer
from trips.model import STATUS_WORDS, Mention, Trip
from trips.register import TripFilter, TripRegister, dates_of


class RegisterAnswerer(Settled):
    """The strategy for list, count and "who led which" questions (`Question.register`): the register's trips,
    not passages. `passage(chunk_id)` gives the passage an evidence stands in."""

    def __init__(self, register: TripRegister, passage: Callable[[str], Passage | None]):
        self.register = register
        self.passage = passage

    def answer(self, p: Prepared) -> Draft:
        draft = answer(p.trips, p.q, self.register, self.passage)
        p.retrieval.passages = [c.passage for c in draft.citations]  # what was looked at: the cited passages
        return draft


def leader_quotes(q: Question, register: TripRegister) -> dict[str, list[str]]:
    """For "who led / who came along" about a trip the register holds ("Who led the Hamburg delegation to
    Israel?"): the words its leaders (or participants) were read from, by article; the sentences holding them
    answer the question. A place the question names is where the trip went or where it came from; every
    place it names must be one of the two."""
    wanted = q.predicate_concepts & {"lead", "participate"} or ({"lead"} if "lead" in q.concepts else set())
    places = [t for t in q.critical if t.place]
    if q.kind != "who" or not wanted or not places:
        return {}
    found: dict[str, Trip] = {}
    for term in places:
        for trip in register.trips(TripFilter(to=term.word)):
            found[trip.id] = trip
    quotes: dict[str, list[str]] = {}
    for trip in found.values():
        if not all(TripFilter(to=t.word).admits(trip) or _came_from(trip, t.place) for t in places):
            continue
        for m in (trip.leaders if "lead" in wanted else []) + (trip.participants if "participate" in wanted else []):
            quotes.setdefault(m.evidence.doc_id, []).append(m.evidence.quote)
    return quotes


def _came_from(trip: Trip, place: str) -> bool:
    """The trip's origin is this place (a place id: "Hamburger Delegation", "the Hamburg delegation")."""
    if trip.origin is None:
        return False
    origin = trip.origin.value.get("id") or getattr(gazetteer.place(trip.origin.value.get("place", "")), "id", None)
    return origin == place


def answer(tq: TripQuestion, q: Question, register: TripRegister, passage: Callable[[str], Passage | None]) -> Draft:
    """The trips the question selects, each named with its evidence cited; the refusal when there are none.
    `passage(chunk_id)` gives the passage an evidence stands in."""
    trips = register.trips(tq.where)
    de = q.lang == "de"
    if not trips:
        what = tq.asked or ("dazu" if de else "for this")
        reason = f"Das Reiseregister enthält keine Reise {what}." if de else f"The trip register holds no trip {what}."
        draft = refusal(q.lang, generation="trip_register")
        draft.text += f" ({reason.replace('→ ', 'nach ' if de else 'to ')})"
        return draft
    n = len(trips)
    if tq.position is not None:  # one trip of the list the conversation gave: "Wer war der erste davon?"
        if tq.position >= n:
            return _not_in_list(q.lang, n, tq.position)
        trips = [trips[tq.position]]
    citations: dict[str, Citation] = {}

    def cite(mention: Mention | None) -> str:
        if mention is None:
            return ""
        chunk_id = mention.evidence.chunk_id
        if chunk_id not in citations:
            p = passage(chunk_id)
            if p is None:
                return ""
            citations[chunk_id] = Citation(len(citations) + 1, p, [])
        citation = citations[chunk_id]
        sentence = _sentence_at(citation.passage.text, mention.evidence.quote)
        if sentence and sentence not in citation.quotes:
            citation.quotes.append(sentence)
        return f"[{citation.n}]"

    if tq.kind == "places":
        cities = bool(_CITIES.search(q.text))
        parts = [_places(t, de, cite, cities) for t in trips]
    else:
        parts = [_describe(t, tq.kind, de, _once(cite)) for t in trips]
    if de:
        head = f"Die Artikel nennen {n} {'Reise' if n == 1 else 'Reisen'}" + (f" ({_german(tq.asked)})" if tq.asked else "")
    else:
        head = f"The articles report {n} {'trip' if n == 1 else 'trips'}" + (f" ({_english(tq.asked)})" if tq.asked else "")
    if tq.position is not None:
        head += f"; {'die' if de else 'the'} {_ORDINAL_WORDS['de' if de else 'en'][tq.position]}"
    head += ":"
    text = head + " " + " ".join(f"• {p}" for p in parts)  # bullets, not numbers: the count is the only number
    return Draft(text, False, sorted(citations.values(), key=lambda c: c.n), generation="trip_register")


# how an answer says a trip's place in the list (assistant/register_question.py ORDINALS)
_ORDINAL_WORDS = {"de": {0: "erste", 1: "zweite", 2: "dritte", 3: "vierte", 4: "fünfte", -1: "letzte"},
                  "en": {0: "first", 1: "second", 2: "third", 3: "fourth", 4: "fifth", -1: "last"}}


def _not_in_list(lang: str, n: int, position: int) -> Draft:
    draft = refusal(lang, generation="trip_register")
    word = _ORDINAL_WORDS[lang if lang in _ORDINAL_WORDS else "en"][position]
    draft.text += (f" (Die Liste nennt nur {n} {'Reise' if n == 1 else 'Reisen'}, keine {word}.)" if lang == "de" else
                   f" (The list has only {n} {'trip' if n == 1 else 'trips'}, no {word}.)")
    return draft


def _once(cite: Callable[[Mention | None], str]) -> Callable[[Mention | None], str]:
    """A marker only where it differs from the one just written: "nach Israel [1], geleitet von X (2019-08)"."""
    last = {"mark": None}

    def mark(mention: Mention | None) -> str:
        m = cite(mention)
        if not m or m == last["mark"]:
            return ""
        last["mark"] = m
        return m

    return mark


_CITIES = re.compile(r"\b(?:städte|staedte|cities)\b", re.IGNORECASE)


def _places(trip: Trip, de: bool, cite: Callable[[Mention | None], str], cities: bool = False) -> str:
    """The places a trip went to, each cited, and whose trip it was. Asked for cities, a trip whose articles
    name only a country or region says so ("Israel (kein Ort genannt)") instead of passing it off as a city."""
    unnamed = " (kein Ort genannt)" if de else " (no city named)"
    places = ", ".join(f"{m.value['place']}{unnamed if cities and m.value.get('kind') != 'city' else ''} {cite(m)}".strip()
                       for m in trip.destinations)
    who = trip.delegation.value["name"] if trip.delegation else ""
    origin = trip.origin.value["place"] if trip.origin else ""
    whose = " ".join(x for x in (who, f"{'aus' if de else 'from'} {origin}" if origin else "") if x)
    return f"{places} ({whose})." if whose else f"{places}."


def _describe(trip: Trip, kind: str, de: bool, cite: Callable[[Mention | None], str]) -> str:
    """One trip in a sentence: who (and under whom, with whom), where to, when, and whether it was only
    announced, postponed or cancelled; each with its marker. A trip of one person or group that is no
    delegation is named by its traveller ("Guttenberg nach Kunduz"), not as a delegation they led."""
    leaders = ", ".join(dict.fromkeys(m.value["name"] for m in trip.leaders))
    # the leader of a trip that is no delegation's is the one who travelled; where they came from is not said
    # then (for a delegation the article names it: "Delegation aus Dresden", "Berliner Delegation")
    traveller = not trip.delegation and leaders and trip.kind != "delegation"
    if traveller:
        who, who_mark = leaders, cite(trip.leaders[0])
    else:
        who = trip.delegation.value["name"] if trip.delegation else (trip.origin.value["place"] if trip.origin else "")
        if trip.origin and trip.origin.value.get("place") and trip.origin.value["place"] not in who:
            who = f"{who} ({'aus' if de else 'from'} {trip.origin.value['place']})" if who else trip.origin.value["place"]
        who_mark = cite(trip.delegation or trip.origin)
    places = ", ".join(dict.fromkeys(m.value["place"] for m in trip.destinations))
    places_mark = cite(trip.destinations[0])
    leader_mark = cite(trip.leaders[0]) if trip.leaders and not traveller else ""
    along = ", ".join(dict.fromkeys(m.value["name"] for m in trip.participants))
    along_mark = cite(trip.participants[0]) if trip.participants else ""
    start, _ = dates_of(trip)
    if trip.start:
        when = trip.start if trip.end in (None, trip.start) else f"{trip.start} – {trip.end}"
        when_mark = cite(trip.when)
    else:
        when = f"{'Artikel vom' if de else 'article of'} {start}" if start else ""
        when_mark = ""
    subject = f"{who} {who_mark}".strip() if who else ("Eine Delegation" if de else "A delegation")
    text = f"{subject} {'nach' if de else 'to'} {places} {places_mark}".strip()
    if leaders and not traveller:
        text += f", {'geleitet von' if de else 'led by'} {leaders} {leader_mark}".rstrip()
    elif kind == "leaders" and not traveller:
        text += ", die Leitung nennen die Artikel nicht" if de else ", the articles name no leader"
    if along:
        text += f", {'mit' if de else 'with'} {along} {along_mark}".rstrip()
    if when:
        text += f" ({when}) {when_mark}".rstrip()
    if trip.status != "made":  # a trip made needs no word
        text = text.rstrip(".") + f" – {STATUS_WORDS['de' if de else 'en'][trip.status]}"
    return text.rstrip(".") + "."


def _sentence_at(text: str, quote: str) -> str:
    """The sentence of a passage that holds the quoted words."""
    from ingest.sentences import split_sentences

    return next((s for s in split_sentences(text) if quote and quote in s), "")


def _german(asked: str) -> str:
    return asked.replace("→ ", "nach ")


def _english(asked: str) -> str:
    return asked.replace("→ ", "to ")

