"""Trips read from the annotation layer: who went where, when, with whom, and whether the trip was made, is
announced, or was postponed or called off — from any phrasing the annotation and the travel lexicon cover.

A sentence reports travel when it holds a travel cue (ingest/lexicon/de/travel.yaml: reisen, besuchen, der
Besuch, eintreffen, sich aufhalten, zurückkehren, sich treffen in, der Gipfel in, die Tournee …) and a place the
cue governs: after a direction word ("nach Warschau", "in die polnische Hauptstadt", "auf der Insel Nias"), as
the cue's object ("besuchte Kuba"), in a compound ("Israelreise", "Hannover-Besuch"), or — for a meeting, stay
or event — where it happens ("traf in Wien", "Gipfel in Brüssel"). A place the traveller comes from ("aus
Dresden", "Berliner Delegation") is no destination.

Who travels: the person or group the sentence names as its subject — before the cue ("Bundeskanzlerin Merkel
reiste"), after it in inverted order ("Nach Kiew reiste Außenminister Steinmeier"), in the genitive of a travel
noun ("der Besuch des Präsidenten"), a pronoun or role the annotation resolved ("Sie", "die Kanzlerin"), an
organisation or a group ("die Delegation", "die EU-Außenminister", "die Band") — else the traveller of the
sentence before. Everyone the annotation links to one person is that person (the full name, the role).
Companions: the people named after a companion cue (ingest/lexicon/de/companions.yaml). Status: from the
status lexicon and the trip's date against the article's. Kind: delegation (the word names one), official,
business or other (the traveller's role, ingest/lexicon/de/roles.yaml).

Sentences about one traveller make one trip (its stops in order), unless their status differs (a trip made
and one announced are two).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.annotate import Annotation, Entity, compound_heads, lexicon, place_nouns
from ingest.clean import fold
from trips.model import Mention, Source, Trip

WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]")
MAX_CUE_DISTANCE = 12  # words between a travel cue and the place it governs


@dataclass
class _Cue:
    start: int
    end: int
    word: str
    takes: tuple[str, ...]
    particle: int | None = None  # where a separable verb's particle stands, words after its verb ("machte sich … auf")


@dataclass
class _Stop:
    place: Entity
    sentence: int
    cue: _Cue
    traveller: _Traveller | None = None


@dataclass
class _Traveller:
    name: str
    start: int
    end: int
    role: str | None = None
    kind: str | None = None
    group: bool = False
    unnamed: bool = False  # a role without a name: "der libanesische Präsident"


@dataclass
class _Draft:
    traveller: _Traveller
    status: str
    stops: list[_Stop] = field(default_factory=list)
    sentences: set[int] = field(default_factory=set)
    companions: list[Entity] = field(default_factory=list)
    leader: Entity | None = None  # who leads a delegation
    split: bool = False  # one of several trips a plural travel noun reported
    led: _Traveller | None = None  # the delegation a person traveller leads ("die von X geleitete Delegation")


@lru_cache(maxsize=1)
def _travel() -> tuple[list[tuple[str, tuple[str, ...]]], frozenset[str], frozenset[str]]:
    data = lexicon("travel")
    cues = sorted(((fold(s), tuple(c["takes"])) for c in data["cues"] for s in c["stems"]), key=lambda c: -len(c[0]))
    return cues, frozenset(fold(w) for w in data["directions"]), frozenset(fold(w) for w in data["not_travel"])


@lru_cache(maxsize=1)
def _status_cues() -> dict[str, list[str]]:
    data = lexicon("status")
    return {status: [fold(c) for e in entries for c in e["cues"]] for status, entries in data.items()}


@lru_cache(maxsize=1)
def _companion_cues() -> list[str]:
    return sorted({fold(c) for e in lexicon("companions") for c in e["cues"]}, key=len, reverse=True)


def cues_in(text: str, a: int, b: int) -> list[_Cue]:
    """The travel cues of text[a:b]: a word that starts with a cue stem, or ends with one ("Staatsbesuch",
    "Israelreise"), or a cue of several words ("traf ein", "hielt sich")."""
    cues, _, _ = _travel()
    out: list[_Cue] = []
    for m in WORD.finditer(text, a, b):
        w = fold(m.group(0))
        takes = _word_cue(w, m.group(0)[:1].isupper())
        if takes is None:
            continue
        if w == "rede" and re.search(r"\bdie\s+$", text[max(a, m.start() - 5):m.start()]) and (
                re.match(r"\s+(?:ist|war|sei|wäre|sein|gewesen|sind|waren)\b", text[m.end():m.end() + 10]) or
                re.search(r"\b(?:ist|war|sei|wäre)\s+(?:[\w-]+\s+){0,3}von\b[^,;]*$", text[max(a, m.start() - 80):m.start()])):
            continue  # "von X war die Rede", "war von X die Rede": X was talked about (Duden: Rede, "die Rede sein von")
        out.append(_Cue(m.start(), m.end(), m.group(0), takes))
    folded, where = _folded(text, a, b)
    for stem, takes in cues:
        if " " not in stem:
            continue
        for m in _multiword(stem).finditer(folded):
            start, end = where[m.start()], where[m.end() - 1] + 1
            if stem.startswith("sich "):  # "sich der Präsident … befand": the verb is the cue, its subject before it
                start = end - len(stem.split()[-1])
            last = stem.split()[-1]
            spread = len(m.group(0).split()) > len(stem.split()) and m.group(0).endswith(last)
            out.append(_Cue(start, end, text[start:end], takes, end - len(last) if spread else None))
    return sorted(out, key=lambda c: c.start)


@lru_cache(maxsize=65536)
def _word_cue(w: str, capitalised: bool) -> tuple[str, ...] | None:
    """What the travel cue a folded word is takes, or None: a word that starts with a one-word cue stem, or
    ends with one ("Staatsbesuch", "Israelreise"). It depends on the word alone, so it is worked out once."""
    cues, _, not_travel = _travel()
    if w in not_travel or any(w.endswith(n) for n in not_travel if len(n) > 6):
        return None
    for stem, takes in cues:
        if " " in stem:
            continue
        if w.startswith(stem) and capitalised and not _travel_head(w[len(stem):]):
            continue  # a compound whose head is no travel noun: "Kongresswahlbezirke", "Tourneeplakat"
        if w.startswith(stem) or (len(stem) >= 5 and re.search(re.escape(stem) + r"(?:e|es|s|en|n)?$", w)) or \
                (stem in w and w.endswith(compound_heads()) and len(w) > len(stem) + 3):
            return takes
    return None


def _travel_head(rest: str) -> bool:
    """Whether what follows a noun's cue stem keeps it a travel noun: an inflection ("Besuchs", "Reisen",
    "Konferenzen"), or the head of a compound that is one itself ("Gipfeltreffen", "Delegationsreise"). A
    German compound is what its last part is (Duden grammar §1048)."""
    cues, _, _ = _travel()
    if len(rest) <= 3:
        return True
    rest = rest[1:] if rest[0] in "s-" else rest  # the linking s ("Besuchsreise") or a hyphen
    return any(rest.startswith(stem) for stem, _ in cues if " " not in stem) or rest.endswith(compound_heads())


@lru_cache(maxsize=None)
def _multiword(stem: str) -> re.Pattern:
    """A cue of several words, a few words apart ("traf … ein"); a separable particle ("auf", "ein",
    "zurück") may stand much later, at the end of its clause ("machte sich ein Team in Richtung X auf.")."""
    words = stem.split()
    last = words[-1]
    near = r"\b" + r"\s+(?:\S+\s+){0,6}?".join(map(re.escape, words)) + r"\b"
    if len(words) >= 2 and last in ("auf", "ein", "zurück", "ab", "teil", "an"):
        far = r"\b" + r"\s+".join(map(re.escape, words[:-1])) + r"\s+(?:[^\s.;:!?]+\s+){0,15}?" + re.escape(last) + r"(?=\s*(?:[.,;:!?]|$))"
        return re.compile(f"(?:{near}|{far})")
    return re.compile(near)


def _words_between(text: str, x: int, y: int) -> list[str]:
    lo, hi = min(x, y), max(x, y)
    return WORD.findall(text[lo:hi])


def _enumerated(text: str, places: list[Entity], stops: list[_Stop]) -> list[_Stop]:
    """Places listed with a stop ("nach Koblenz, Kassel und München") are stops too: an enumeration shares
    its governing word."""
    out = list(stops)
    changed = True
    while changed:
        changed = False
        for place in places:
            if any(s.place is place for s in out):
                continue
            for stop in out:
                lo, hi = (place.end, stop.place.start) if place.end <= stop.place.start else (stop.place.end, place.start)
                if re.fullmatch(r"\s*(?:,|und|sowie|oder|,\s*und)\s*", text[lo:hi]):
                    out.append(_Stop(place, stop.sentence, stop.cue))
                    changed = True
                    break
    return sorted(out, key=lambda s: s.place.start)


def _places(text: str, ann: Annotation, i: int, a: int, b: int) -> list[Entity]:
    """The sentence's places that can be a destination: not an adjective ("polnische"), not inside an
    organisation's name ("Universität Wien"), not where someone comes from ("aus Dresden", "Berliner
    Delegation")."""
    orgs = ann.of_kind("org", i)
    origins = frozenset(lexicon("travel")["origins"])
    out = []
    for place in ann.of_kind("place", i):
        if place.attrs.get("form") == "adjective" or any(o.start <= place.start < o.end for o in orgs):
            continue
        before = WORD.findall(text[max(a, place.start - 40):place.start])
        prev = fold(before[-1]) if before else ""
        prev2 = fold(before[-2]) if len(before) >= 2 else ""
        if prev in origins or (prev2 in origins and prev2 not in ("von", "vom")) or _demonym_use(text, place):
            continue
        # where they come from, named with its kind in apposition: "aus der Metropole Ruhr", "aus der Stadt Essen"
        # (Duden: "aus", Präposition, gibt die Herkunft an; a noun before a name in apposition, "die Stadt Essen")
        if len(before) >= 3 and fold(before[-3]) == "aus" and prev2 in _ARTICLES and before[-1][:1].isupper():
            continue
        out.append(place)
    return out


def _governing(text: str, a: int, place: Entity, cues: list[_Cue], dates: list[Entity] = ()) -> _Cue | None:
    """The travel cue that governs the place: after a direction word ("nach Warschau"), as the cue's object
    ("besuchte Kuba"; a date between them is an adverbial of its own, "besuchte am 3. Mai 2021 Oslo"), in a
    compound ("Israelreise"), or "stattete X einen Besuch ab"."""
    _, directions, _ = _travel()
    before = WORD.findall(text[max(a, place.start - 40):place.start])
    prev = fold(before[-1]) if before else ""
    prev2 = fold(before[-2]) if len(before) >= 2 else ""
    for cue in cues:
        if cue.particle is not None and cue.start < place.start and place.end <= cue.particle:
            # a place between a separable verb and its particle: "machte sich ein Team in Richtung X auf"
            if len(_words_between(text, place.end, cue.particle)) > 3 or \
                    re.search(rf"[;:]|{_FULL_STOP}", text[place.end:cue.particle]):
                continue
            if prev in directions or prev2 in directions:
                return cue
            continue
        if cue.start <= place.start < cue.end and place.attrs.get("form") != "compound":
            continue  # the cue word itself tagged as a place ("Chrisammesse")
        distance = len(_words_between(text, cue.end if cue.end <= place.start else cue.start,
                                      place.start if cue.end <= place.start else place.end))
        if distance > MAX_CUE_DISTANCE or _clause_break(text, cue, place):
            continue
        if cue.word[:1].isupper() and cue.end <= place.start and "," in text[cue.end:place.start]:
            continue  # a travel noun's place is in its own phrase: "während seines Japanbesuchs in Tokio", not "…, der … in X"
        if place.attrs.get("form") == "compound" and cue.start <= place.start < cue.end:
            return cue
        if str(place.attrs.get("id", "")).startswith("name:") and prev not in directions and \
                not (prev in _ARTICLES and prev2 in directions) and prev not in _place_nouns_folded():
            continue  # a name the gazetteer does not know is a place only right after "nach", "in", "auf der", "Insel" …
        if prev in directions or prev2 in directions or re.search(
                r"\b(?:" + "|".join(place_nouns()) + r")\s+(?:bei\s+)?$",
                text[max(a, place.start - 30):place.start]):
            if place.end <= cue.start and distance > 4:
                continue  # "nach X" far before a travel word belongs to another verb: "… nach X deportiert und am Tag der Ankunft …"
            if place.end <= cue.start and distance >= 2 and "at" not in cue.takes and prev in _LOCATIVE:
                continue  # "in X" before a verb of motion says where something else happened: "der in Mannheim verletzte Spieler reist …"
            if "to" in cue.takes or "at" in cue.takes:
                return cue
        elif "object" in cue.takes and cue.end <= place.start and \
                distance - sum(len(WORD.findall(d.text)) for d in dates if cue.end <= d.start and d.end <= place.start) <= 3:
            return cue
        elif "object" in cue.takes and place.end <= cue.start and cue.word[:1].islower() and \
                re.fullmatch(r"\s+(?:zu\s+)?", text[place.end:cue.start]):
            return cue  # the verb last: "…, Oslo zu besuchen", "hat Kuba besucht"
        elif "dative" in cue.takes and re.search(r"\bstattet\w*\s+$", text[max(a, place.start - 15):place.start]):
            return cue
    return None


def _subjects(text: str, ann: Annotation, i: int, a: int, b: int, stops: list[_Stop]) -> list[_Traveller]:
    """Who the sentence says travels: the genitive of a travel noun ("der Besuch des Präsidenten X"), else the
    first person named before the cue (not one met, hosting, or travelling along), else a group or an
    organisation before it, else the first person after it."""
    cue = min((s.cue for s in stops), key=lambda c: c.start)
    persons = [p for p in ann.of_kind("person", i) if p.attrs.get("name") or _qualified_role(p.attrs.get("role") or "")]
    companions = {id(p) for p in _companion_mentions(text, ann, i, a, b)}
    candidates_ = [p for p in persons if id(p) not in companions and not _named_thing(text, a, p)]
    # a meeting between two: "ein Treffen zwischen Außenminister X und seinem Amtskollegen Y"
    between = [p for p in candidates_ if re.search(r"\bzwischen\s", text[max(a, p.start - 80):p.start]) and p.start > cue.start]
    if "at" in cue.takes and len(between) >= 2:
        return [_person(p) for p in between]
    named_elsewhere = any(p.attrs.get("name") for p in candidates_)
    for p in candidates_:  # "der Besuch des Präsidenten X", "die Reise von X"
        if 0 <= p.start - cue.end <= 25 and re.match(r"\s+(?:des|der|von|vom|eines|einer)\s", text[cue.end:p.start + 1]) \
                and (p.attrs.get("name") or not named_elsewhere):
            return [_person(p)]
    genitive = _genitive_name(text, ann, i, cue)
    candidates_ = [p for p in candidates_ if not _hosted(text, a, p)]
    before = [p for p in candidates_ if p.end <= cue.start and not _after_comma_clause(text, p, cue)
              and not _in_prepositional_phrase(text, a, p)]
    # the subject of the cue's own clause first ("…, während sich der Präsident auf einer Afrikareise befand")
    before.sort(key=lambda p: "," in text[p.end:cue.start])
    if genitive is not None:  # "Bei einem Treffen der NATO-Außenminister in Brüssel sagte Rice": both were there
        return [genitive] + (_before_subjects(text, before) or _after_subject(text, a, cue, candidates_))[:1]
    return _before_subjects(text, before) or _other_subjects(text, ann, i, a, cue) or _after_subject(text, a, cue, candidates_)


def _before_subjects(text: str, before: list[Entity]) -> list[_Traveller]:
    """The person named before the cue, with those coordinated with them ("X und sein Kollege Y besuchten …":
    a coordinated subject travels together)."""
    if not before:
        return []
    out = [before[0]]
    for q in before[1:]:
        if re.fullmatch(r"\s*(?:\([^)]*\)\s*)?(?:,\s*)?(?:und|sowie)\s+(?:[\w-]+\s+){0,4}", text[out[-1].end:q.start]):
            out.append(q)
        else:
            break
    return [_person(p) for p in out]


def _after_subject(text: str, a: int, cue: _Cue, candidates_: list[Entity]) -> list[_Traveller]:
    """The first person named after the cue as a subject."""
    # after the cue as a subject ("Nach Kiew reiste Außenminister X", "…, die der Minister betreibt")
    after = [p for p in candidates_ if p.start >= cue.end and not _in_prepositional_phrase(text, a, p)]
    return [_person(after[0])] if after else []


def _travelling_with(text: str, ann: Annotation, i: int, a: int, stops: list[_Stop]) -> list[Entity]:
    """People who go along by a verb of motion: "war mit Jane Doe nach Hanoi gereist", "fliegt mit seiner Frau
    Erika Muster nach Oslo" — "mit" + person right before the destination of a verb that takes a direction
    (the comitative "mit", Duden grammar §1292; with a verb of meeting "mit" names who is met instead)."""
    out = []
    for stop in stops:
        cue = stop.cue
        if "to" not in cue.takes or "at" in cue.takes or not cue.word[:1].islower():
            continue
        for p in ann.of_kind("person", i):
            if not p.attrs.get("name") or p.end > stop.place.start:
                continue
            if re.search(r"\bmit\s+(?:[\w-]+\s+){0,3}$", text[max(a, p.start - 40):p.start]) and \
                    re.fullmatch(r"\s+(?:[\w-]+\s+){0,2}", text[p.end:stop.place.start]) and p not in out:
                out.append(p)
    return out


def _unresolved_pronoun(text: str, ann: Annotation, i: int, a: int, stops: list[_Stop]) -> bool:
    """A sentence whose subject is a personal pronoun the annotation linked to nobody named ("Sie kam gestern
    zurück" about someone's unnamed girlfriend) is about someone else than the article's last traveller."""
    cue = min((s.cue for s in stops), key=lambda c: c.start)
    linked = ann.of_kind("person", i)
    for m in re.finditer(r"\b(?:[Ee]r|[Ss]ie)\b", text[a:cue.start]):
        start = a + m.start()
        if not any(p.start <= start < p.end for p in linked):
            return True
    return False


def _in_prepositional_phrase(text: str, a: int, p: Entity) -> bool:
    """A person named inside a prepositional phrase is no subject: "die Freundin von X", "Ermittlungen gegen X",
    "trotz einer Anweisung von Polizeichef X" (the subject of a German clause is a nominative noun phrase, never
    governed by a preposition; Duden grammar §1181)."""
    return bool(re.search(r"\b(?:von|vom|gegen|für|bei|beim|mit|an|über|durch|wegen|trotz)\s+(?:[\w-]+\s+){0,3}$",
                          text[max(a, p.start - 50):p.start]))


def _other_subjects(text: str, ann: Annotation, i: int, a: int, cue: _Cue) -> list[_Traveller]:
    """A group ("die Delegation", "die EU-Außenminister") or an organisation that travels."""
    group = _group(text, a, cue.end)
    if group:
        return [group]
    # an organisation travels only as the subject right before a verb of motion ("Die Firma X reiste …")
    orgs = [o for o in ann.of_kind("org", i) if o.end <= cue.start and len(_words_between(text, o.end, cue.start)) <= 2
            and "to" in cue.takes and cue.word[:1].islower() and len(_words_between(text, a, o.start)) <= 2]
    if orgs:
        return [_Traveller(orgs[-1].text, orgs[-1].start, orgs[-1].end, None, "business", True)]
    return []


def _genitive_name(text: str, ann: Annotation, i: int, cue: _Cue) -> _Traveller | None:
    """A group or organisation in the genitive of a travel noun: "des Besuchs der „Troika“ in Athen", "der Besuch
    der OSZE-Beobachter", "die Reise der Weltbank" — a name in quotation marks, an abbreviation or an
    organisation the annotation knows (the genitivus subjectivus of a noun of motion; Duden grammar §1259)."""
    if not cue.word[:1].isupper():
        return None
    m = re.match(r"\s+(?:des|der|eines|einer)\s+(?:[a-zäöüß][\w-]*\s+)?(?P<q>[„\"»])?(?P<name>[A-ZÄÖÜ][\w-]*)(?(q)[“\"«])",
                 text[cue.end:cue.end + 60])
    if not m:
        return None
    start, end = cue.end + m.start("name"), cue.end + m.end("name")
    if any(e.start <= start < e.end for e in ann.of_kind("place", i)):
        return None
    group = _group(text, start, end)
    if group is not None and group.start == start:  # a group noun: "des Treffens der EU-Außenminister"
        return group
    org = next((o for o in ann.of_kind("org", i) if o.start <= start < o.end), None)
    if org is not None:
        return _Traveller(org.text, org.start, org.end, None, None, True)
    if m.group("q") or re.fullmatch(r"[A-ZÄÖÜ0-9-]{2,}", m.group("name")):
        return _Traveller(m.group("name"), start, end, None, None, True)
    return None


class AnnotationReader:
    name = "reader"
    version = "5"

    def extract(self, source: Source) -> list[Trip]:
        annotation, text = source.annotation, source.text
        if annotation is None:
            return []
        drafts: list[_Draft] = []
        last: _Traveller | None = None
        for i, (a, b) in enumerate(annotation.sentences):
            cues = cues_in(text, a, b)
            places = _places(text, annotation, i, a, b) if cues else []
            stops = [_Stop(place, i, cue) for place in places if (cue := _governing(text, a, place, cues, annotation.of_kind("date", i))) is not None]
            stops = _enumerated(text, places, stops)
            if not stops:
                if drafts and (along := self._companions(text, annotation, i, a, b, drafts[0].traveller)):
                    # "Teil der Delegation sind X und Y": the people travelling with the article's (first) trip
                    drafts[0].companions += along
                continue
            travellers = _subjects(text, annotation, i, a, b, stops) or \
                ([last] if last and not _unresolved_pronoun(text, annotation, i, a, stops) else [])
            if not travellers:
                continue
            along: list[Entity] = []
            besides = _besides(text, annotation, i, a)
            if besides is not None and len(travellers) >= 1:
                # "Neben X haben sich auch Y und Z zur Reise angemeldet": X travels, Y and Z with X
                along = [p for p in annotation.of_kind("person", i) if p.attrs.get("name") and p is not besides]
                travellers = [_person(besides)]
            last = travellers[0]
            cue = min((s.cue for s in stops), key=lambda c: c.start)
            status = self._status(text, annotation, i, a, b, source.date, cue)
            for traveller, part, split in _split_by_trip(travellers, stops, cue):
                draft = next((d for d in drafts if _same(d.traveller, traveller) and d.status == status and
                              _compatible(d, part, split)), None)
                if draft is None:
                    draft = _Draft(traveller, status, split=split)
                    drafts.append(draft)
                for stop in part:
                    if not any(s.place.attrs.get("id") == stop.place.attrs.get("id") for s in draft.stops):
                        draft.stops.append(stop)
                draft.sentences.add(i)
                draft.companions += along + self._companions(text, annotation, i, a, b, traveller) + \
                    [p for p in _travelling_with(text, annotation, i, a, part) if fold(p.attrs.get("name") or "") != fold(traveller.name)]
        drafts = _merge_delegations(_merge_unnamed(drafts))
        for d in drafts:
            if d.traveller.group and "elegation" in d.traveller.name:
                _lead(text, annotation, d)
            elif not d.traveller.group:
                d.led = _led_delegation(text, annotation, d)
        abroad = {s.place.attrs.get("country") for d in drafts for s in d.stops}
        return [self._trip(source, d, abroad) for d in drafts]

    def _companions(self, text: str, ann: Annotation, i: int, a: int, b: int, traveller) -> list[Entity]:
        return [p for p in _companion_mentions(text, ann, i, a, b)
                if traveller is None or fold(p.attrs.get("name") or "") != fold(traveller.name)]

    # -- made, announced, postponed, called off

    def _status(self, text: str, ann: Annotation, i: int, a: int, b: int, published: str | None,
                cue: _Cue | None = None) -> str:
        sentence, _ = _folded(text, a, b)
        sentence = re.sub(r"„[^“]*“|\"[^\"]*\"|»[^«]*«", " ", sentence)  # quotations say what someone said
        words = re.findall(r"\w+", sentence)
        joined = " " + " ".join(words) + " "
        cues = _status_cues()

        def said(status: str, within: str = joined) -> bool:
            # a cue of several words may have words between ("sagte die Reise ab"): a separable verb
            return any((_multiword(c).search(within) if " " in c else f" {c} " in within) for c in cues[status])

        for status in ("cancelled", "postponed"):
            if said(status):
                return status
        dates = [d.attrs["value"] for d in _resolved(ann, i) if d.attrs.get("precision") in ("day", "week", "month")]
        if published and dates and all(d[:len(published)] > published[:len(d)] for d in dates):
            return "announced"
        if said("announced"):
            return "announced"
        if cue is not None:
            near = " " + " ".join(WORD.findall(text[max(a, cue.start - 60):min(b, cue.end + 60)])) + " "
            if said("announced_near", fold(near)):
                return "announced"
        return "made"

    # -- the trip

    def _trip(self, source: Source, d: _Draft, abroad: set[str | None] = frozenset()) -> Trip:
        trip = Trip([source.doc_id], self.name, published=source.date)
        t = d.traveller
        kind = t.kind or ("official" if t.role else "other")
        if re.search(r"[Dd]elegation", t.name) or d.led is not None:
            kind = "delegation"
            group = d.led or t
            trip.delegation = Mention({"name": group.name}, source.evidence(group.start, group.end))
        if d.leader is not None:
            p = d.leader
            trip.leaders.append(Mention({"name": p.attrs.get("name") or p.text, "role": p.attrs.get("role"), "kind": kind},
                                        source.evidence(p.start, p.end)))
        elif trip.delegation is None or d.led is not None:  # a person travelling, or leading the delegation
            trip.leaders.append(Mention({"name": t.name, "role": t.role, "kind": kind}, source.evidence(t.start, t.end)))
        seen = {fold(m.value["name"]) for m in trip.leaders}
        for c in d.companions:
            name = c.attrs.get("name") or c.text
            if fold(name) in seen:
                continue
            seen.add(fold(name))
            trip.participants.append(Mention({"name": name, "role_or_org": c.attrs.get("role") or c.attrs.get("org")},
                                             source.evidence(c.start, c.end)))
        group_home = _group_home(t)
        for s in _most_specific(d.stops, group_home[2].id if group_home else None):
            p = s.place
            trip.destinations.append(Mention({"place": p.text, "country": p.attrs.get("country"),
                                              "kind": p.attrs.get("level"), "id": p.attrs.get("id")},
                                             source.evidence(p.start, p.end)))
        home = _home(source, d, abroad)
        if home is not None:
            start, end, place = home
            trip.origin = Mention({"place": _place_name(source.text[start:end], place), "country": place.country},
                                  source.evidence(start, end))
        trip.kind, trip.status = kind, d.status
        when = _when(source, d)
        if when:
            first, last = when[0], when[-1]
            trip.start, trip.end = first.attrs["value"], last.attrs["value"]
            trip.precision = "day" if first.attrs["precision"] in ("day", "week") else first.attrs["precision"]
            trip.when = Mention({"text": first.text}, source.evidence(first.start, first.end))
        return trip


_PRECISION = {"day": 0, "week": 1, "month": 2, "year": 3}


def _resolved(ann: Annotation, sentence: int | None = None) -> list[Entity]:
    """The dates of the article (or of one sentence) that say which day, week, month or year: a weekday in
    an article without a date of its own says none, a decade or a century too little for a trip."""
    return [e for e in ann.of_kind("date", sentence) if e.attrs.get("value") and e.attrs.get("precision") in _PRECISION]


def _when(source: Source, d: _Draft) -> list[Entity]:
    """The dates of a trip, first and last: those of its sentences (else of the sentence before or after its
    first), the most precise kind; of several trips one sentence lists ("im November und Dezember zwei Reisen
    nach Israel und China"), each trip's own (respectively); a month made precise by the days of the trip
    written elsewhere in its sentences ("vom 25. bis zum 28. November")."""
    ann = source.annotation
    first = min(d.sentences)
    dates = [e for i in sorted(d.sentences) for e in _resolved(ann, i)]
    if not dates:
        dates = [e for i in (first - 1, first + 1) for e in _resolved(ann, i)]
    published = (source.date or "")[:4]
    dates = [e for e in dates if e.attrs["precision"] != "year" or not published or e.attrs["value"] >= str(int(published) - 1)]
    if not dates:
        return []
    if d.split:
        in_first = [e for e in _resolved(ann, first) if e.attrs["precision"] in ("day", "month")]
        a, b = ann.sentences[first]
        countries = list(dict.fromkeys(p.attrs.get("country") for p in ann.of_kind("place", first)
                                       if a <= p.start < b and p.attrs.get("level") == "country"))
        mine = d.stops[0].place.attrs.get("country")
        if len(in_first) == len(countries) and mine in countries:
            chosen = in_first[countries.index(mine)]
            days = [e for e in _resolved(ann) if e.attrs["precision"] == "day" and e.attrs["value"].startswith(chosen.attrs["value"])]
            days = days if len(days) == 2 and days[1].start - days[0].end < 5 else []  # "vom 25. bis zum 28. November"
            return sorted(days, key=lambda e: e.attrs["value"]) if days else [chosen]
    best = min(_PRECISION.get(e.attrs["precision"], 3) for e in dates)
    return sorted((e for e in dates if _PRECISION.get(e.attrs["precision"], 3) == best), key=lambda e: e.attrs["value"])


def companion_cue_in(sentence: str) -> bool:
    """Whether a sentence has a cue after which people travel along, its words as far apart as the reader
    takes them ("Teil der US-amerikanischen Delegation sind …"): the evidence check reads companions this way too."""
    return companion_cue_end(sentence) is not None


def companion_cue_end(sentence: str) -> int | None:
    """Where the first companion cue of a sentence ends (the people named after it came along: "Begleitet
    wurde Guttenberg von X und Y" — X and Y, not Guttenberg), or None."""
    folded, where = _folded(sentence, 0, len(sentence))
    ends = [where[m.end() - 1] + 1 for cue in _companion_cues() if (m := _multiword(cue).search(folded))]
    return min(ends) if ends else None


def _companion_mentions(text: str, ann: Annotation, i: int, a: int, b: int) -> list[Entity]:
    """People and organisations named after a companion cue ("begleitet von Minister X", "gemeinsam mit Y",
    "Teil der Delegation sind X, Y und Z", "Teilnehmer der Reise waren Vertreter der Firma Z"), up to the end
    of the clause."""
    sentence, where = _folded(text, a, b)
    out = []
    for cue in _companion_cues():
        for m in _multiword(cue).finditer(sentence):
            start = where[m.end() - 1] + 1
            for p in sorted(ann.of_kind("person", i) + [o for o in ann.of_kind("org", i) if not _affiliation(text, a, o)],
                            key=lambda e: e.start):
                if p.start >= start and p.attrs.get("name") and not re.search(_CLAUSE_END, text[start:p.start]) \
                        and p not in out:
                    out.append(p)
    return out


def _affiliation(text: str, a: int, org: Entity) -> bool:
    """An organisation named as someone's ("Dr. X (Manager BIO NET GmbH)", "der Präsident der Deutsch-
    Japanischen Gesellschaft"): not a participant of its own."""
    from ingest.annotate import role_of

    before = text[max(a, org.start - 60):org.start]
    if before.count("(") > before.count(")"):
        return True
    words = WORD.findall(before)
    return len(words) >= 2 and fold(words[-1]) in ("der", "des") and role_of(words[-2]) is not None


# a full stop inside a sentence ends a clause, unless it marks an ordinal number (Duden, Rechtschreibung: "der
# 3. Mai", "am 3. Juni nach Oslo") or an abbreviation ("Dr.", "Prof.", "St.")
_FULL_STOP = r"(?<!\bDr)(?<!\bProf)(?<!\bSt)(?<!\d)\.\s"
_CLAUSE_END = re.compile(rf"[;:]|{_FULL_STOP}|,\s+(?:die|der|das|wo|als)\s")


def _folded(text: str, a: int, b: int) -> tuple[str, list[int]]:
    """text[a:b] folded (ingest.clean.fold: "ü" -> "ue") and, for each folded character, its offset in text."""
    chars, where = [], []
    for k in range(a, b):
        f = fold(text[k])
        chars.append(f)
        where += [k] * len(f)
    return "".join(chars), where


def _person(p: Entity) -> _Traveller:
    name = p.attrs.get("name") or p.attrs.get("role") or p.text
    return _Traveller(name, p.start, p.end, p.attrs.get("role"), p.attrs.get("role_kind"), unnamed=not p.attrs.get("name"))


@lru_cache(maxsize=1)
def _from() -> re.Pattern:
    """"Unternehmen aus der Metropole Ruhr", "eine Delegation aus Dresden": a group and where it comes from."""
    return re.compile(r"\b(?:[Dd]elegation\w*|Unternehmen|Firmen|Vertreter\w*|Gäste)\s+aus\s+(?:der\s+|dem\s+)?"
                      r"(?P<place>(?P<kind>(?:" + "|".join(place_nouns()) + r")\s+)?[A-ZÄÖÜ][\w-]+)")


def _place_name(written: str, place) -> str:
    """A place as German writes it: "Berliner" -> "Berlin", else the words as written."""
    from ingest import gazetteer

    if written.endswith("er") and gazetteer.place(written[:-2]) == place:
        return written[:-2]
    return written


def _group_home(t: _Traveller):
    """Where a group comes from by the place adjective in its name ("Berliner Delegation" -> Berlin):
    (start, end, Place) of that word, or None."""
    from ingest import gazetteer

    for word in re.finditer(r"[A-ZÄÖÜ][\w-]*er\b", t.name):
        home = gazetteer.demonym_place(word.group(0))
        if home is not None:
            return t.start + word.start(), t.start + word.end(), home
    return None


def _home(source: Source, d: _Draft, abroad: set[str | None]):
    """Where the travellers come from: the place in the group's name ("Berliner Delegation"), else the place
    (or its people: "Hamburger Firmen") the article names most often, at least twice, in a country none of
    the trip's stops lies in. (start, end, Place) of its first mention, or None."""
    from collections import Counter

    from ingest import gazetteer

    text, ann = source.text, source.annotation
    named = _group_home(d.traveller)
    if named is not None:
        return named
    abroad = abroad | {s.place.attrs.get("country") for s in d.stops}
    # "Unternehmen aus der Metropole Ruhr", "eine Delegation aus Dresden": where the travellers are from
    for m in _from().finditer(text):
        name = m.group("place")
        place = gazetteer.place(name)
        if place is None and m.group("kind"):
            place = gazetteer.Place(f"name:{fold(name)}", name, None, "region")
        if place is not None and place.country not in abroad - {None}:
            return m.start("place"), m.end("place"), place
    seen: dict[str, list[tuple[int, int, object]]] = {}
    for e in ann.of_kind("place"):
        if e.attrs.get("level") in ("city", "region") and e.attrs.get("country") not in abroad:
            place = gazetteer.by_id(e.attrs["id"]) if not str(e.attrs.get("id", "")).startswith("name:") else None
            if place is not None:
                seen.setdefault(place.id, []).append((e.start, e.end, place))
    for m in re.finditer(r"\b[A-ZÄÖÜ][\w-]*er\b", text):
        place = gazetteer.demonym_place(m.group(0))
        if place is not None and place.level in ("city", "region") and place.country not in abroad:
            seen.setdefault(place.id, []).append((m.start(), m.end(), place))
    counts = Counter({k: len(v) for k, v in seen.items()})
    if not counts:
        return None
    best, n = counts.most_common(1)[0]
    return min(seen[best], key=lambda x: x[0]) if n >= 2 else None


def _most_specific(stops: list[_Stop], origin: str | None) -> list[_Stop]:
    """A tour's stops as precise as the article gives them: a country is left out when a city or region in it
    is a stop ("New York, Boston und Los Angeles … in den USA"), and the travellers' home is no stop."""
    countries_with_places = {s.place.attrs.get("country") for s in stops if s.place.attrs.get("level") in ("city", "region")}
    return [s for s in stops if s.place.attrs.get("id") != origin and not (
        s.place.attrs.get("level") == "country" and s.place.attrs.get("country") in countries_with_places)]


def _besides(text: str, ann: Annotation, i: int, a: int) -> Entity | None:
    """The person of a sentence that opens "Neben X …" (besides X, others too)."""
    m = re.match(r"\s*Neben\s+", text[a:a + 12])
    if not m:
        return None
    return next((p for p in ann.of_kind("person", i) if p.attrs.get("name") and p.start - a < 60), None)


def _split_by_trip(travellers: list[_Traveller], stops: list[_Stop], cue: _Cue):
    """(traveller, stops) pairs: a plural travel noun over several countries is one trip to each ("zwei
    Delegationsreisen nach Israel und China"), otherwise the stops are one trip's."""
    countries = {s.place.attrs.get("country") for s in stops}
    plural = bool(re.search(r"(?:reisen|besuche|aufenthalte|touren|tourneen)$", cue.word, re.I))
    for traveller in travellers:
        if plural and len(countries) > 1 and None not in countries:
            for country in dict.fromkeys(s.place.attrs.get("country") for s in stops):
                yield traveller, [s for s in stops if s.place.attrs.get("country") == country], True
        else:
            yield traveller, stops, False


def _compatible(d: _Draft, stops: list[_Stop], split: bool) -> bool:
    """Whether stops continue a draft's trip: one trip of a split tour ("Delegationsreisen nach Israel und
    China") takes only its own country's stops."""
    if not d.split and not split:
        return True
    return {s.place.attrs.get("country") for s in stops} <= {s.place.attrs.get("country") for s in d.stops}


def _merge_delegations(drafts: list[_Draft]) -> list[_Draft]:
    """"Die Delegation", "die Senatsdelegation", "eine Berliner Delegation": in one article, one delegation
    (of each status) — a later mention refers back to the first."""
    out: list[_Draft] = []
    for d in drafts:
        countries = {s.place.attrs.get("country") for s in d.stops}
        first = next((o for o in out if o.traveller.group and "elegation" in o.traveller.name and o.status == d.status
                      and (not o.split or countries & {s.place.attrs.get("country") for s in o.stops})), None)
        if first is not None and d.traveller.group and "elegation" in d.traveller.name:
            first.stops += [s for s in d.stops if s.place.attrs.get("id") not in {x.place.attrs.get("id") for x in first.stops}]
            first.sentences |= d.sentences
            first.companions += [c for c in d.companions if c not in first.companions]
            continue
        out.append(d)
    return out


@lru_cache(maxsize=1)
def _leader_cues() -> dict[str, list[str]]:
    data = lexicon("leaders")
    return {side: sorted({fold(c) for e in entries for c in e["cues"]}, key=len, reverse=True) for side, entries in data.items()}


def _lead(text: str, ann: Annotation, d: _Draft) -> None:
    """The delegation's leader (the first person after a leading cue, or before "leitete die Delegation"), and
    the people listed with them ("mit dem Regierenden Bürgermeister, Kai Wegner, Wirtschaftssenatorin Franziska
    Giffey …") as its participants. Read in the delegation's sentences."""
    cues = _leader_cues()
    for i in sorted(d.sentences):
        a, b = ann.sentences[i]
        folded, where = _folded(text, a, b)
        persons = [p for p in ann.of_kind("person", i) if p.attrs.get("name")]
        for cue in cues["after"]:
            for m in re.finditer(r"\b" + re.escape(cue) + r"\b", folded):
                end = where[m.end() - 1] + 1
                if cue in ("mit dem", "mit der") and not re.search(r"[Dd]elegation\w*\s+$", text[a:where[m.start()]]):
                    continue  # "mit dem …" leads only right after the delegation ("eine Delegation mit dem …")
                listed = [p for p in persons if p.start >= end and not re.search(r"[;:.]\s", text[end:p.start])]
                if listed:
                    d.leader = d.leader or listed[0]
                    d.companions += [p for p in listed[1:] if p not in d.companions]
                    return
        for cue in cues["before"]:
            for m in re.finditer(r"\b" + re.escape(cue) + r"\b", folded):
                start = where[m.start()]
                before = [p for p in persons if p.end <= start and start - p.end < 60]
                if before:
                    d.leader = before[-1]
                    return


def _led_delegation(text: str, ann: Annotation, d: _Draft) -> _Traveller | None:
    """The delegation a person traveller leads, when a sentence of the trip says so: "die von X geleitete
    Wirtschaftsdelegation", "X leitete die Delegation"."""
    cues = _leader_cues()["before"]
    for i in sorted(d.sentences):
        a, b = ann.sentences[i]
        group = _group(text, a, b)
        if group is None or "elegation" not in group.name:
            continue
        between = fold(text[min(d.traveller.end, group.start):max(d.traveller.end, group.start)])
        if d.traveller.end <= group.start and any(re.search(r"\b" + re.escape(c) + r"\b", between) for c in cues):
            return group
    return None


def _merge_unnamed(drafts: list[_Draft]) -> list[_Draft]:
    """A trip by someone named only by a role ("der erste Besuch eines NASA-Direktors in China") to a place a
    named traveller of the article went to is that traveller's trip."""
    out = []
    for d in drafts:
        stops = {s.place.attrs.get("id") for s in d.stops}
        named = next((o for o in drafts if o is not d and not o.traveller.unnamed and not o.traveller.group and
                      o.status == d.status and stops & {s.place.attrs.get("id") for s in o.stops}), None)
        if d.traveller.unnamed and named is not None:
            named.stops += [s for s in d.stops if s.place.attrs.get("id") not in {x.place.attrs.get("id") for x in named.stops}]
            named.sentences |= d.sentences
            continue
        out.append(d)
    return out


def _same(x: _Traveller, y: _Traveller) -> bool:
    """One traveller: the same name, or a person's shorter name ("Bon Jovi", "Jon Bon Jovi")."""
    a, b = fold(x.name), fold(y.name)
    if a == b:
        return True
    if x.group or y.group:
        return False
    short, long_ = sorted((a, b), key=len)
    return long_.endswith(" " + short)


@lru_cache(maxsize=1)
def _group_pattern() -> re.Pattern:
    """A noun for people who travel together (ingest/lexicon/de/groups.yaml), alone or as the head of a
    compound ("Wirtschaftsdelegation", "EU-Außenminister", "Nationalmannschaft"), with what follows it up to
    the verb ("die Delegation des Europäischen Parlaments")."""
    heads = sorted({h for e in lexicon("groups") for h in e["heads"]}, key=len, reverse=True)
    alternatives = "|".join(re.escape(h) for h in heads)
    return re.compile(r"\b[\w-]*(?:" + alternatives + r")(?:en|n|s)?(?:reisen?|besuche?)?\b(?:\s+(?:des|der|aus|von)\s+(?:[\w-]+\s+){0,3}?(?-i:[A-ZÄÖÜ][\w-]+(?:\s+[A-ZÄÖÜ][\w-]+)*))?",
                      re.IGNORECASE)


def _group(text: str, a: int, b: int) -> _Traveller | None:
    """A group that travels: "Die EU-Außenminister wollen sich in Brüssel treffen", "Eine Delegation des
    Europäischen Parlaments reist nach Polen"."""
    for m in _group_pattern().finditer(text, a, b):
        if not m.group(0)[:1].isupper() or re.match(r"(?:[\w-]*-)?Truppen\b", m.group(0)):
            continue  # "Truppen": soldiers (Duden: Truppe 1, military), who are sent, not travelling; "die Truppe" is a stage's
        name = m.group(0).strip()
        trip_noun = re.search(r"s?(?:reisen?|besuche?)$", name)
        if trip_noun and not re.search(r"\s", name):  # "Delegationsreisen": the compound's group travels
            name = name[:trip_noun.start()]
            return _Traveller(name, m.start(), m.start() + len(name), None, "delegation" if "elegation" in name else "other", True)
        kind = "delegation" if "elegation" in name else "official" if re.search(r"minister|regierung|staats|staaten", name, re.I) else "other"
        # the short form in parentheses after the group's name: "die Gruppe der Acht führenden Industrienationen (G8)"
        short = re.match(r"(?:\s+[\w-]+){0,3}?\s*\((?P<abbr>[A-ZÄÖÜ][A-ZÄÖÜ0-9-]{1,9})\)", text[m.end():m.end() + 80])
        return _Traveller(f"{name} ({short['abbr']})" if short else name, m.start(), m.end(), None, kind, True)
    return None


def _qualified_role(role: str) -> bool:
    """A role that says whose it is ("der libanesische Präsident", "US-Präsident", "NATO-Generalsekretär"): it
    names one person even without a name; a bare "Sprecher" or "Pilot" names nobody in particular."""
    from ingest.annotate import role_of

    words = role.split()
    return bool(words) and role_of(words[-1]) is not None and (len(words) >= 2 or "-" in words[-1])


def _named_thing(text: str, a: int, p: Entity) -> bool:
    """A one-word name after a common noun that is no role names a thing or an animal, not a person:
    "Hurrikan Katrina", "Bär Bruno", "Rettungshubschrauber Christoph" (the German close apposition, Duden
    grammar §1551: Gattungsbezeichnung + Eigenname)."""
    from ingest.annotate import role_of

    if p.attrs.get("form") != "name" or p.attrs.get("role"):
        return False
    if re.search(r"[„\"«»]\s*$", text[max(a, p.start - 2):p.start]) and re.match(r"\s*[“\"«»]", text[p.end:p.end + 2]):
        return True  # a name in quotation marks: a nickname, a ship's or a helicopter's name
    if " " in p.text and not re.search(r"\d", p.text):
        return False
    before = WORD.findall(text[max(a, p.start - 40):p.start])
    if len(before) < 2:
        return False
    noun = before[-1]
    return noun[:1].isupper() and role_of(noun) is None and fold(noun) not in _ARTICLES


@lru_cache(maxsize=1)
def _place_nouns_folded() -> frozenset[str]:
    return frozenset(fold(n) for n in place_nouns())


# Prepositions that say where something is, not where someone goes, with a dative (Duden grammar §§ 882-886).
_LOCATIVE = frozenset({"in", "im", "bei", "beim", "am", "an"})
_ARTICLES = frozenset({"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "eines", "einer"})


def _hosted(text: str, a: int, p: Entity) -> bool:
    """Someone the traveller meets or is received by, not who travels: "traf … mit X zusammen", "empfing X"? no:
    "wurde von X empfangen", "Gespräche mit X"."""
    before = text[max(a, p.start - 40):p.start]
    return bool(re.search(r"\b(?:mit|traf\w*|trifft|bei|empfangen\s+von|von\s+(?:\w+\s+){0,3}empfangen)\s+(?:\w+\s+){0,3}$", before, re.I)) and \
        not re.search(r"\b(?:gemeinsam|zusammen)\s+mit\s+(?:\w+\s+){0,3}$", before, re.I)


def _after_comma_clause(text: str, p: Entity, cue: _Cue) -> bool:
    """A person in a relative or quoted clause between the subject and the cue ("…, der X kritisierte, reiste")."""
    between = text[p.end:cue.start]
    return between.count(",") >= 2 or "„" in between


def _clause_break(text: str, cue: _Cue, place: Entity) -> bool:
    """A sentence or clause boundary between the cue and the place: ";", ":", a full stop, or a comma that
    starts a new main clause with a pronoun ("…, es gilt als …")."""
    lo, hi = (cue.end, place.start) if cue.end <= place.start else (place.end, cue.start)
    return bool(re.search(rf"[;:]|{_FULL_STOP}|,\s+(?:es|er|sie|wir|man|dies|das)\s", text[lo:hi]))


def _demonym_use(text: str, place: Entity) -> bool:
    """A place name used as a demonym before a noun ("Berliner Delegation", "Hamburger Senat")."""
    return bool(re.match(r"(?:er|ern)\b", text[place.end:place.end + 3]))
