"""The rule extractor: trips read from German (and English) travel reports without a model.

A sentence speaks of travel when it has a travel word (reiste, Reise nach, Delegation(sreise), besuchte,
Aufenthalt in, zu Gast in, Gespräche in, trip, visited ...). Its destinations are the places that follow a
direction (nach, in, to; "Israel-Reise"), or continue a list that does ("nach New York, Boston und Los
Angeles"), and are not where the delegation comes from. One trip per destination country, unless one
travel phrase in the singular names several ("eine Reise nach Paris und Brüssel"). Leaders come from
"von X geleitete", "unter Leitung von X", "Delegation mit X, Y und Z" (X), "X, der mit einer Delegation
reist"; participants from "Teilnehmer waren ...", "mit dabei waren ...", "begleitet von ...", "haben sich
angemeldet", "teilnimmt"; dates from the travel sentences, resolved against the article's date ("in der
kommenden Woche", "im November"). In an article with several trips, a value belongs to the trip whose
destination was named last before it (a section about China, then one about Israel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.people import ROLE_WORDS, people_in
from index.places import country_of, gazetteer, is_demonym, kind_of, place_name, place_spans
from index.terms import STOPWORDS
from ingest.clean import fold, fold_accents
from ingest.dates import MONTHS
from ingest.sentences import sentence_spans
from trips.model import Mention, Source, Trip

_WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]|[^\w\s]")
_TRAVEL_WORD = re.compile(r"\w*delegation\w*|\w*reise|\w*reisen|reiste\w*|gereist|reist|\w*besuchs?|besuchte\w*|besucht|"
                          r"bereist\w*|aufenthalt\w*|zwischenstopp|aufgebrochen|eingetroffen|geflogen|flog|landete|"
                          r"visit\w*|trips?|travel\w*|mission|journey")
# Words that look like travel and are not: "Einreise", "Reisende", "Reisebüro", "Besucher", "besuchen" (die Schule).
_NOT_TRAVEL = re.compile(r"\w*delegationsleit\w*|\w*delegationschef\w*|"  # a role, not a trip: "ÖVP-Delegationsleiter"
                         r"(?:ein|aus|durch|zu|weiter|nach|urlaubs|ferien|pauschal|bahn|zug)reise\w*|reisend\w*|reise(?:bu|spez|warn|"
                         r"veranst|versich|kosten|pass|zeit|ziel|gepaeck|wetter)\w*|besucher\w*|besuchen|"
                         r"(?:kranken|haus|schul|kino|stadion|museums|konzert|messe)besuch\w*")


class _Travel:
    """Whether a (folded) sentence speaks of a delegation's or an official's travel."""

    def search(self, folded: str) -> bool:
        tokens = re.findall(r"[a-z]+(?:-[a-z]+)*", folded)
        parts = [p for t in tokens for p in [t.replace("-", "")] + t.split("-")[1:]]  # "israel-reise": israelreise, reise
        return any(_TRAVEL_WORD.fullmatch(t) and not _NOT_TRAVEL.fullmatch(t) for t in parts) or \
            any(p in folded for p in ("zu gast in", "gespraeche in", "unterwegs in"))


_TRAVEL = _Travel()
_DIRECTION = {"nach", "in", "im", "ins", "to", "into", "zur", "zum", "richtung", "bis"}
_LIST_GLUE = {",", "und", "sowie", "and", "der", "die", "den", "region", "regionen", "stadt", "städte", "städten", "in",
              "metropole", "hauptstadt", "wirtschaftsregion", "the", "city", "cities", "of", "auch"}
_PLURAL_TRIP = re.compile(r"\b(?:zwei|drei|vier|fünf|mehrere|\d+)\s+\w*reisen\b|\b\w*reisen\s+nach\b|\btrips\b", re.IGNORECASE)
_DELEGATION_WORD = re.compile(r"\b[\w-]*[Dd]elegation(?!sreise)\b[\w-]*|\bdelegation\b", re.IGNORECASE)
_LEAD = [
    re.compile(r"\bvon\s+(?P<who>[^,.;]{3,80}?)\s+(?:geleitete|angeführte|angefuehrte)\b"),
    re.compile(r"\bunter\s+(?:der\s+)?(?:Leitung|Führung|Fuehrung)\s+(?:von\s+|des\s+|der\s+)?(?P<who>[^,.;]{3,80})"),
    re.compile(r"\b(?:angeführt|angefuehrt|geleitet|geführt|gefuehrt)\s+(?:von|vom)\s+(?P<who>[^,.;]{3,80})"),
    re.compile(r"\b(?:led|headed)\s+by\s+(?P<who>[^,.;]{3,80})"),
    re.compile(r"(?P<who>[A-ZÄÖÜ][^,.;]{2,60}?)\s+(?:leitete|führte|fuehrte|leads|led|headed)\s+(?:die|eine|the|a)\b"),
    re.compile(r"[Dd]elegation\s+(?:um|mit)\s+(?:dem|der|den)?\s*(?P<who>[^.;]{3,120})"),
    re.compile(r"(?P<who>[A-ZÄÖÜ][\w.-]+(?:\s+[A-ZÄÖÜ][\w.-]+){0,3}),\s+der\s+mit\s+(?:einer|der)\s+[^.;]{0,40}[Dd]elegation"),
]
_TAKE_PART = re.compile(r"\b(?:Teilnehmer(?:innen)?\s+(?:der\s+\w+\s+)?(?:waren|sind)|Teil\s+der\s+[\w-]+\s+Delegation\s+(?:sind|waren|ist|war)|[Zz]ur\s+Delegation\s+geh\w+|[Mm]it\s+dabei\s+(?:waren|sind|war|ist)|"
                        r"begleitet\s+(?:von|wurde|wurden)|[Bb]egleitet\s+wurde|haben\s+sich\s+[^.]{0,320}angemeldet|"
                        r"teilnimmt|teilnahmen|nahmen\s+[^.]{0,80}\s+teil|nahm\s+[^.]{0,80}\s+teil|war\s+vertreten|waren\s+vertreten|"
                        r"accompanied\s+by|took\s+part|participants\s+(?:were|included))")
_PURPOSE = re.compile(r"\b(?:Themen?|Schwerpunkt|im\s+Mittelpunkt|Fokus|ging\s+es\s+um|Ziel(?:setzung)?|zusammenbringen|"
                      r"focus|aim|purpose|topics?)\b", re.IGNORECASE)
_OUTCOME = re.compile(r"\b(?:unterzeichne\w*|unterschrieb\w*|Kooperationsvereinbarung|Absichtserklärung|Abkommen|Vertrag|"
                      r"signed|agreement)\b|(?:Dependance|Niederlassung|Büro|Repräsentanz|Vertretung|Filiale|office|branch)\b[^.]{0,120}"
                      r"\b(?:eröffne\w*|eingeweiht|opened)\b|\b(?:eröffne\w*|opened)\b[^.]{0,60}(?:Dependance|Niederlassung|Büro|"
                      r"Repräsentanz|office|branch)", re.IGNORECASE)
_RELATIVE = {"in der kommenden woche": 7, "kommende woche": 7, "in der nächsten woche": 7, "nächste woche": 7,
             "in der vergangenen woche": -7, "vergangene woche": -7, "in der letzten woche": -7, "letzte woche": -7,
             "next week": 7, "last week": -7}
# Days relative to the article's date: "am gestrigen Montag", "gestern", "heute", "yesterday".
_RELATIVE_DAY = re.compile(r"\b(?:am\s+)?(?P<word>gestrigen|gestern|heutigen|heute|vorgestern|morgigen|morgen|yesterday|today|tomorrow)"
                           r"(?:\s+(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag)\w*)?", re.IGNORECASE)
_DAY_SHIFT = {"gestrigen": -1, "gestern": -1, "yesterday": -1, "vorgestern": -2, "heutigen": 0, "heute": 0, "today": 0,
              "morgigen": 1, "morgen": 1, "tomorrow": 1}
_DAY_RANGE = re.compile(r"\b[Vv]om\s+(?P<d1>\d{1,2})\.\s*(?:(?P<m1>[A-Za-zäöü]+)\s+)?(?:bis\s+(?:zum\s+)?)(?P<d2>\d{1,2})\.\s*"
                        r"(?P<m2>[A-Za-zäöü]+)(?:\s+(?P<y>(?:19|20)\d\d))?")
_DAY = re.compile(r"\b(?:am\s+)?(?P<d>\d{1,2})\.\s*(?P<m>[A-Za-zäöü]+)(?:\s+(?P<y>(?:19|20)\d\d))?")
_MONTH = re.compile(r"\b(?:im\s+|in\s+)?(?P<m>" + "|".join(sorted((m for m in MONTHS if m.isalpha()), key=len, reverse=True)) +
                    r")(?:\s+(?P<y>(?:19|20)\d\d))?\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:im\s+Jahr\s+|in\s+)?(?P<y>(?:19|20)\d\d)\b")


@dataclass
class _Place:
    start: int
    end: int
    place: str
    country: str | None
    kind: str
    sentence: tuple[int, int]


class RuleExtractor:
    name = "rules"
    version = "5"  # raised when the rules change, so the next ingest reads every article again

    def extract(self, source: Source) -> list[Trip]:
        text = source.text
        sentences = sentence_spans(text)
        origin = _origin(source, sentences)
        travel = [s for s in sentences if _TRAVEL.search(fold(text[s[0]:s[1]])) and not _CALLED_OFF.search(text[s[0]:s[1]])]
        destinations = [p for s in travel for p in _destinations(text, s)
                        if not origin or p.place != origin[2]]
        destinations = [p for p in destinations if p.country != (origin[3] if origin else None) or p.kind != "country"]
        if not destinations:
            return []
        groups = _group(text, destinations)
        trips = [Trip([source.doc_id], self.name, published=source.date) for _ in groups]
        for trip, group in zip(trips, groups):
            for p in group:
                if p.place not in {m.value.get("id") for m in trip.destinations}:
                    trip.destinations.append(Mention({"place": text[p.start:p.end], "country": p.country, "kind": p.kind,
                                                      "id": p.place}, source.evidence(p.start, p.end)))
            _most_specific(trip)
            if origin:  # "Berliner" in the text, Berlin as the value
                name = place_name(origin[2]) if not origin[2].startswith("region:") else text[origin[0]:origin[1]]
                trip.origin = Mention({"place": name, "country": origin[3]}, source.evidence(origin[0], origin[1]))
        anchors = _anchors(text, sentences, groups)

        def owner(at: int) -> Trip:
            """The trip a value at this offset belongs to: the one whose place was named last before it."""
            if len(trips) == 1:
                return trips[0]
            before = [i for start, i in anchors if start <= at]
            return trips[before[-1] if before else min(anchors, key=lambda a: abs(a[0] - at))[1]]

        known = _surnames(text)
        for a, b in sentences:
            sentence = text[a:b]
            for value, field, (start, end) in _people(sentence, a, known):
                trip = owner(start)
                target = trip.leaders if field == "leader" else trip.participants
                if not any(m.key() == fold(value["name"]).lower() or fold(m.value["name"]) == fold(value["name"])
                           for m in trip.leaders + trip.participants):
                    target.append(Mention(value, source.evidence(start, end)))
            if _PURPOSE.search(sentence) and _TRAVEL.search(fold(sentence)) or re.search(r"\bThem(?:a|en)\b", sentence):
                owner(a).purpose.append(Mention({"text": sentence}, source.evidence(a, b)))
            if _OUTCOME.search(sentence) and not sentence.endswith("?"):
                owner(a).outcomes.append(Mention({"text": sentence}, source.evidence(a, b)))
        for trip, group in zip(trips, groups):
            if not trip.leaders:  # "NASA-Chef Michael Griffin ist zu einem Besuch nach China aufgebrochen": who travels leads
                _traveller(trip, source, group, known)
        for i, (trip, group) in enumerate(zip(trips, groups)):
            _delegation(trip, source, group)
            own = [sp for sp in sentences if owner(sp[0]) is trip or sp in {p.sentence for p in group}]
            _dates(trip, source, own, group, {start for start, index in anchors if index == i})
        return [t for t, group in zip(trips, groups) if _official(t, [text[a:b] for a, b in {p.sentence for p in group}])]


# Visits only officials make: a state visit is an official's trip, whoever the article names for it.
_OFFICIAL_VISIT = re.compile(r"\b(?:Staats|Antritts|Arbeits|Regierungs)besuch\w*|\bStaatsreise\w*|\b(?:state|official)\s+visit",
                             re.IGNORECASE)


def _official(trip: Trip, sentences: list[str]) -> bool:
    """A delegation's or an official's trip, not a football club's or a tourist's: the article names a
    delegation, a leader with a role, a group of people or organisations that came along, or the trip's
    sentences call it a state visit and name who made it."""
    named_delegation = trip.delegation is not None and "delegation" in fold(trip.delegation.value["name"])
    state_visit = bool(trip.leaders) and any(_OFFICIAL_VISIT.search(s) for s in sentences)
    return named_delegation or state_visit or any(m.value.get("role") for m in trip.leaders) or len(trip.participants) >= 2


def _traveller(trip: Trip, source: Source, group: list[_Place], known: dict[str, str]) -> None:
    """The person a trip's first travel sentence names as the one who travels: in the clause before its destination
    the one nearest to it ("NASA-Chef Michael Griffin ist nach China aufgebrochen"), else the first before it,
    else the first after it ("Zu Besuch in Sarajevo stellte Außenminister
    Sebastian Kurz klar"), else, when a pronoun travels ("Er betonte bei einem Besuch in Kiew", "Bei einem Besuch
    in Zacatecas verkündete er"), the last person the sentence before names. A surname the article gave in full
    earlier counts as that person ("sagte Davutoğlu")."""
    first = min(group, key=lambda p: p.start)
    a, b = first.sentence
    text = source.text
    taken = {m.value["name"] for m in trip.participants}
    clause = a + max(text.rfind(mark, a, first.start) + 1 - a for mark in ",;:–")  # "…, nachdem Strache auf Staatsbesuch in Israel"
    for lo, hi, pick in ((max(a, clause), first.start, -1), (a, first.start, 0), (first.end, b, 0)):
        named = [n for n in _named(text[lo:hi], known) if n[0] not in taken and
                 not (lo == first.end and _HOST.search(text[max(lo, lo + n[1] - 40):lo + n[1]]))]
        if named:
            _add_leader(trip, source, known, named[pick][0], lo + named[pick][1], (a, b))
            return
    if re.match(r"\s*(?:Er|Sie)\b", text[a:b]) or re.search(r"\ber\b", text[a:b]):
        for pa, pb in [sp for sp in sentence_spans(text) if sp[1] <= a][-1:]:
            named = [n for n in _named(text[pa:pb], known) if n[0] not in taken]
            if named:
                _add_leader(trip, source, known, named[-1][0], pa + named[-1][1], (pa, pb))
                return


# Whom the traveller meets, not who travels: "… nach Österreich kommen und Gespräche mit Ministerin X führen".
_HOST = re.compile(r"\b(?:mit|traf\w*|trifft|treffen|empf\w+|bei|von|with|met|meets)\b[^.]{0,30}$", re.IGNORECASE)


def _named(segment: str, known: dict[str, str]) -> list[tuple[str, int]]:
    """The people a stretch of text names, with where each stands in it, in order: full names, and surnames the
    article named in full elsewhere."""
    found = [(n, segment.find(n)) for n in people_in(segment)]
    surnames = {fold_accents(k) for k in known}
    for m in re.finditer(r"[A-ZÄÖÜ][\w'’-]+", segment):
        if fold_accents(m.group(0)) in surnames and not any(at <= m.start() < at + len(n) for n, at in found):
            found.append((m.group(0), m.start()))
    return sorted((f for f in found if f[1] >= 0), key=lambda f: f[1])


def _add_leader(trip: Trip, source: Source, known: dict[str, str], name: str, at: int, sentence: tuple[int, int]) -> None:
    a, b = sentence
    text = source.text
    full = next((v for k, v in known.items() if fold_accents(k) == fold_accents(name)), name) if " " not in name else name
    role = _role(text[a:b], at - a, at - a + len(name))
    if not role and full != name:  # the role stands where the article names the person in full
        where = next(((sa, sb) for sa, sb in sentence_spans(text) if full in text[sa:sb]), None)
        if where:
            offset = text.find(full, where[0]) - where[0]
            role = _role(text[where[0]:where[1]], offset, offset + len(full))
    trip.leaders.append(Mention({"name": full, "role": role}, source.evidence(at, at + len(name))))


def _anchors(text: str, sentences, groups: list[list[_Place]]) -> list[tuple[int, int]]:
    """(offset, trip index) of every mention of a trip's places or countries, headings included: the section
    a value stands in tells which trip it is about."""
    out = []
    for a, b in sentences:
        tokens, offsets = _tokens(text, a, b)
        for i, j, place in place_spans(tokens):
            country = country_of(place)
            for index, group in enumerate(groups):
                if any(place == p.place or (country and country == p.country) for p in group):
                    out.append((offsets[i][0], index))
    return sorted(out)


def _surnames(text: str) -> dict[str, str]:
    """Family name -> full name, for every person the article names in full."""
    out = {}
    for name in people_in(text):
        out.setdefault(name.split()[-1], name)
    return out


def _origin(source: Source, sentences) -> tuple[int, int, str, str | None] | None:
    """Where the delegation comes from: a demonym before the delegation word ("Berliner Delegation"), "aus X"
    beside it, or else the German place the article names most."""
    text = source.text
    for m in re.finditer(r"\b(?P<place>[A-ZÄÖÜ][\w-]+?)(?:er|ern|s)?\s+(?:[\w-]+\s+)?[\w-]*[Dd]elegation", text):
        spans = place_spans([m.group(0).split()[0]])
        if spans:
            word_end = m.start() + len(m.group(0).split()[0])
            return m.start(), word_end, spans[0][2], country_of(spans[0][2])
    for m in re.finditer(r"\b(?:[Dd]elegation|Unternehmen|Firmen|Vertreter\w*)\s+aus\s+(?:der\s+|dem\s+)?"
                         r"(?P<place>(?:Metropole|Region|Metropolregion|Landkreis|Kreis|Raum)\s+[A-ZÄÖÜ]\w+|[A-ZÄÖÜ]\w+)\b", text):
        spans = place_spans(m.group("place").split())
        if spans or m.group("place").split()[0] in ("Metropole", "Region", "Metropolregion", "Landkreis", "Kreis", "Raum"):
            place = spans[0][2] if spans else f"region:{fold(m.group('place'))}"
            return m.start("place"), m.end("place"), place, country_of(place) if spans else "DE"
    counts: dict[str, list[tuple[int, int]]] = {}
    for a, b in sentences:
        tokens, offsets = _tokens(text, a, b)
        for i, j, place in place_spans(tokens):
            if country_of(place) == "DE" and not place.startswith("country:"):
                counts.setdefault(place, []).append((offsets[i][0], offsets[j - 1][1]))
    if counts:
        place, where = max(counts.items(), key=lambda kv: len(kv[1]))
        if len(where) >= 2:
            return where[0][0], where[0][1], place, "DE"
    return None


def _tokens(text: str, a: int, b: int) -> tuple[list[str], list[tuple[int, int]]]:
    matches = [m for m in re.finditer(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:[-'’][^\W\d_]+)*", text[a:b])]
    return [m.group(0) for m in matches], [(a + m.start(), a + m.end()) for m in matches]


# A trip called off is no trip: "sagt seine Reise wegen des Terrors ab", "der Besuch wurde abgesagt".
_CALLED_OFF = re.compile(r"\b(?:abgesagt|abgebrochen|storniert|cancel\w*|call(?:ed)? off)\b|"
                         r"\bsagt(?:e|en)?\b[^.;]{0,80}\b(?:Reise|Besuch|Visite)\w*[^.;]{0,60}\bab\b", re.IGNORECASE)
TRAVEL_REACH = 15  # words between a travel word and a destination it sends the delegation to, at most


def _destinations(text: str, sentence: tuple[int, int]) -> list[_Place]:
    """The places a travel sentence sends the delegation to (module docstring)."""
    a, b = sentence
    tokens, offsets = _tokens(text, a, b)
    out: list[_Place] = []
    folded = [fold(t) for t in tokens]
    travel_at = [k for k, t in enumerate(folded) if _TRAVEL.search(t)] + \
        [k for k in range(len(folded) - 2) if " ".join(folded[k:k + 2]) in ("zu gast", "unterwegs") or folded[k].startswith("gespraech")]
    previous_end = None
    for i, j, place in place_spans(tokens):
        word = tokens[i]
        before = [t.lower() for t in tokens[max(0, i - 3):i]]
        directed = any(t in _DIRECTION for t in before) or any(re.fullmatch(r"besucht\w*|visit\w*|bereist\w*", t) for t in before)
        compound = "-" in word and any(part.lower().startswith(("reise", "besuch", "delegation")) for part in word.split("-")[1:]) \
            or re.search(r"(reise|besuch)$", fold(word)) is not None
        listed = previous_end is not None and i - previous_end <= 4 and all(t.lower() in _LIST_GLUE for t in tokens[previous_end:i]) \
            and not re.search(r",\s*(?:die|der|das|den|dem)\s", text[offsets[previous_end - 1][1]:offsets[i][0]])
        # ("in Kiew, die Türkei setze ...": a new clause, not a list of destinations)
        after = [t.lower() for t in tokens[j:j + 2]]
        returning = "zurück" in after or "heim" in after or "back" in after  # "kehrte nach Khartum zurück"
        # Near a travel word and in its clause: not "… G-20-Gipfel … im türkischen Antalya" far from the visit, nor
        # "bei einem Besuch in Kiew, die Türkei setze keine Truppen in Syrien ein" (another clause).
        near = any(abs(i - k) <= TRAVEL_REACH and "," not in text[min(offsets[i][0], offsets[k][0]):max(offsets[i][0], offsets[k][0])]
                   for k in travel_at)
        if ((directed and near) or compound or listed) and not is_demonym(word) and not returning:  # "nach Leipzig", not "die Leipziger"
            start, end = offsets[i][0], offsets[j - 1][1]
            if compound:  # "Israel-Reise", "Israelbesuch": the place is the word's first part
                names = gazetteer()
                cut = next((k for k in range(len(word) - 1, 2, -1) if fold(word[:k].rstrip("-")) in names), len(word))
                end = start + len(word[:cut].rstrip("-"))
            out.append(_Place(start, end, place, country_of(place), kind_of(place), sentence))
            previous_end = j
    return out


def _group(text: str, places: list[_Place]) -> list[list[_Place]]:
    """One trip per destination country; several countries in one travel phrase in the singular are one trip."""
    by_country: dict[str, list[_Place]] = {}
    for p in places:
        by_country.setdefault(p.country or p.place, []).append(p)
    groups = list(by_country.values())
    merged: list[list[_Place]] = []
    for group in groups:
        sentence = text[group[0].sentence[0]:group[0].sentence[1]]
        joined = next((m for m in merged if m[0].sentence == group[0].sentence and not _PLURAL_TRIP.search(sentence)), None)
        if joined is not None:
            joined.extend(group)
        else:
            merged.append(group)
    return merged


def _most_specific(trip: Trip) -> None:
    """A country is dropped as a destination when cities of it are named: "New York, Boston" not also "USA"."""
    city_countries = {m.value["country"] for m in trip.destinations if m.value["kind"] == "city"}
    trip.destinations = [m for m in trip.destinations if m.value["kind"] != "country" or m.value["country"] not in city_countries]


def _role_after(sentence: str, end: int) -> str:
    """An apposition after a name: "Rasmus C. Beck, Geschäftsführer der Business Metropole Ruhr GmbH,", not the
    next name of a list nor a relative clause."""
    m = re.match(r"\s*(?:,\s*|\()(?P<role>[^,():„“\"]{3,90})[,)]", sentence[end:])
    if not m:
        return ""
    role = m.group("role").strip()
    if re.match(r"(?:der|die|das|den|dem|which|who|that)\b", role) or people_in(role) or \
            not any(r in fold(role) for r in ROLE_WORDS + ("manager", "gesellschaft", "gmbh", "vorsitz")):
        return ""
    return role


_FORWARD = re.compile(r"Teilnehmer|Teil\s+der|[Zz]ur\s+Delegation|[Mm]it\s+dabei|accompanied|participants")  # the people follow the cue
_BOTH_WAYS = re.compile(r"[Bb]egleitet")  # "von X begleitet wurde", "Begleitet wurde er von X"


def _people(sentence: str, offset: int, known: dict[str, str]):
    """(value, "leader" | "participant", (start, end)) for the people a sentence says led or came along.
    `known`: surname -> full name, for a leader named by the surname alone ("Westhagemann, der mit einer
    großen Delegation reist")."""
    leaders: list[tuple[int, int, str]] = []
    for pattern in _LEAD:
        for m in pattern.finditer(sentence):
            who = m.group("who")
            names = people_in(who) or [w for w in re.findall(r"[A-ZÄÖÜ][\w-]+", who) if w in known][:1]
            at = sentence.find(names[0], m.start("who")) if names else -1
            if at >= 0 and not any(a <= at < b for a, b, _ in leaders):
                leaders.append((at, at + len(names[0]), known.get(names[0], names[0])))
                if pattern.pattern.startswith("[Dd]elegation"):  # "Delegation mit A, B und C": A leads, the others come along
                    break
    out = []
    for at, end, name in leaders:
        out.append(({"name": name, "role": _role(sentence, at, end)}, "leader", (offset + at, offset + end)))
    cue = _TAKE_PART.search(sentence)
    listed = re.search(r"[Dd]elegation\s+mit\s+", sentence)
    if cue or listed:
        forward = listed is not None or _FORWARD.match(cue.group(0)) is not None
        scope = (listed.end(), len(sentence)) if listed else (0, len(sentence)) if _BOTH_WAYS.match(cue.group(0)) else \
            (cue.start(), len(sentence)) if forward else (0, cue.end())
        led = {n for _, _, n in leaders} | {sentence[a:b] for a, b, _ in leaders}
        for name in people_in(sentence[scope[0]:scope[1]]):
            at = sentence.find(name, scope[0])
            if at < 0 or name in led or known.get(name.split()[-1], name) in led:
                continue
            out.append(({"name": name, "role_or_org": _role(sentence, at, at + len(name))}, "participant",
                        (offset + at, offset + at + len(name))))
        if cue:
            for org, (a, b) in _organisations(sentence, cue, forward):
                if not any(org in n or n in org for n in people_in(sentence)):
                    out.append(({"name": org, "role_or_org": "organisation"}, "participant", (offset + a, offset + b)))
    return out


def _role(sentence: str, at: int, end: int) -> str:
    """A name's role: an apposition after it ("Rasmus C. Beck, Geschäftsführer der ..."), else the role words
    before it ("Wirtschaftsbürgermeister Uwe Albrecht", "der Präsident der ... Gesellschaft Leipzig, Roy Richter")."""
    after = _role_after(sentence, end)
    if after:
        return after
    before = sentence[:at]
    segments = before.rsplit(",", 2)
    close = re.split(r"\b(?:sowie|und|and)\b", segments[-1])[-1]  # "... IHK-Hauptgeschäftsführer " before "Jan Eder"
    if _has_role(close):
        return _from_role(close)
    if len(segments) > 1 and not segments[-1].strip():  # "der Präsident der ... Gesellschaft Leipzig, Roy Richter"
        part = re.split(r"\b(?:sowie|und|mit)\b", segments[-2])[-1]
        if _has_role(part) and not people_in(part):
            return _from_role(part)
    return ""


def _from_role(segment: str) -> str:
    """The segment from its last role word on: "Vorstandschef der Reederei Hamburg Süd" of "an der auch der
    Vorstandschef der Reederei Hamburg Süd"."""
    tokens = segment.split()
    last = max(i for i, t in enumerate(tokens) if _has_role(t))
    kept = [tokens[last]]
    for t in tokens[last + 1:]:  # "Vorstandschef der Reederei Hamburg Süd", not "Bundespräsident machte"
        if not (t[:1].isupper() or t in ("der", "des", "die", "für", "von", "vom", "und", "&")):
            break
        kept.append(t)
    return " ".join(kept).strip(" ,()")


def _has_role(text: str) -> bool:
    return any(r in fold(text) for r in ROLE_WORDS) or re.search(r"\b(?:Dr|Prof)\.", text) is not None


_ITEM_LEAD = re.compile(r"^(?:(?:unter\s+anderem|u\.\s*a\.|auch|beispielsweise|zum\s+Beispiel|die|der|das|des|dem|den|ein|eine|einer|"
                        r"Vertreter(?:innen)?|Vertretern)\s+)+", re.IGNORECASE)
_ORG_HINT = re.compile(r"(?:GmbH|\bAG\b|\bSE\b|e\.\s?V\.|Gruppe|Group|Universität\w*|Universitätsmedizin|Krankenhaus\w*|Klinik\w*|"
                       r"Institut\w*|\bHub\b|Accelerator|Kammer|\bIHK\b|Agentur|Verband|Stiftung|Gesellschaft|Bank|Center)")


def _organisations(sentence: str, cue: re.Match, forward: bool) -> list[tuple[str, tuple[int, int]]]:
    """The organisations a participation sentence lists on the cue's side ("Teilnehmer waren Vertreter der
    Universitätsmedizin Essen, des Elisabeth-Krankenhauses, der opta data Gruppe sowie die Essener Start-ups
    dubidoc und Scayan"; "Auch die IHK war vertreten")."""
    base = cue.end() if forward else 0
    rest = sentence[base:] if forward else sentence[:cue.start()]
    items = []
    pos, startups = 0, False
    for part in re.split(r",|\bsowie\b|\bund\b|\bwie\b|\(|\)", rest):
        at = rest.find(part, pos)
        pos = at + len(part)
        raw = part.strip().rstrip(".")
        startups = startups or re.search(r"Start-?ups?|Startups?|Firmen", raw) is not None
        lead = _ITEM_LEAD.match(raw)
        item = raw[lead.end():] if lead else raw
        item = re.sub(r"^(?:[A-ZÄÖÜ]\w+er\s+)?(?:Start-ups?|Startups?|Firmen|Unternehmen)\s+", "", item)
        if not item or len(item) < 3 or len(item) > 60 or item.lower() in STOPWORDS or item[:1].isdigit() or \
                any(fold(item).startswith(r) for r in ROLE_WORDS) or (item.isupper() and len(item) < 5 and raw.startswith(item)
                                                                       and part.endswith(item)) and rest[at - 1:at] == "(":
            continue
        if not (_ORG_HINT.search(item) or (startups and " " not in item and item.isalpha()) or
                (item.isupper() and item.isalpha())):
            continue
        start = base + at + part.find(item)
        items.append((item, (start, start + len(item))))
    return items


def _delegation(trip: Trip, source: Source, group: list[_Place]) -> None:
    """The delegation as the article names it: the noun phrase of the first delegation word near the trip."""
    text = source.text
    first = min(p.start for p in group)
    candidates = [m for m in _DELEGATION_WORD.finditer(text)]
    if not candidates:
        m = re.search(r"\b(?:Unternehmen|Firmen|Vertreter\w*)\s+aus\s+(?:der\s+|dem\s+)?[A-ZÄÖÜ][\w-]+(?:\s+[A-ZÄÖÜ][\w-]+)?", text)
        if m:
            trip.delegation = Mention({"name": m.group(0)}, source.evidence(m.start(), m.end()))
        return
    m = min(candidates, key=lambda c: abs(c.start() - first))
    start = m.start()
    head = text[max(0, start - 40):start]
    adjective = re.search(r"\b[A-ZÄÖÜ][\w-]+(?:er|sche|schen)\s+$", head)
    if adjective:
        start -= len(adjective.group(0))
    end = m.end()
    tail = re.match(r"\s+(?:von|aus|der)\s+[\w-]+(?:\s+[A-ZÄÖÜ][\w-]+)?", text[end:end + 60])
    if tail:
        end += len(tail.group(0))
    trip.delegation = Mention({"name": text[start:end]}, source.evidence(start, end))


def _dates(trip: Trip, source: Source, own: list[tuple[int, int]], group: list[_Place], named: set[int]) -> None:
    """When: the most precise date in the trip's own sentences (a day range, a day, a relative phrase against the
    article's date, a month, a year), its travel sentences first. A day or month without a year takes the year
    of a full date in the article, or the article's."""
    text = source.text
    travel = {p.sentence for p in group}
    found: list[tuple[int, int, dict, tuple[int, int]]] = []  # (rank, distance, fields, span)
    for s in own:
        sentence = text[s[0]:s[1]]
        if s not in travel and not _TRAVEL.search(fold(sentence)) and not any(s[0] <= at < s[1] for at in named) and \
                not re.search(r"\b(?:dort|there|begann|begannen|fand|fanden|statt)\b", sentence):
            continue  # a date in a sentence neither about the trip nor about its places is another event's
        distance = 0 if s in travel else 1 + abs(s[0] - group[0].start) // 200
        for m in _DAY_RANGE.finditer(sentence):
            year = m.group("y") or _dated_year(text) or (source.date or "")[:4]
            if _month(m.group("m2")) and year:
                m1 = _month(m.group("m1") or m.group("m2"))
                found.append((0, distance, {"start": f"{year}-{m1:02d}-{int(m.group('d1')):02d}",
                                            "end": f"{year}-{_month(m.group('m2')):02d}-{int(m.group('d2')):02d}",
                                            "precision": "day"}, (s[0] + m.start(), s[0] + m.end())))
        for m in _DAY.finditer(sentence):
            if _month(m.group("m")) and not _DAY_RANGE.search(sentence):
                year = m.group("y") or _dated_year(text) or _year_before(source.date, _month(m.group("m")))
                if year:
                    day = f"{year}-{_month(m.group('m')):02d}-{int(m.group('d')):02d}"
                    found.append((0, distance, {"start": day, "end": day, "precision": "day"}, (s[0] + m.start(), s[0] + m.end())))
        for m in _RELATIVE_DAY.finditer(sentence):
            if source.date and len(source.date) == 10:
                import datetime as dt

                day = (dt.date.fromisoformat(source.date) + dt.timedelta(days=_DAY_SHIFT[m.group("word").lower()])).isoformat()
                found.append((0, distance, {"start": day, "end": day, "precision": "day"}, (s[0] + m.start(), s[0] + m.end())))
        for phrase in _RELATIVE:
            at = fold(sentence).find(fold(phrase))
            if at >= 0 and source.date:
                month = source.date[:7]
                found.append((1, distance, {"start": month, "end": month, "precision": "month" if len(month) == 7 else "year"},
                              (s[0] + at, s[0] + at + len(phrase))))
        months = [m for m in _MONTH.finditer(sentence) if _month(m.group("m"))]
        if months:
            pick = months[min(_respective(text, s, group), len(months) - 1)] if len(months) > 1 else months[0]
            year = pick.group("y") or _dated_year(text) or _year_before(source.date, _month(pick.group("m")))
            if year:
                month = f"{year}-{_month(pick.group('m')):02d}"
                found.append((2, distance, {"start": month, "end": month, "precision": "month"},
                              (s[0] + pick.start(), s[0] + pick.end())))
        y = _YEAR.search(sentence)
        if y and s in travel:
            found.append((3, distance, {"start": y.group("y"), "end": y.group("y"), "precision": "year"},
                          (s[0] + y.start(), s[0] + y.end())))
    if found:
        _, _, fields, (a, b) = min(found, key=lambda f: (f[1] > 0, f[0], f[1]))
        finer = [f for f in found if f[0] < 3 and f[2]["precision"] == "day" and fields["precision"] != "day"
                 and f[2]["start"].startswith(fields["start"])]  # "im November" made precise by "vom 25. bis 28. November"
        if finer:
            _, _, fields, (a, b) = min(finer, key=lambda f: (f[0], f[1]))
        trip.start, trip.end, trip.precision = fields["start"], fields["end"], fields["precision"]
        trip.when = Mention({"text": text[a:b]}, source.evidence(a, b))


def date_of(phrase: str, article_date: str | None, dated_year: str | None = None) -> tuple[str, str, str] | None:
    """(start, end, precision) of a date phrase as articles write it ("vom 25. bis zum 28. November 2019",
    "am gestrigen Montag", "im Dezember", "2019"), resolved against the article's date; None when it is none."""
    year = dated_year or (article_date or "")[:4]
    m = _DAY_RANGE.search(phrase)
    if m and _month(m.group("m2")) and (m.group("y") or year):
        y = m.group("y") or year
        m1 = _month(m.group("m1") or m.group("m2"))
        return (f"{y}-{m1:02d}-{int(m.group('d1')):02d}", f"{y}-{_month(m.group('m2')):02d}-{int(m.group('d2')):02d}", "day")
    m = _DAY.search(phrase)
    if m and _month(m.group("m")) and (m.group("y") or year):
        day = f"{m.group('y') or year}-{_month(m.group('m')):02d}-{int(m.group('d')):02d}"
        return day, day, "day"
    m = _RELATIVE_DAY.search(phrase)
    if m and article_date and len(article_date) == 10:
        import datetime as dt

        day = (dt.date.fromisoformat(article_date) + dt.timedelta(days=_DAY_SHIFT[m.group("word").lower()])).isoformat()
        return day, day, "day"
    if any(fold(p) in fold(phrase) for p in _RELATIVE) and article_date:
        # the week the phrase means, from the article's day (ingest/dates_in_text.py); a month-only date gives its month
        from ingest.dates_in_text import find_dates

        week = next((d for d in find_dates(phrase, article_date) if d.precision in ("week", "month")), None)
        if week is not None:
            if week.precision == "week":
                import datetime as dt

                last = (dt.date.fromisoformat(week.value) + dt.timedelta(days=6)).isoformat()
                return week.value, last, "day"
            return week.value, week.value, "month"
        return article_date[:7], article_date[:7], "month" if len(article_date) >= 7 else "year"
    m = _MONTH.search(phrase)
    if m and _month(m.group("m")) and (m.group("y") or year):
        month = f"{m.group('y') or year}-{_month(m.group('m')):02d}"
        return month, month, "month"
    m = _YEAR.search(phrase)
    if m:
        return m.group("y"), m.group("y"), "year"
    return None


def _respective(text: str, sentence: tuple[int, int], group: list[_Place]) -> int:
    """Which of the places listed in the sentence is this group's (0 for the first): "im November und Dezember
    zwei Delegationsreisen nach Israel und China" gives Israel November and China December."""
    tokens, offsets = _tokens(text, *sentence)
    places = [place for _, _, place in place_spans(tokens)]
    countries = [country_of(p) or p for p in places]
    mine = group[0].country or group[0].place
    return countries.index(mine) if mine in countries else 0


def _month(name: str | None) -> int | None:
    return MONTHS.get((name or "").lower())


def _year_before(article_date: str | None, month: int) -> str | None:
    """The year of a month an article names without one: the article's, or the one before when the month lies
    more than two months after the article's (a January report about "am 13. Dezember")."""
    if not article_date:
        return None
    year = int(article_date[:4])
    article_month = int(article_date[5:7]) if len(article_date) >= 7 else 12
    return str(year - 1 if month > article_month + 2 else year)


def _dated_year(text: str) -> str | None:
    """The year of the first full date the article writes ("28. November 2019", "im März 2020"): a day or month
    it names without a year is in that year. A bare year ("das Erdbeben von 1995") does not count."""
    m = re.search(r"\b(?:\d{1,2}\.\s*)?(?:" + "|".join(m for m in MONTHS if m.isalpha()) + r")\s+((?:19|20)\d\d)\b", text,
                  re.IGNORECASE)
    return m.group(1) if m else None


def looks_like_a_trip_report(text: str) -> bool:
    """The cheap filter before a model is asked: some sentence has a travel word and a place it is directed to."""
    for s in sentence_spans(text):
        if _TRAVEL.search(fold(text[s[0]:s[1]])) and _destinations(text, s):
            return True
    return False
