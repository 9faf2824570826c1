"""Do the retrieved articles hold what the question is about? Decided from evidence, not from similarity:
the closest passage about Japan does not answer a question about Brazil.

For each retrieved article: which of the question's critical terms (places, names, organisations, years)
it lacks, and how many of the terms a follow-up carries from the conversation it has. Every backend asks
this before answering; no model is asked what the articles cannot say.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.answer import Draft, refusal
from assistant.concepts import concepts_of
from assistant.question import DURATION, MONEY, NAMING, Question, Term, counts_asked, names_an_instance, new_people
from index.reading import ArticleReading, places_with_containers
from index.retrieve import Passage
from index.terms import content_stems, matches_any
from ingest.annotate import Entity, general_role, role_of
from ingest import gazetteer
from ingest.clean import fold
from ingest.sentences import sentence_spans
from trips.reader import companion_cue_end, companion_cue_in


_HOW_MANY = re.compile(r"\b(?:wie viele[nm]?|how many)\s", re.IGNORECASE)
ABOUT_MARGIN = 0.2  # an article is about the question when it mentions nearly as much of it as the best one


@dataclass
class Coverage:
    """What one retrieved article has of the question."""

    doc_id: str
    missing: list[Term]  # critical terms of the question the article never mentions
    carried_found: int  # critical terms carried from the conversation that it does mention
    share: float = 1.0  # of the words naming what the question is about, those the article mentions (compounds count)


@dataclass
class Evidence:
    coverage: dict[str, Coverage]  # per retrieved article, in retrieval order
    lacking: str | None = None  # the kind of fact asked for that no retrieved passage of those articles states
    readings: dict[str, ArticleReading] = field(default_factory=dict)  # the retrieved articles and their annotations
    # a follow-up that names nothing of its own ("Wer begleitete ihn?") is about the articles that mention most of
    # what the conversation named, not about every retrieved one
    stays_in_conversation: bool = False

    def entities(self, passage: Passage, start: int = 0, end: int | None = None) -> list[Entity]:
        """The annotation's persons, organisations, places and dates inside [start, end) of a passage."""
        reading = self.readings.get(passage.doc_id)
        return reading.entities_in(passage.text, start, end) if reading else []

    def sentences(self, passage: Passage) -> list[tuple[str, list[Entity]]]:
        """A passage's sentences, each with its entities."""
        return [(passage.text[a:b], self.entities(passage, a, b)) for a, b in sentence_spans(passage.text)]

    @property
    def usable(self) -> list[str]:
        """The articles that mention everything the question names, in retrieval order (for a follow-up that
        names nothing of its own, those of them that mention most of what the conversation named)."""
        docs = [doc for doc, c in self.coverage.items() if not c.missing]
        if self.stays_in_conversation and docs:
            most = max(self.coverage[d].carried_found for d in docs)
            # none mentions anything the conversation named ("When did they travel?" after a question about
            # Brazil that no article answered): no article is about it
            docs = [d for d in docs if self.coverage[d].carried_found == most] if most else []
        return docs

    def refusal(self, q: Question, generation: str = "extractive") -> Draft | None:
        """The refusal naming what is missing when no retrieved article covers the question's critical
        terms, else None."""
        if not self.coverage:
            return refusal(q.lang, generation=generation)
        if self.usable:
            who = next((t.word for t in q.critical if t.names), None)
            return refusal(q.lang, generation=generation, lacking=self.lacking, who=who) if self.lacking else None
        if self.stays_in_conversation:  # a follow-up naming nothing of its own, about what no article mentions
            return refusal(q.lang, missing=[t.word for t in q.carried_critical], generation=generation)
        # what no article mentions at all; when each term is in some article but none has them all, say that
        # instead of naming one article's gap as if no article mentioned it
        nowhere = [t.word for t in q.critical if all(any(m is t for m in c.missing) for c in self.coverage.values())]
        if nowhere:
            return refusal(q.lang, missing=nowhere, generation=generation)
        apart = [t.word for t in q.critical if any(any(m is t for m in c.missing) for c in self.coverage.values())]
        return refusal(q.lang, apart=apart, generation=generation)


def gather(q: Question, passages: list[Passage], article: Callable[[str], ArticleReading | None],
           register_quotes: dict[str, list[str]] | None = None) -> Evidence:
    """The coverage of each retrieved article (`article(doc_id)` gives it with its annotation), and whether the
    slot the question asks for is stated in their passages at all (`register_quotes`: by article, the words
    the trip register read the leaders or companions the question asks for from)."""
    readings = {doc: r for doc in dict.fromkeys(p.doc_id for p in passages) if (r := article(doc)) is not None}
    evidence = Evidence({doc: _coverage(doc, q, passages, readings.get(doc)) for doc in dict.fromkeys(p.doc_id for p in passages)},
                        readings=readings, stays_in_conversation=bool(q.carried_critical) and not q.critical)
    if evidence.usable:  # the kind of fact is looked for in the articles about what was asked, not in any retrieved one
        best = max(evidence.coverage[d].share for d in evidence.usable)
        about = {d for d in evidence.usable if evidence.coverage[d].share >= best - ABOUT_MARGIN}
        evidence.lacking = _lacking(q, [p for p in passages if p.doc_id in about], evidence, register_quotes or {})
    return evidence


def _lacking(q: Question, passages: list[Passage], evidence: Evidence, register_quotes: dict[str, list[str]]) -> str | None:
    """The slot the question asks for (question.asked_slot) when no sentence of the passages of the articles
    about it states a value of it (`states`): then the articles do not say, however close their text is."""
    if not passages or q.slot is None:
        return None
    if any(states(q, sentence, entities, tuple(register_quotes.get(p.doc_id, ())), published=p.date)
           for p in passages for sentence, entities in evidence.sentences(p)):
        return None
    return q.slot


# how long, said by when it ends (Duden: "bis", Präposition, gibt den Endpunkt an: "bis zum Ende des Jahres", "bis
# ins 19. Jahrhundert", "bis heute"; Merriam-Webster: until, till)
_UNTIL = re.compile(r"\b(?:bis\s+(?:zu[mr]|ins?|weit|Ende|Mitte|Anfang|heute|jetzt|\d)|until|till)\b", re.IGNORECASE)
# when, said by the condition or the moment it happens (Duden: the temporal and conditional conjunctions "wenn",
# "sobald", "solange", "nachdem", "bevor"; Merriam-Webster: when, whenever, once)
_CONDITION = re.compile(r"\b(?:wenn|sobald|solange|nachdem|bevor|when|whenever|once)\b", re.IGNORECASE)
# what a news sentence reports as happening at the article's date: the present and the present perfect's
# auxiliaries (Duden, Grammatik: Präsens, Perfekt), not the preterite or pluperfect of what happened before
_REPORTED_AS_NOW = re.compile(r"\b(?:ist|sind|hat|haben|is|are|has|have)\b", re.IGNORECASE)
_REPORTED_AS_PAST = re.compile(r"\b(?:war|waren|hatte|hatten|wurde|wurden|had|was|were)\b", re.IGNORECASE)
# a question for the day itself (Duden: "an welchem Tag", Datum; English "on which day", "what date")
_DAY_ASKED = re.compile(r"\b(?:an welchem tag|welche[nms]? tag|(?:on )?(?:which|what) (?:day|date)|datum)\b", re.IGNORECASE)


def states(q: Question, sentence: str, entities: list[Entity], register_quotes: tuple[str, ...] = (),
           published: str | None = None) -> bool:
    """Whether a sentence (with its annotation's entities) states a value of the slot the question asks for:
    - a date ("an welchem Tag": a day) in a sentence of the relation asked about, when the question names one;
      or, for "wann", a sentence of that relation in the present or present perfect in an article of a known
      date (`published`): news reports what is happening as of its date ("… ist zu einem Besuch nach China
      aufgebrochen");
    - named people the question does not name ("wer": people or organisations; "wie heißt die Freundin": a
      person, in a sentence that speaks of the Freundin); people who came along, in a sentence that says they
      did, or the trip register read them from it (`register_quotes`);
    - a place, or an organisation, the question does not name (for "welches Hotel", "welche Fluggesellschaft":
      in a sentence that speaks of one); an agreement or result in a sentence that speaks of signing or opening;
    - an amount of money; a number of what is counted.
    A sentence that names places, none of them the question's, is about another place ("Wann tritt die Band in
    Bern auf?" is not answered by the date of the concert in Düsseldorf)."""
    slot = q.slot
    if slot == "amount":
        return bool(MONEY.search(sentence))
    if slot == "duration":  # a length of time, from when to when ("von 1321 bis 1323") or until when, of what was asked
        return (DURATION.search(sentence) is not None or sum(e.kind == "date" for e in entities) >= 2 or
                _UNTIL.search(sentence) is not None) and _of_question(q, sentence, entities)
    if slot == "number":
        return not (q.head and _HOW_MANY.search(q.text)) or counts_asked(sentence, q)
    if slot not in ("place", "organisation") and not _same_places(q, entities):
        return False  # (a place asked for is another than those the question names)
    if _another_countrys_group(q, sentence):
        return False
    if slot in ("person", "companion") and any(quote in sentence for quote in register_quotes):
        return True
    if slot == "date":
        dates = [e for e in entities if e.kind == "date"]
        day_asked = _DAY_ASKED.search(q.text) is not None
        if day_asked:
            dates = [e for e in dates if e.attrs.get("precision") == "day"]
        if not dates and published and not day_asked and _REPORTED_AS_NOW.search(sentence) and \
                not _REPORTED_AS_PAST.search(sentence) and of_relation(q, sentence) and _of_question(q, sentence, entities):
            return True
        if not dates and not q.critical and _CONDITION.search(sentence):  # "Wann rostet ein Nagel?" asks in general:
            return _does_asked(q, sentence)  # "Ein Nagel rostet, wenn er feucht bleibt" answers it
        if dates and not q.predicate_concepts and q.concepts & TRIP_CONCEPTS and q.critical:
            # "An welchem Tag reist X nach Osttimor?" (a trip the only relation): the date of a trip, not of the
            # meeting or the war the article also dates ("Gestern traf sich Gusmão mit X")
            return bool(concepts_of(sentence) & TRIP_CONCEPTS)
        return bool(dates) and (not q.predicate_concepts or of_relation(q, sentence))
    if slot == "companion":
        return bool(_companions_named(entities, q, sentence)) and (_companion_cue(sentence) or
                                                                   bool(_joined_to_asked(entities, q, sentence)))
    if slot == "person":
        if q.head and (NAMING.search(q.text) or role_of(q.head_text or "") or general_role(q.head_text or "")):
            # "Wie hieß der Bürgermeister, der …", "Which senator travelled …?": a name in a sentence of a
            # mayor, a senator (a role: ingest/lexicon/de/roles.yaml), not anyone the sentence names; "Welche
            # Politiker …?" (the general noun of a kind of role) by anyone named with a role of that kind
            return bool(_named(entities, q, ("person",))) and (of_head(q, sentence) or _of_general_role(q, entities))
        # who went there: a person named beside the place, in a sentence of no trip, did not ("Which senator
        # travelled …?" asks by what the person is, above; the question said again answers it, below)
        trip_asked = not q.head and q.concepts & TRIP_CONCEPTS and q.places and not concepts_of(sentence) & TRIP_CONCEPTS
        if _named(entities, q, ("person", "org")) and not trip_asked:
            return True
        # no name, but people by what they are, doing what was asked ("Ein Anwalt kann Ausnahmen beantragen"
        # answers "Wer kann Ausnahmen beantragen?"): the verb asked about itself, when the question has one;
        # or the question said again with its gap filled ("Studenten strömten nach Wittenberg, um Luther zu hören")
        return (bool(new_people([e for e in entities if e.kind == "person"], q)) and _does_asked(q, sentence)) or \
            restates(q, sentence)
    if slot == "name":  # "Wie heißt die Brücke …?": a sentence of the bridge that names it
        return (of_head(q, sentence) and (_NAMING_CUE.search(sentence) is not None or _NAME_GIVEN.search(sentence) is not None
                                          or _names_new(q, entities))) or restates(q, sentence)
    if slot in ("place", "organisation"):
        if restates(q, sentence):  # the question said again with the gap filled by words of the sentence's own:
            return True  # "Von wo aus würden … messen?" — "…, die Messung von einer Satellitenplattform aus …"
        new_place = any(e.kind == "place" and e.attrs.get("id") not in q.places for e in entities)
        if not q.head or names_an_instance(q.head_text):  # "welche Stadt", "welche Firmen": any named one
            return new_place if slot == "place" else bool(_named(entities, q, ("org",)))
        # "In welchem Hotel …?": a hotel's name ("im Hotel Adlon"), not the town the sentence names its hotels in
        # ("In München gab es keine freien Hotelzimmer"): a town, region or country answers only a question for one
        new_venue = any(e.kind == "place" and e.attrs.get("id") not in q.places and e.attrs.get("level") not in _AREAS
                        for e in entities) or _name_after(q.head_text, sentence)
        return (new_venue or bool(_named(entities, q, ("org", "person")))) and of_head(q, sentence)
    if slot == "outcome":  # "Welches Abkommen unterzeichnete …?": a sentence with the agreement or the signing
        stems = set(content_stems(sentence))
        return any(matches_any(s, stems) for s in (q.head, q.predicate) if s)
    return True


# the words a name is given with (Duden: heißen, nennen, bezeichnen, lauten; Merriam-Webster: called, named)
_NAMING_CUE = re.compile(r"\b(?:hei(?:ß|ss)t|hie(?:ß|ss)en?|genannt|namens|Namen|Name|bezeichnet|bekannt als|lautet|lautete|"
                         r"called|named|known as)\b")


# or a name set beside the noun: after "ist"/"war" ("Die erste Siedlung war Pons Aelius"), after a dash or a
# colon ("der zweiten Verwaltungsebene – Landkreise oder Powiaty"), or before the noun set in parentheses
# with its article (Duden, Grammatik: the apposition in brackets, "Der Merkur (der sonnennächste Planet) …")
_NAME_GIVEN = re.compile(r"(?:\b(?:ist|war|sind|waren|is|was|are|were)\s+(?:[a-zäöüß]\w*\s+){0,2}|\s[–—:-]\s*)[A-ZÄÖÜ\"„“]"
                         r"|\b[A-ZÄÖÜ]\w+\s+\((?:der|die|das|des|dem|den|the|an?)\s")


_AREAS = {"city", "region", "country", "continent"}  # the levels of the gazetteer's places (ingest/gazetteer.py)


def _name_after(noun: str | None, sentence: str) -> bool:
    """The noun followed by a name ("Hotel Adlon", "im Hotel „Zur Post“"): German writes a proper name after
    the noun it names in capitals (Duden, Rechtschreibung: Eigennamen)."""
    return bool(noun) and re.search(rf"\b(?i:{re.escape(noun)})\s+[„\"]?[A-ZÄÖÜ]", sentence) is not None


def _names_new(q: Question, entities: list[Entity]) -> bool:
    """The sentence names a person, organisation or place the question does not."""
    return bool(_named(entities, q, ("person", "org"))) or \
        any(e.kind == "place" and e.attrs.get("id") not in q.places and fold(e.text) not in fold(q.text) for e in entities)


def _of_question(q: Question, sentence: str, entities: list[Entity]) -> bool:
    """The sentence speaks of what the question is about: one of the people or places it names, one of its
    concepts (a visit, a trip), or another of its words."""
    stems = set(content_stems(sentence))
    places = places_with_containers([e for e in entities if e.kind == "place"])
    if any(t.found_in(stems, places, sentence) for t in q.critical):
        return True
    return bool(q.concepts & concepts_of(sentence)) or any(matches_any(a, stems) for a in _other_words(q))


RESTATED = 0.75  # of the question's words (its verb among them), those a sentence must say again to restate it


def restates(q: Question, sentence: str) -> bool:
    """The sentence says the question again, with more words than it: the verb asked about (when the question
    has one of its own) and three in four of its other words, and words of its own where the question asks
    ("Wer kann Ausnahmen beantragen, …?" — "Ein Anwalt kann Ausnahmen anstreben, …"): the words it has beyond
    the question's are where the answer stands, named or not ("Studenten strömten nach Wittenberg, …")."""
    stems = set(content_stems(sentence))
    asked = [a for a in dict.fromkeys(q.subject_stems) if a]
    if len(asked) < 3 or (q.predicate and not _does_asked(q, sentence)):
        return False
    said = sum(matches_any(a, stems) for a in asked)
    return said >= RESTATED * len(asked) and len(stems) > said + 1


def _does_asked(q: Question, sentence: str) -> bool:
    """The sentence says the verb the question asks about ("beantragen" for "Wer kann … beantragen?"), or, when
    the question's verb says nothing of its own ("war", "reiste"), two of its other words."""
    if q.predicate:
        return matches_any(q.predicate, set(content_stems(sentence))) or bool(concepts_of(sentence) & q.predicate_concepts)
    return of_relation(q, sentence)


def stated_values(q: Question, sentence: str, entities: list[Entity], published: str | None = None) -> list[str]:
    """What a sentence states of the asked slot, as written: the names, places, organisations, dates or amounts
    (for a lead that says the answer before the quotes); a date that only the article's date gives, as that."""
    slot = q.slot
    if slot == "amount":
        return [m.group(0).strip() for m in MONEY.finditer(sentence)][:2]
    if slot == "companion":
        return _companions_named(entities, q, sentence)[:4]
    if slot == "person":
        people_only = bool(q.head and (role_of(q.head_text or "") or general_role(q.head_text or "")))  # "Which senator …?"
        return _named(entities, q, ("person",) if people_only else ("person", "org"))[:4]
    if slot == "organisation":
        return _named(entities, q, ("org",))[:3]
    if slot == "place":
        return list(dict.fromkeys(e.attrs.get("name") or e.text for e in entities
                                  if e.kind == "place" and e.attrs.get("id") not in q.places))[:4]
    if slot == "date":
        return [e.text for e in entities if e.kind == "date"][:2] or ([f"reported on {published}"] if published else [])
    if slot == "duration":
        return [m.group(0) for m in DURATION.finditer(sentence)][:2]
    return []


def _same_places(q: Question, entities: list[Entity]) -> bool:
    # a town's or country's adjective tells who someone is, not where the sentence is ("die Essener Start-ups")
    named = [e for e in entities if e.kind == "place" and not (e.attrs.get("id") or "name:").startswith("name:")
             and e.attrs.get("form") not in ("demonym", "adjective")]
    if not q.places or not named:
        return True
    if any(t.found_in(set(), places_with_containers(named), "") for t in q.critical if t.place):
        return True
    # the same name read as another town of that name: a question has no article around it to tell which
    # Newcastle it means, the article does ("im heutigen Newcastle" of an English article)
    written = {fold(e.text) for e in named}
    if any(fold(t.word) in written for t in q.critical if t.place):
        return True
    # the sentence names where the question's places lie ("eine Reise in die USA" for New York and Boston)
    countries = {f"country:{p.country}" for p in map(gazetteer.by_id, q.places) if p is not None and p.country}
    return bool(countries & {e.attrs.get("id") for e in named})


# A group named by its country's adjective before its noun: "die indische Delegation", "the Indian team" (Duden:
# attributives Adjektiv; the adjectives of countries are CLDR's, ingest/gazetteer.py `adjective_country`)
_ADJECTIVE_NOUN = re.compile(r"([\w-]+)\s+(?=([\w-]{4,}))")


def _groups_by_country(text: str) -> dict[str, set[str]]:
    """{the noun's stem: the countries whose adjective stands before it}: "der pakistanischen Delegation" ->
    {"delegation": {"PK"}}."""
    out: dict[str, set[str]] = {}
    for m in _ADJECTIVE_NOUN.finditer(text):
        country = gazetteer.adjective_country(m[1])
        stems = content_stems(m[2]) if country else []
        if stems:
            out.setdefault(stems[0], set()).add(country)
    return out


def _another_countrys_group(q: Question, sentence: str) -> bool:
    """The question asks about a country's group ("Wer leitete die indische Delegation?") and the sentence speaks
    of the same noun of another country only ("…, der Leiter der pakistanischen Delegation"): another group."""
    asked = _groups_by_country(q.text)
    if not asked:
        return False
    named = _groups_by_country(sentence)
    if not named:
        return False
    anywhere = {c for w in sentence.split() if (c := gazetteer.adjective_country(w.strip(",.;:")))}
    # "die indische und die pakistanische Delegation": the asked country's group is there too
    return any(noun in named and not (countries & anywhere) for noun, countries in asked.items())


def of_head(q: Question, sentence: str) -> bool:
    """The sentence speaks of the noun the question asks for ("Hotel", "Freundin"; "ambassador" by its concept:
    Botschafter), or the question names none."""
    if not q.head:
        return True
    if matches_any(q.head, set(content_stems(sentence))):
        return True
    return bool(concepts_of(q.head_text or "") & concepts_of(sentence))


def of_relation(q: Question, sentence: str) -> bool:
    """The sentence speaks of the relation the question asks about ("unterzeichnet", "besuchte"), or of two of
    its other words."""
    if concepts_of(sentence) & q.predicate_concepts:
        return True
    stems = set(content_stems(sentence))
    return sum(matches_any(a, stems) for a in _other_words(q)) >= 2


def _other_words(q: Question) -> list[str]:
    """The question's word stems beside the names it gives (those chose the article already)."""
    named = {s for t in q.critical for s in (t.names or (t.stem,))}
    return [s for s in dict.fromkeys(q.stems) if s not in named]


def _named(entities: list[Entity], q: Question, kinds: tuple[str, ...]) -> list[str]:
    """Names (persons by name, not by role or pronoun; organisations) the question does not name."""
    named = [e for e in entities if e.kind in kinds and (e.kind == "org" or e.attrs.get("form") in ("name", "surname"))]
    return new_people(named, q)


# a trip, said as one ("reiste", "besuchte", "Aufenthalt"; ingest/lexicon/de/concepts.yaml): "Wer reiste nach
# Indien?" asks for the traveller, whom a sentence names only where it speaks of going there
TRIP_CONCEPTS = frozenset({"travel", "visit"})


def _of_general_role(q: Question, entities: list[Entity]) -> bool:
    """The question asks by the general noun of a kind of role ("Politiker": ingest/lexicon/de/roles.yaml
    `general`) and the sentence names a person with a role of that kind ("Bundeskanzlerin Angela Merkel")."""
    kind = general_role(q.head_text or "")
    return kind is not None and any(e.kind == "person" and e.attrs.get("role_kind") == kind and e.attrs.get("name")
                                    for e in entities)


def _companions_named(entities: list[Entity], q: Question, sentence: str) -> list[str]:
    """People named who came along: after a companion cue where the sentence has one ("Begleitet wurde
    Guttenberg von X und Y": X and Y), and not the one the conversation asks about ("Who came along?" after a
    question about Guttenberg's visit is not answered by Guttenberg)."""
    end = companion_cue_end(sentence)
    if end is not None:
        entities = [e for e in entities if sentence.find(e.text) >= end]
    asked = {fold(w) for t in q.carried_critical for w in t.word.split() if len(w) >= 3}
    return [name for name in _named(entities, q, ("person",)) if not {fold(w) for w in name.split()} & asked]


# Persons joined by "und" or "sowie", each perhaps with an apposition ("X, Geschäftsführer der Y GmbH, und Z"):
# they did together what the sentence says (Duden: "und" verbindet gleichrangige Satzteile; Merriam-Webster: and)
_JOINED = re.compile(r"\s*(?:,[^,;:.!?]{0,80})?,?\s+(?:und|sowie|and)\s+")


# Two parties facing each other, not a group: "zwischen X und Y", "between X and Y" (Duden: zwischen, drückt eine
# Wechselbeziehung aus; Merriam-Webster: between, "in common to or shared by"): one did not come along with the other
_FACING = re.compile(r"\b(?:zwischen|between)\s+(?:\S+\s+){0,3}$", re.IGNORECASE)


def _joined_to_asked(entities: list[Entity], q: Question, sentence: str) -> list[str]:
    """The persons the sentence joins by "und" to one the question names ("Besides Rasmus Beck, who signed …?"
    is stated by "… unterzeichneten Rasmus Beck, Geschäftsführer der …, und Jens Hildebrandt …"); for who came
    along on a trip, not the two of "zwischen X und Y" (the parties of a talk: "Wer begleitete Sarkozy bei seinem
    Staatsbesuch?"), who are the two who signed "zwischen X und Y" all the same."""
    along = bool(q.concepts & TRIP_CONCEPTS)
    asked = {fold(w) for t in q.critical + q.carried_critical for w in t.word.split() if len(w) >= 3}
    people = sorted(((sentence.find(e.text), e) for e in entities if e.kind == "person" and sentence.find(e.text) >= 0),
                    key=lambda pe: pe[0])
    out = []
    for (a, first), (b, second) in zip(people, people[1:]):
        names = [{fold(w) for w in (e.attrs.get("name") or e.text).split()} for e in (first, second)]
        if along and _FACING.search(sentence[:a]):
            continue
        if _JOINED.fullmatch(sentence[a + len(first.text):b]) and bool(names[0] & asked) != bool(names[1] & asked):
            other = second if names[0] & asked else first
            out.append(other.attrs.get("name") or other.text)
    return out


# the verbs of coming along, any form (Duden: begleiten, teilnehmen, mitreisen; Merriam-Webster: accompany)
_ALONG = re.compile(r"\b(?:begleit|teilnehm|teilgenommen|mitgereist|mitreis|accompan)")


def _companion_cue(sentence: str) -> bool:
    """A cue after which people travel along ("begleitet von", "gemeinsam mit"; ingest/lexicon/de/companions.yaml;
    read as the trip reader reads it, trips.reader.companion_cue_in), or a verb of coming along ("begleiteten", "nahmen teil")."""
    return companion_cue_in(sentence) or _ALONG.search(fold(sentence)) is not None


def _coverage(doc_id: str, q: Question, passages: list[Passage], reading: ArticleReading | None) -> Coverage:
    title = next(p.title for p in passages if p.doc_id == doc_id).replace("_", " ")  # "Doctor_Who": a page's name
    date = next((p.date for p in passages if p.doc_id == doc_id and p.date), "") or ""
    body = reading.text if reading else "\n".join(p.text for p in passages if p.doc_id == doc_id)
    text = f"{title}\n{date}\n{body}"
    stems = set(content_stems(text))
    places = reading.place_ids() if reading else set()
    missing = [t for t in q.critical if not t.found_in(stems, places, text)]
    carried = sum(t.found_in(stems, places, text) for t in q.carried_critical)
    asked = list(dict.fromkeys(q.subject_stems))
    share = sum(matches_any(s, stems) for s in asked) / len(asked) if asked else 1.0
    return Coverage(doc_id, missing, carried, share)
