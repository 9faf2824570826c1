"""The annotation layer: every article is read once, at ingest, and what it says about people, places,
organisations and dates is kept as character spans of its text. The trip register, the question analysis and
the evidence check read these spans; none of them detects names, places or dates on its own.

    annotate(text, published) -> Annotation (and the sentences' vectors, for the index: one forward pass)

- sentences: ingest/sentences.py (tuned on German news: abbreviations, initials, ordinals);
- language: lingua, among the languages the news is written in;
- persons, places, organisations: the entity tagger (ingest/entities.py) on the encoder's token states;
  then each person gets their full name (a later "Merkel" or "die Kanzlerin" or a sentence-initial "Sie"
  points to the "Angela Merkel" the article named), their role ("Bundeskanzlerin", "US-Präsident") and
  organisation ("CDU-Politiker", "(SPD)"); each place its gazetteer record (country, level), descriptions
  resolved ("die polnische Hauptstadt" -> Warschau), compounds read ("Israelreise", "Nordvietnam");
- dates: ingest/dates_in_text.py, relative ones against the publication date.

`delegations annotate FILE.jsonl --json` prints the layer for any text. ANNOTATOR is raised whenever what is
read changes, so `delegations reindex` knows which articles to read again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ingest.clean import fold, fold_accents

ANNOTATOR = "8"
LEXICON = Path(__file__).with_name("lexicon")


@dataclass
class Entity:
    kind: str  # person | org | place | date
    start: int
    end: int
    text: str
    sentence: int
    attrs: dict = field(default_factory=dict)
    # person: name (the full name it refers to), role, role_kind (official | business | …, ingest/lexicon/de/
    #         roles.yaml), org, form (name | surname | role | pronoun), gender
    # place: id, name, country, level (city | region | country | continent | unknown), form (name | compound |
    #        description | adjective | demonym)
    # date: value (ISO), precision (day | week | month | year), relative
    # org: name

    def to_json(self) -> dict:
        return {**self.attrs, "kind": self.kind, "start": self.start, "end": self.end, "text": self.text,
                "sentence": self.sentence}


@dataclass
class Annotation:
    language: str
    sentences: list[tuple[int, int]]
    entities: list[Entity]
    version: str = ANNOTATOR

    def of_kind(self, kind: str, sentence: int | None = None) -> list[Entity]:
        return [e for e in self.entities if e.kind == kind and (sentence is None or e.sentence == sentence)]

    def in_sentence(self, sentence: int) -> list[Entity]:
        return [e for e in self.entities if e.sentence == sentence]

    def to_json(self) -> dict:
        return {"version": self.version, "language": self.language,
                "sentences": [{"start": a, "end": b} for a, b in self.sentences],
                "entities": [e.to_json() for e in self.entities]}

    @classmethod
    def from_json(cls, row: dict) -> Annotation:
        entities = []
        for e in row["entities"]:
            attrs = {k: v for k, v in e.items() if k not in ("kind", "start", "end", "text", "sentence")}
            entities.append(Entity(e["kind"], e["start"], e["end"], e["text"], e["sentence"], attrs))
        return cls(row["language"], [(s["start"], s["end"]) for s in row["sentences"]], entities, row.get("version", ""))


# -- lexicons (data files beside this module, each entry with its source)

@lru_cache(maxsize=None)
def lexicon(name: str):
    import yaml

    return yaml.safe_load((LEXICON / "de" / f"{name}.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _role_heads() -> list[tuple[str, str]]:
    """(folded head, trip kind), longest first: "ministerpräsident" before "präsident"."""
    heads = [(fold(h), entry["kind"]) for entry in lexicon("roles") for h in entry["heads"]]
    return sorted(set(heads), key=lambda hk: -len(hk[0]))


@lru_cache(maxsize=65536)
def role_of(word: str) -> tuple[str, str] | None:
    """(the role word's head, its trip kind) when a word names a role: "US-Präsidentin" -> ("präsident",
    "official"). Feminine (-in, -innen) and plural (-en, -e) forms count. (Asked for every capitalised word:
    worked out once per word.)"""
    w = fold(word.split("-")[-1] if "-" in word else word)
    for head, kind in _role_heads():
        for ending in ("", "in", "innen", "en", "e", "n", "s"):
            if w.endswith(head + ending) and (w == head + ending or len(head) >= 4):
                return head, kind
    return None


@lru_cache(maxsize=1)
def _general_roles() -> dict[str, str]:
    return {fold(w): e["kind"] for e in lexicon("roles") for w in e.get("general", ())}


def general_role(word: str) -> str | None:
    """The kind of role a general noun names ("Politiker", "politicians": official), or None."""
    f = fold(word).lower()
    return next((kind for w, kind in _general_roles().items() if f == w or f == w + "n" or f == w + "s"), None)


def feminine(word: str) -> bool:
    return bool(re.search(r"(in|innen)$", word)) and role_of(word) is not None


# -- language

@lru_cache(maxsize=1)
def _language_detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.GERMAN, Language.ENGLISH, Language.FRENCH, Language.ITALIAN, Language.SPANISH, Language.DUTCH,
        Language.POLISH, Language.TURKISH).with_low_accuracy_mode().build()


def language_of(text: str) -> str:
    """ISO 639-1 code of the text's language (de when undecided: the corpus is German news)."""
    found = _language_detector().detect_language_of(text[:2000])
    return found.iso_code_639_1.name.lower() if found else "de"


# -- the annotator

def annotate(text: str, published: str | None = None, encoded=None, sentences: list[tuple[int, int]] | None = None):
    """The annotation of one text, and {sentence text: its vector} (what the index embeds it by).
    `encoded`: the sentences already read by the encoder (the ingest reads them in batches across articles)."""
    from ingest.encoder import encoder
    from ingest.entities import tagger
    from ingest.sentences import sentence_spans

    sentences = sentences if sentences is not None else sentence_spans(text)
    texts = [text[a:b] for a, b in sentences]
    encoded = encoded if encoded is not None else encoder().encode(texts)
    raw: list[Entity] = []
    for i, ((a, _), sentence, enc) in enumerate(zip(sentences, texts, encoded)):
        for span in tagger().tag(sentence, enc.spans, enc.states):
            kind = {"PER": "person", "LOC": "place", "ORG": "org"}[span.kind]
            raw.append(Entity(kind, a + span.start, a + span.end, sentence[span.start:span.end], i))
    entities = _read(text, sentences, raw, published)
    vectors = {t: enc.vector for t, enc in zip(texts, encoded)}
    return Annotation(language_of(text), list(sentences), entities, ANNOTATOR), vectors


@dataclass
class ReadQuestion:
    """A question as the annotator reads it, and its vector as retrieval searches with it (e5's "query: "
    reading: one forward pass gives both)."""

    annotation: Annotation
    vector: list[float]


def read_question(text: str) -> ReadQuestion:
    """A question read like an article (the same tagger, gazetteer, roles and dates), with what its few words
    lack beside it: no article around it tells a place from a noun, so a name the gazetteer knows that the
    question writes capitalised is the place the user means ("Who led the delegation to the United States?"),
    a demonym the tagger took for an organisation is its place ("die Hamburger Delegation"), and a
    capitalised word right after a role names that person ("NASA-Chef Griffin")."""
    from ingest.encoder import encoder
    from ingest.entities import tagger

    encoded = encoder().encode([text], query=True)[0]
    sentences = [(0, len(text))]
    raw = []
    for span in tagger().tag(text, encoded.spans, encoded.states):
        kind = {"PER": "person", "LOC": "place", "ORG": "org"}[span.kind]
        raw.append(Entity(kind, span.start, span.end, text[span.start:span.end], 0))
    raw = [_demonym_place(e) for e in raw]
    raw += _role_named(text, raw)
    entities = _read(text, sentences, raw, None)
    entities += _named_places(text, entities)
    entities.sort(key=lambda e: (e.start, e.end))
    return ReadQuestion(Annotation(language_of(text), sentences, entities, ANNOTATOR), encoded.vector.tolist())


def _demonym_place(e: Entity) -> Entity:
    """An organisation named by a demonym ("Hamburger", "die Dresdner Wirtschaftsdelegation"): whose it is, the
    place the demonym names."""
    from ingest import gazetteer

    first = e.text.split()[0]
    if e.kind == "org" and gazetteer.demonym_place(first) and not gazetteer.place(first):
        return Entity("place", e.start, e.start + len(first), first, e.sentence)
    return e


_NAME_WORD = re.compile(r"[A-ZÄÖÜ][\w'’-]+")


def _role_named(text: str, found: list[Entity]) -> list[Entity]:
    """A capitalised word (or two) right after a role word, outside any entity: the person of that role
    ("Wirtschaftssenator Westhagemann", "NASA-Chef Griffin"; a place or a role is not a name)."""
    from ingest import gazetteer

    out = []
    for m in re.finditer(r"(?P<role>[\w-]+)\s+(?P<name>[A-ZÄÖÜ][\w'’-]+(?:\s+[A-ZÄÖÜ][\w'’-]+)?)", text):
        if role_of(m["role"]) is None or any(e.start < m.end("name") and m.start("name") < e.end for e in found + out):
            continue
        words = [w for w in m["name"].split() if role_of(w) is None and not gazetteer.place(w)]
        if not words or words[0] != m["name"].split()[0]:
            continue
        name = " ".join(words)
        start = m.start("name")
        out.append(Entity("person", start, start + len(name), name, 0))
    return out


_DIRECTIONS = "nach|in|im|auf|bei|aus"  # the words before a place someone goes to or is in
_PLACE_BEFORE = re.compile(rf"\b(?:{_DIRECTIONS}|von|to|from|at)\s+$", re.IGNORECASE)
_CAPITALISED_RUN = re.compile(r"[A-ZÄÖÜ][\w-]*(?:\s+[A-ZÄÖÜ][\w-]*){0,2}")


def _named_places(text: str, found: list[Entity]) -> list[Entity]:
    """Capitalised names the gazetteer knows, outside the entities found: countries, regions, continents, and
    cities of MIN_BACKOFF_POPULATION people or more (the longest name first: "New York", "Vereinigten Staaten"),
    and a city's demonym ("Kieler")."""
    from ingest import gazetteer

    out = []
    for run in _CAPITALISED_RUN.finditer(text):
        words = list(re.finditer(r"\S+", run.group(0)))
        i = 0
        while i < len(words):
            for j in range(len(words), i, -1):
                start, end = run.start() + words[i].start(), run.start() + words[j - 1].end()
                name = text[start:end]
                if any(e.start < end and start < e.end for e in found + out):
                    continue
                bare = _strip_inflection(name)
                hit = gazetteer.place(bare)
                if hit and not gazetteer.own_name(bare, hit) and not _PLACE_BEFORE.search(text[:start]):
                    hit = None  # only another name of a town ("Name", "Von"): a place where a preposition says so
                form = "name"
                if hit is None and j == i + 1:  # "die Kieler Handelsdelegation": whose delegation
                    hit, form = gazetteer.demonym_place(name), "demonym"
                if hit and (hit.level != "city" or hit.population >= MIN_BACKOFF_POPULATION or form == "demonym"):
                    out.append(Entity("place", start, end, name, 0, {"id": hit.id, "name": hit.name, "country": hit.country,
                                                                      "level": hit.level, "form": form}))
                    i = j - 1
                    break
            i += 1
    return out


def _read(text: str, sentences: list[tuple[int, int]], raw: list[Entity], published: str | None) -> list[Entity]:
    out: list[Entity] = []
    context = _countries_named(text, raw)
    described = _described_countries(text, raw)
    for e in raw:
        if e.kind == "place":
            own = described.get(fold_accents(_strip_inflection(e.text)))
            out.append(_place(e, text, [own] + context if own else context))
        elif e.kind == "org":
            e.attrs = {"name": e.text}
            out.append(e)
        elif _place_read_as_person(text, e, raw):
            out.append(_place(Entity("place", e.start, e.end, e.text, e.sentence), text, context))
        else:
            out.append(e)
    out += _gazetteer_places(text, sentences, out)
    out += _compound_places(text, sentences, out, context)
    out += _described_places(text, sentences, out)
    out = _persons(text, sentences, out)
    out = _without_false_places(out)
    dates = _dates(text, sentences, published)
    # a name inside a date is part of the date: "Mai" in "am 3. Mai 2021" is the month, not Mai in Kenya
    out = [e for e in out if not any(d.start <= e.start and e.end <= d.end for d in dates)] + dates
    return sorted(out, key=lambda e: (e.start, e.end))


# Where a place stands: "in", "im", "ins" (Duden: lokale Präpositionen; not "nach", which is also "after": "Nach
# Schröder sprach Merkel"), an adjective or article between ("im benachbarten Aileu")
_WHERE = re.compile(r"\b(?:in|im|ins)\s+(?:[\w-]+\s+)?$", re.IGNORECASE)


def _place_read_as_person(text: str, e: Entity, raw: list[Entity]) -> bool:
    """One word the tagger took for a person that the gazetteer knows as a place and not as a first name, right
    after a preposition of place ("lagerten im benachbarten Aileu"), and no person of the article has it as a
    family name: the place."""
    from ingest import gazetteer

    if e.kind != "person" or " " in e.text or not _WHERE.search(text[max(0, e.start - 40):e.start]):
        return False
    if gazetteer.place(e.text) is None or gazetteer.is_first_name(e.text):
        return False
    return not any(p.kind == "person" and p is not e and " " in p.text and p.text.split()[-1] == e.text for p in raw)


def _without_false_places(entities: list[Entity]) -> list[Entity]:
    """Places that are none: a name the gazetteer does not know written in lowercase ("polnischen": German
    writes every name capitalised, Duden rule 60), one inside a place the annotation resolved ("polnischen" in
    "polnischen Hauptstadt"), and a compound's first part that is a person named in the article
    ("Cameron-Gipfel": the summit is about David Cameron, not in Cameron, Veracruz)."""
    places = [e for e in entities if e.kind == "place"]
    surnames = {fold_accents(e.attrs["name"].split()[-1]) for e in entities if e.kind == "person" and e.attrs.get("name")}

    def false(e: Entity) -> bool:
        unknown = str(e.attrs.get("id", "")).startswith("name:")
        if unknown and e.text[:1].islower():
            return True
        if unknown and any(o is not e and o.start <= e.start and e.end <= o.end and (o.end - o.start) > (e.end - e.start)
                           for o in places):
            return True
        return e.attrs.get("form") == "compound" and fold_accents(e.text) in surnames

    return [e for e in entities if e.kind != "place" or not false(e)]


def _sentence_of(sentences: list[tuple[int, int]], pos: int) -> int:
    for i, (a, b) in enumerate(sentences):
        if a <= pos < b:
            return i
    return max(0, len(sentences) - 1)


def _countries_named(text: str, raw: list[Entity]) -> list[str]:
    """The countries an article names (by name or adjective), most often first: what an ambiguous place
    name is resolved with ("San Carlos" in an article about a US-American firm)."""
    from collections import Counter

    from ingest import gazetteer

    counts: Counter[str] = Counter()
    for e in raw:
        if e.kind == "place":
            p = gazetteer.place(e.text)
            if p and p.level == "country":
                counts[p.country] += 2
    for word in re.findall(r"\b[\w-]+\b", text):
        code = gazetteer.adjective_country(word) if word[:1].islower() or "-" in word else None
        if code:
            counts[code] += 1
    return [c for c, _ in counts.most_common()]


# lowercase words the tagger took in before a place's name ("im pakistanischen Lahore" tagged "pakistanischen Lahore")
_LEAD = re.compile(r"(?:[a-zäöüß][\w-]*\s+)+(?=[A-ZÄÖÜ])")


def _described_countries(text: str, raw: list[Entity]) -> dict[str, str]:
    """The country an article gives a place name by the adjective before it ("im spanischen València" ->
    ES), for every mention of that name in the article ("Valencia" later is the same city: one sense per
    discourse). Folded name -> country code."""
    from ingest import gazetteer

    out: dict[str, str] = {}
    for e in raw:
        if e.kind != "place":
            continue
        lead = _LEAD.match(e.text)
        words = re.findall(r"[\w-]+", lead.group(0) if lead else text[max(0, e.start - 30):e.start])
        code = gazetteer.adjective_country(words[-1]) if words and words[-1][:1].islower() else None
        name = fold_accents(_strip_inflection(e.text[lead.end():] if lead else e.text))
        if code and (found := gazetteer.place(name, code)) is not None and found.country == code:
            out.setdefault(name, code)
    return out


def _place(e: Entity, text: str, context: list[str]) -> Entity:
    from ingest import gazetteer

    lead = _LEAD.match(e.text)
    if lead:  # "im pakistanischen Lahore": the tagger took the adjective in; the place is its name
        e.start += lead.end()
        e.text = e.text[lead.end():]
    if re.search(r"[a-zäöüß]{2}[.,;:!?]$", e.text):  # "Wien.": the tagger took the sentence's full stop in
        e.end -= 1
        e.text = e.text[:-1]
    name = _strip_inflection(e.text)
    found = None
    for country in context[:3]:
        candidate = gazetteer.place(name, country)
        if candidate and candidate.country == country:
            found = candidate
            break
    found, form = found or gazetteer.place(name), "name"
    if found is None and (found := gazetteer.demonym_place(name)) is not None:
        form = "demonym"  # "die Essener Start-ups": who they are, by their town
    if found is None and gazetteer.compound_place(name):
        found = gazetteer.compound_place(name)[0]
    e.attrs = {"id": found.id if found else f"name:{fold(name)}", "name": found.name if found else name,
               "country": found.country if found else None, "level": found.level if found else "unknown", "form": form}
    return e


def _strip_inflection(name: str) -> str:
    """A place as the gazetteer knows it: "Berlins" -> "Berlin", "den Vereinigten Staaten" -> as is."""
    from ingest import gazetteer

    if gazetteer.places_named(name):
        return name
    if name.endswith("s") and gazetteer.places_named(name[:-1]):
        return name[:-1]
    return name


_AFTER_DIRECTION = re.compile(rf"\b(?:{_DIRECTIONS})\s+(?P<name>[A-ZÄÖÜ][\w-]+(?:\s+[A-ZÄÖÜ][\w-]+)?)")
MIN_BACKOFF_POPULATION = 100_000


def _gazetteer_places(text, sentences, found) -> list[Entity]:
    """Where the tagger saw no entity, a name right after "nach", "in", "auf" … that the gazetteer knows as a
    country, a region, or a city of 100,000 people or more ("eine Pressekonferenz in Guatemala-Stadt"): the
    tagger misses rare names, the gazetteer has them; the direction word and the size keep ordinary nouns out."""
    from ingest import gazetteer

    taken = [(e.start, e.end) for e in found]
    out = []
    for m in _AFTER_DIRECTION.finditer(text):
        words = m["name"].split()
        for n in (2, 1) if len(words) == 2 else (1,):
            name = " ".join(words[:n])
            start = m.start("name")
            end = start + len(name)
            if any(a < end and start < b for a, b in taken):
                break
            hit = gazetteer.place(_strip_inflection(name))
            if hit and (hit.level != "city" or hit.population >= MIN_BACKOFF_POPULATION):
                out.append(Entity("place", start, end, name, _sentence_of(sentences, start),
                                  {"id": hit.id, "name": hit.name, "country": hit.country, "level": hit.level,
                                   "form": "name"}))
                taken.append((start, end))
                break
    return out


@lru_cache(maxsize=1)
def compound_heads() -> tuple[str, ...]:
    """Nouns that, as the last part of a compound, name a trip to its first part ("Israelreise"; travel.yaml)."""
    return tuple(fold(h) for e in lexicon("travel")["compound_heads"] for h in e["heads"])


@lru_cache(maxsize=1)
def place_nouns() -> tuple[str, ...]:
    """Nouns naming a kind of place before its name ("die Insel Rügen", "die Metropole Ruhr"; travel.yaml)."""
    return tuple(n for e in lexicon("travel")["place_nouns"] for n in e["nouns"])



def _compound_places(text, sentences, found, context) -> list[Entity]:
    """Places leading a compound with a travel noun ("Israelreise", "Hannover-Besuch", "Thailand-Reise")."""
    from ingest import gazetteer

    taken = [(e.start, e.end) for e in found]
    out = []
    for m in re.finditer(r"\b[A-ZÄÖÜ][\w]*(?:-[\w]+)*\b", text):
        word = m.group(0)
        if not re.search(r"(?:" + "|".join(compound_heads()) + r")\w*$", fold(word)) or any(a <= m.start() < b for a, b in taken) or \
                any(fold(word).endswith(w) for w in _not_travel()):
            continue
        hit = gazetteer.compound_place(word)
        if hit is None:
            continue
        place, noun = hit
        end = m.start() + len(word) - len(noun) - (1 if word[len(word) - len(noun) - 1:len(word) - len(noun)] == "-" else 0)
        out.append(Entity("place", m.start(), end, text[m.start():end], _sentence_of(sentences, m.start()),
                          {"id": place.id, "name": place.name, "country": place.country, "level": place.level,
                           "form": "compound"}))
    return out


_DESCRIPTION = re.compile(r"\b(?P<art>die|der|den|dem|in\s+der|nach)?\s*(?P<adj>[a-zäöü-]+(?:isch|sch)(?:e|en|er|es|em)?)\s+"
                          r"(?P<noun>Hauptstadt|Metropole)\b")


@lru_cache(maxsize=1)
def _not_travel() -> frozenset[str]:
    return frozenset(fold(w) for w in lexicon("travel")["not_travel"])


def _described_places(text, sentences, found) -> list[Entity]:
    """A capital named by its country: "die polnische Hauptstadt" -> Warschau (GeoNames' capitals)."""
    from ingest import gazetteer

    out = []
    for m in _DESCRIPTION.finditer(text):
        if m["noun"] != "Hauptstadt":
            continue
        code = gazetteer.adjective_country(m["adj"])
        city = gazetteer.capital(code) if code else None
        if city is None:
            continue
        start = m.start("adj")
        out.append(Entity("place", start, m.end(), text[start:m.end()], _sentence_of(sentences, start),
                          {"id": city.id, "name": city.name, "country": city.country, "level": "city", "form": "description"}))
    return out


# -- persons: names, roles, organisations, and who a surname, a role or a pronoun refers to

_PARTY = re.compile(r"^\s*\((?P<org>[A-ZÄÖÜ][\w./-]{1,20})\)")
_ARTICLE = {"der", "die", "des", "dem", "den", "ein", "eine", "einer", "eines", "einem"}
# Words before a noun's adjectives (articles, possessives, demonstratives, a preposition with the article in it).
_DETERMINERS = _ARTICLE | {"einen", "sein", "seine", "seinem", "seinen", "seiner", "seines", "ihr", "ihre", "ihrem", "ihren",
                           "ihrer", "ihres", "unser", "unsere", "unserem", "unseren", "dieser", "diese", "diesem", "diesen",
                           "dieses", "im", "am", "vom", "zum", "zur", "beim", "ins"}


def _persons(text: str, sentences: list[tuple[int, int]], entities: list[Entity]) -> list[Entity]:
    from ingest import gazetteer

    named: list[Entity] = []  # persons with a name, in order, for the references after them
    out: list[Entity] = []
    for e in entities:
        if e.kind != "person":
            out.append(e)
            continue
        name = re.sub(r"(?<=\w)['’]?s$", "", e.text) if e.text.endswith(("s", "'s", "’s")) and " " not in e.text and \
            not gazetteer.is_first_name(e.text) and _known_surname(e.text[:-1].rstrip("'’"), named) else e.text
        role, org = _role_before(text, e.start), None
        party = _PARTY.match(text[e.end:e.end + 25])
        if party:
            org = party["org"]
        elif role and "-" in role[0]:
            prefix = role[0].split("-")[0]
            org = prefix if prefix.isupper() and len(prefix) >= 2 else None
        earlier = _same_person(name, named)
        full = earlier.attrs["name"] if earlier and len(name.split()) < len(earlier.attrs["name"].split()) else name
        e.attrs = {"name": full, "role": role[0] if role else (earlier.attrs.get("role") if earlier else None),
                   "org": org or (earlier.attrs.get("org") if earlier else None),
                   "role_kind": role[1] if role else (earlier.attrs.get("role_kind") if earlier else None),
                   "form": "surname" if full != name else "name",
                   "gender": _gender(name, role) or (earlier.attrs.get("gender") if earlier else None)}
        if earlier and earlier.attrs["name"] != full:
            earlier.attrs["name"] = full
        named.append(e)
        out.append(e)
    propagated = _surname_mentions(text, sentences, named, out)
    named = sorted(named + propagated, key=lambda e: e.start)
    out += propagated
    out += _role_mentions(text, sentences, named)
    out += _pronouns(text, sentences, sorted(named + [e for e in out if e.kind == "person" and e not in named],
                                             key=lambda e: e.start))
    return out


def _surname_mentions(text: str, sentences, named: list[Entity], taken: list[Entity]) -> list[Entity]:
    """A person's surname again where the tagger did not tag it ("Bainirama befindet sich …" after "Voreqe
    Bainirama"): one name is one person throughout an article (the one-sense-per-discourse heuristic of
    document-level NER; Krishnan & Manning 2006)."""
    from ingest import gazetteer

    full = {}
    for p in named:
        name = p.attrs.get("name") or ""
        if len(name.split()) >= 2:
            full.setdefault(name.split()[-1], p)
    for p in named:  # a name written alone ("Voreqe (Frank) Bainirama" tags "Bainirama"), not a place's name
        name = p.attrs.get("name") or ""
        if " " not in name and len(name) >= 5 and name[1:].islower() and name not in full and gazetteer.place(name) is None:
            full[name] = p
    out = []
    for surname, p in full.items():
        if len(surname) < 3 or not surname[:1].isupper():
            continue
        for m in re.finditer(r"(?<![\w-])" + re.escape(surname) + r"(?:s|'s|’s)?(?![\w-])", text):
            if m.start() < p.start or any(e.start <= m.start() < e.end or m.start() <= e.start < m.end() for e in taken + out):
                continue
            out.append(Entity("person", m.start(), m.start() + len(surname), surname, _sentence_of(sentences, m.start()),
                              {**p.attrs, "form": "surname"}))
    return out


def _known_surname(word: str, named: list[Entity]) -> bool:
    return any(fold_accents(p.attrs["name"].split()[-1]) == fold_accents(word) for p in named)


def _same_person(name: str, named: list[Entity]) -> Entity | None:
    """An earlier mention of the same person: the same last name ("Merkel" after "Angela Merkel")."""
    from ingest import gazetteer

    last = fold_accents(name.split()[-1])
    first = fold_accents(name.split()[0]) if " " in name else None
    for p in reversed(named):
        other = p.attrs["name"].split()
        if fold_accents(other[-1]) == last:
            if first and len(other) >= 2 and fold_accents(other[0]) != first:
                continue  # "Lech Kaczyński" is not "Jarosław Kaczyński"
            return p
    if " " not in name and not gazetteer.is_first_name(name):
        for p in reversed(named):  # the family name first ("Xi" after "Xi Jinping"): Chinese, Korean, Hungarian order
            other = p.attrs["name"].split()
            if len(other) == 2 and fold_accents(other[0]) == last and not gazetteer.is_first_name(other[0]):
                return p
    return None


def _role_before(text: str, start: int) -> tuple[str, str] | None:
    """The role written before a name, with its adjectives: "Bundeskanzlerin", "US-Präsident", "der
    französische Staatspräsident" -> ("französische Staatspräsident", "official")."""
    before = text[max(0, start - 80):start]
    words = re.findall(r"[\w.-]+", before)
    if not words:
        return None
    found = role_of(words[-1].rstrip("."))
    if found is None:
        return None
    role = [words[-1]]
    clause = re.split(r"[,;:!?„“\"()]", before)[-1]  # adjectives stand in the role's own phrase
    words = re.findall(r"[\w.-]+", clause)
    adjectives = []
    for w in reversed(words[:-1]):
        if w[:1].islower() and w not in _ARTICLE and re.search(r"(e|en|er|es|em)$", w) and len(adjectives) < 2:
            adjectives.insert(0, w)
        else:
            break
    # adjectives only after a determiner ("der französische Staatspräsident"): with none, the lowercase words
    # before the role are the clause's verbs ("…, sagte Außenminister X"; Duden grammar §§ 477-480: attributive
    # adjectives take the article's inflection, a bare "sagte" is no adjective)
    k = len(words) - 1 - len(adjectives)
    if adjectives and (k <= 0 or fold(words[k - 1]) not in _DETERMINERS):
        adjectives = []
    return " ".join(adjectives + role), found[1]


def _gender(name: str, role: tuple[str, str] | None) -> str | None:
    from ingest import gazetteer

    if role and re.search(r"in$", role[0]):
        return "f"
    first = name.split()[0] if " " in name else ""
    if first and fold(first) in gazetteer.female_first_names():
        return "f"
    if first and fold(first) in gazetteer.male_first_names():
        return "m"
    return None


_ROLE_MENTION = re.compile(r"\b(?P<art>[Dd]er|[Dd]ie|[Dd]es|[Dd]em|[Dd]en|[Ee]ine?|[Ee]ines|[Ee]inem|[Ee]iner)\s+(?:(?P<adj>[a-zäöü][\w-]*(?:e|en|er))\s+)?(?P<role>[A-ZÄÖÜ][\w-]+)\b")


def _role_mentions(text, sentences, named: list[Entity]) -> list[Entity]:
    """"Die Kanzlerin", "der französische Präsident" without a name after them: the person of that role the
    article named before (or nobody, kept with the role alone)."""
    taken = [(e.start, e.end) for e in named]
    out = []
    for m in _ROLE_MENTION.finditer(text):
        found = role_of(m["role"])
        if found is None or any(a <= m.start("role") < b for a, b in taken):
            continue
        after = text[m.end():m.end() + 40]
        if re.match(r"\s+[A-ZÄÖÜ][\w-]+(?:\s+[A-ZÄÖÜ][\w-]+)?\s*[,.(]?", after) and any(
                e.start >= m.end() and e.start <= m.end() + 3 for e in named):
            continue  # the role before a name: the name's own mention carries it
        head = found[0]
        earlier = next((p for p in reversed(named) if p.start < m.start() and p.attrs.get("role") and
                        (role_of(p.attrs["role"].split()[-1]) or ("",))[0] == head), None)
        start = m.start("adj") if m["adj"] else m.start("role")
        out.append(Entity("person", start, m.end("role"), text[start:m.end("role")], _sentence_of(sentences, start),
                          {"name": earlier.attrs["name"] if earlier else None, "role": text[start:m.end("role")],
                           "org": earlier.attrs.get("org") if earlier else None, "role_kind": found[1], "form": "role",
                           "gender": "f" if feminine(m["role"]) else None}))
    return out


_PRONOUN = re.compile(r"(?:^|(?<=[.!?:;]\s)|(?<=,\s))(?P<p>Er|Sie|er|sie)\b(?=\s+\w)|(?<=[a-zäöüß]\s)(?P<after>er)\b(?=[\s,.:])")


def _pronouns(text, sentences, persons: list[Entity]) -> list[Entity]:
    """A sentence that opens with "Er"/"Sie" (or a clause with "er"/"sie") speaks of the person last named
    before it, when the gender fits; "Sie" with a plural verb is left alone."""
    out = []
    for m in _PRONOUN.finditer(text):
        if m["after"]:  # "verkündete er": after the verb, "er" is the subject (it is never plural)
            key = "after"
        else:
            key = "p"
        p = m[key].lower()
        here = _sentence_of(sentences, m.start())
        fitting = [e for e in persons if e.end <= m.start() and e.attrs.get("name") and here - e.sentence <= 3 and
                   (e.attrs.get("gender") == "f") == (p == "sie")]
        if not fitting:
            continue
        last = fitting[-1]
        gender = last.attrs.get("gender")
        out.append(Entity("person", m.start(key), m.end(key), m[key], _sentence_of(sentences, m.start()),
                          {"name": last.attrs["name"], "role": last.attrs.get("role"), "org": last.attrs.get("org"),
                           "role_kind": last.attrs.get("role_kind"), "form": "pronoun", "gender": gender}))
    return out


def _dates(text, sentences, published) -> list[Entity]:
    from ingest.dates_in_text import find_dates

    status = lexicon("status")
    future_words = {fold(c) for key in ("announced", "announced_near") for e in status[key] for c in e["cues"] if " " not in c}

    def future(pos: int) -> bool:
        s = sentences[_sentence_of(sentences, pos)] if sentences else (0, len(text))
        return any(fold(w) in future_words for w in re.findall(r"\w+", text[s[0]:s[1]]))

    return [Entity("date", d.start, d.end, d.text, _sentence_of(sentences, d.start),
                   {"value": d.value, "precision": d.precision, "relative": d.relative})
            for d in find_dates(text, published, future)]
