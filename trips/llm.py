"""The model extractor: a language model proposes the trips as schema-constrained JSON; code keeps only what
stands in the article.

The model is asked for every value as the article writes it (prompts/trips_de.txt). Each proposed value is
then looked for in the article's text (case, hyphens and spacing aside); found, it gets its evidence from the
offsets; not found, it is dropped and counted. A date is kept only when the phrase stands in the article and
reads as a date. A reply that is not JSON, or empty, loses that article's proposals (counted), never the
ingest. Only articles the rule extractor's cheap filter takes for trip reports are sent to the model, so a
corpus of sports news costs no model calls.
"""

from __future__ import annotations

import json
import re

import pycountry

from index.places import country_of, kind_of, place_spans
from index.terms import words
from prompts import render
from trips.model import Mention, Source, Trip
from trips.rules import _dated_year, date_of, looks_like_a_trip_report

_PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "role": {"type": "string"}}, "required": ["name"]}
_MEMBER = {"type": "object", "properties": {"name": {"type": "string"}, "role_or_org": {"type": "string"}}, "required": ["name"]}
_PLACE = {"type": "object", "properties": {"place": {"type": "string"}, "country": {"type": "string"}}, "required": ["place"]}
SCHEMA = {
    "type": "object",
    "properties": {"trips": {"type": "array", "items": {
        "type": "object",
        "properties": {
            "delegation": {"type": "string"}, "origin": {"type": "string"},
            "leaders": {"type": "array", "items": _PERSON}, "participants": {"type": "array", "items": _MEMBER},
            "destinations": {"type": "array", "items": _PLACE}, "date": {"type": "string"},
            "purpose": {"type": "array", "items": {"type": "string"}}, "outcomes": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["destinations"]}}},
    "required": ["trips"],
}
MAX_ARTICLE_CHARS = 12_000  # what fits the prompt of a small local model beside the instructions


class LLMExtractor:
    name = "llm"
    version = "1"

    def __init__(self, model):
        """`model`: anything with `chat_json(messages, schema) -> str` (assistant.llms.Model)."""
        self.model = model
        self.calls = 0  # model calls made, for the figures

    def extract(self, source: Source) -> tuple[list[Trip], int]:
        if not looks_like_a_trip_report(source.text):
            return [], 0
        lang = "de"
        prompt = render("trips", lang, title=source.title, date=source.date or "unbekannt", text=source.text[:MAX_ARTICLE_CHARS])
        self.calls += 1
        try:
            reply = self.model.chat_json([("user", prompt)], SCHEMA)
        except Exception:  # the model failed for this article: nothing from it, the ingest goes on
            return [], 1
        return ground(reply, source)


def ground(reply: str, source: Source) -> tuple[list[Trip], int]:
    """The proposed trips with every value found in the article and given its evidence; the number dropped."""
    try:
        proposed = json.loads(_json_part(reply)).get("trips", [])
        if not isinstance(proposed, list):
            raise ValueError
    except (ValueError, AttributeError):
        return [], 1
    trips, dropped = [], 0
    for item in proposed:
        if not isinstance(item, dict):
            dropped += 1
            continue
        trip = Trip([source.doc_id], "llm", published=source.date)
        for d in _items(item.get("destinations")):
            found = source.find(str(d.get("place", "")))
            if not found:
                dropped += 1
                continue
            written = source.text[found[0]:found[1]]
            spans = place_spans(words(written))
            place = spans[0][2] if spans else None
            country = (country_of(place) if place else None) or _iso(d.get("country"))
            trip.destinations.append(Mention({"place": written, "country": country, "kind": kind_of(place) if place else "region",
                                              "id": place}, source.evidence(*found)))
        if not trip.destinations:
            continue  # a trip nowhere in the article is no trip
        near = trip.destinations[0].evidence.start
        for field, key, extra in (("leaders", "name", "role"), ("participants", "name", "role_or_org")):
            for person in _items(item.get(field)):
                found = source.find(str(person.get(key, "")), near)
                if not found:
                    dropped += 1
                    continue
                role = str(person.get(extra, "") or "")
                if role and not source.find(role, found[0]):
                    dropped += 1
                    role = ""
                getattr(trip, field).append(Mention({"name": source.text[found[0]:found[1]], extra: role}, source.evidence(*found)))
        for field in ("delegation", "origin"):
            value = item.get(field)
            if value:
                found = source.find(str(value), near)
                if found:
                    written = source.text[found[0]:found[1]]
                    spans = place_spans(words(written))
                    extra = {"country": country_of(spans[0][2]) if spans else None} if field == "origin" else {}
                    setattr(trip, field, Mention({"name" if field == "delegation" else "place": written, **extra},
                                                 source.evidence(*found)))
                else:
                    dropped += 1
        for field in ("purpose", "outcomes"):
            for text in item.get(field) or []:
                found = source.find(str(text), near)
                if found:
                    getattr(trip, field).append(Mention({"text": source.text[found[0]:found[1]]}, source.evidence(*found)))
                else:
                    dropped += 1
        if item.get("date"):
            found = source.find(str(item["date"]), near)
            when = date_of(source.text[found[0]:found[1]], source.date, _dated_year(source.text)) if found else None
            if when:
                trip.start, trip.end, trip.precision = when
                trip.when = Mention({"text": source.text[found[0]:found[1]]}, source.evidence(*found))
            else:
                dropped += 1
        trips.append(trip)
    return trips, dropped


def _items(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _iso(code) -> str | None:
    code = str(code or "").strip().upper()
    return code if len(code) == 2 and pycountry.countries.get(alpha_2=code) else None


def _json_part(reply: str) -> str:
    """The JSON object in a reply (models sometimes wrap it in a code fence or a sentence)."""
    m = re.search(r"\{.*\}", reply or "", re.DOTALL)
    if not m:
        raise ValueError("no JSON object")
    return m.group(0)
