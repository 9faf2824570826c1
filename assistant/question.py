"""What a question asks for, worked out once per question and handed on: its language, the kind of answer,
the words that must match, the names, places and years an answer has to be about (the critical terms),
the period it names, and, for a follow-up, what it carries over from the conversation and the standalone
text retrieval searches for.

The concept lexicon (assistant/concepts.py) maps the relations this product is asked about (who led, who came along, where to,
what was signed or opened) to their German and English wordings, so "Wer war noch dabei?" finds
"Weitere Teilnehmer waren ..." and "Who led ...?" finds "... geleitete Delegation".
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

from assistant.concepts import GENERIC, concepts_of
from assistant.register_question import TripQuestion, asked_position, asked_status, at_position, trip_question, with_status
from ingest import gazetteer
from ingest.annotate import Annotation, Entity, ReadQuestion, lexicon, read_question, role_of
from index.terms import STOPWORDS, content_stems, part_of, stem, stem_matches, words
from ingest.clean import fold
from ingest.dates import ENGLISH_DAY, GERMAN_DAY, ISO, MONTH_YEAR, NUMERIC_DAY, YEAR, build_date
from ingest.model import PubDate

FOLLOW_UP_WINDOW = 2  # a follow-up is read in the light of the last two questions of the conversation


@dataclass(frozen=True)
class Term:
    word: str  # as the user wrote it ("Olaf Scholz", "Brasilien", "2019")
    stem: str
    place: str | None = None  # gazetteer id when the word names a place
    names: tuple[str, ...] = ()  # a person's or organisation's name: the stems of its words, any one found counts
    person: bool = False  # a person's name: never split like a compound ("Steinmeier" is not "Stein" and "Meier")

    def found_in(self, text_stems: set[str], text_places: set[str], text: str) -> bool:
        """Whether a text mentions the term: `text_places` are the ids of the places it names and of what they
        lie in (index.reading.places_with_containers)."""
        if self.place and self.place in text_places:
            return True
        region = gazetteer.by_id(self.place) if self.place and self.place.startswith("region:") else None
        if region and region.countries and any(f"country:{c}" in text_places for c in region.countries):
            return True
        if self.word.isdigit():
            return re.search(rf"(?<!\d){self.word}(?!\d)", text) is not None
        if self.word.lower() in STOPWORDS:  # a name that is a function word elsewhere ("Doctor Who", "The Who"):
            return re.search(rf"(?<!\w){re.escape(self.word)}(?!\w)", text) is not None  # stems leave it out
        return any(_mentioned(s, text_stems, split=not self.person) for s in self.names or (self.stem,))


def _mentioned(word_stem: str, text_stems: set[str], split: bool = True) -> bool:
    """The stem, a compound it is part of, or (for names of six letters or more) a spelling one edit away:
    Elisabeth/Elizabeth, Shelly/Shelley, Sheeshanks/Sheepshanks."""
    if word_stem in text_stems or any(part_of(word_stem, t) for t in text_stems) or \
            (split and _split_mentioned(word_stem, text_stems)):
        return True
    return len(word_stem) >= 6 and any(abs(len(t) - len(word_stem)) <= 1 and t[:1] == word_stem[:1] and
                                       one_edit_apart(word_stem, t) for t in text_stems)


def _split_mentioned(word_stem: str, text_stems: set[str]) -> bool:
    """A compound whose two parts the text writes apart ("Amazonaswald" in a text of the "Amazonas-Regenwald"
    and the "Wald"): split where both parts, four letters or more, are parts of the text's words, a linking
    "s" or "n" dropped (compound splitting by the words a text knows: Koehn and Knight, 2003)."""
    if len(word_stem) < 8:
        return False
    for cut in range(4, len(word_stem) - 3):
        head, tail = word_stem[:cut], word_stem[cut:]
        heads = (head, head[:-1]) if head[-1:] in "sn" and len(head) > 4 else (head,)
        if any(any(part_of(h, t) for t in text_stems) for h in heads) and any(part_of(tail, t) for t in text_stems):
            return True
    return False


def one_edit_apart(a: str, b: str) -> bool:
    """At most one letter inserted, deleted, replaced, or two neighbours swapped (Damerau-Levenshtein <= 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2] and a[i + 2:] == b[i + 2:])
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter[i:] == longer[i + 1:]


@dataclass
class Question:
    text: str
    lang: str
    kind: str  # who | where | when | count | what
    stems: list[str]
    concepts: set[str]
    critical: list[Term]
    carried_stems: list[str] = field(default_factory=list)
    carried_critical: list[Term] = field(default_factory=list)
    head: str | None = None  # stem of the noun asked for: "welche Universität" -> universitaet
    head_text: str | None = None  # that noun as written: Universität
    predicate: str | None = None  # stem of the verb asked about: "Wer begleitete ..." -> begleit
    predicate_concepts: set[str] = field(default_factory=set)  # its relation: participate
    wants_more: bool = False  # "wer war noch dabei?": others than already answered
    earlier: list[str] = field(default_factory=list)  # the conversation's questions it is read with, oldest first
    search: str = ""  # what retrieval searches for: the question, made standalone when it is a follow-up
    period: PubDate | None = None  # the month or year the search names
    slot: str | None = None  # what an answer must state (asked_slot)
    read: ReadQuestion | None = None  # the annotator's reading of the question, and its vector for retrieval
    register: TripQuestion | None = None  # a list, count or "who led which" question across the trip register

    @property
    def places(self) -> set[str]:
        """The ids of the places the question names."""
        return {t.place for t in self.critical if t.place}

    @property
    def is_follow_up(self) -> bool:
        return self.search != self.text

    @property
    def subject_stems(self) -> list[str]:
        """The stems of what the question is about, without the words that ask for the kind of fact
        ("kostete", "how much money", "in welchem Jahr")."""
        return [stem(w) for w in words(self.text) if w.lower() not in STOPWORDS and not _KIND_WORDS.fullmatch(w.lower())]


_GERMAN_ONLY = frozenset(STOPWORDS_GERMAN) - frozenset(STOPWORDS_EN) | {"wer", "wann", "wo", "wie", "welche", "welcher",
                                                                         "welches", "welchen", "wohin", "woher", "reiste"}
_ENGLISH_ONLY = frozenset(STOPWORDS_EN) - frozenset(STOPWORDS_GERMAN) | {"who", "which", "what", "when", "where",
                                                                        "how", "whom", "whose", "led", "visited"}


def keeps_subject(rewritten: str, q: Question) -> bool:
    """A model's standalone version of a follow-up still names what the conversation was about: every place,
    person, organisation and year the rules carried over from the earlier questions. A small model's rewrite
    of "Und wer war noch dabei?" after the Japan trip that forgets Japan searches the wrong article."""
    from index.reading import places_with_containers

    stems = set(content_stems(rewritten))
    places = places_with_containers(read(rewritten).annotation.of_kind("place"))
    return all(t.found_in(stems, places, rewritten) for t in q.carried_critical)


_READ: OrderedDict[str, Future] = OrderedDict()  # question -> its reading, the latest 512 kept
_READING = threading.Lock()


def read(text: str) -> ReadQuestion:
    """The annotator's reading of a question, read once however many ask it at the same moment (a conversation
    reads its earlier questions again; ten clients asking one question wait for one pass of the encoder)."""
    with _READING:
        future = _READ.get(text)
        mine = future is None
        if mine:
            future = _READ[text] = Future()
            while len(_READ) > 512:
                _READ.popitem(last=False)
    if mine:
        try:
            future.set_result(read_question(text))
        except BaseException as exc:
            with _READING:
                _READ.pop(text, None)
            future.set_exception(exc)
    return future.result()


def detect_language(text: str) -> str:
    """de or en, by the words only one of the two languages has (umlauts count for German); a tie is German,
    the articles' language: "Was wurde in Breslau unterzeichnet?" is German."""
    tokens = [w.lower() for w in words(text)]
    en = sum(t in _ENGLISH_ONLY for t in tokens)
    de = sum(t in _GERMAN_ONLY for t in tokens) + sum(ch in "äöüß" for ch in text.lower())
    return "en" if en > de else "de"


_KIND_WORDS = re.compile(r"\w*kost\w*|costs?|money|geld|budget|invest\w*|\w*zahlt?\w*|paid|pay|spen[dt]|teuer|expensive|"
                         r"price|euro|dollar|datum|date|jahr|year|anzahl|number|many|much|lange?|long|its|their")
_AMOUNT = re.compile(r"\b(?:wie ?viel(?:e|en)?|how much|was|what)\b.*\b(?:\w*kostet(?:e|en)?|ausgegeben|investiert\w*|"
                     r"bezahlt\w*|gezahlt|cost|costs|spent|spend|invest\w*|paid|pay)\b|\b(?:budget|kosten|how much money|"
                     r"wie ?viel geld|wie teuer|how expensive)\b|"
                     # a payment asked for by its name (Duden, Entgelt: Synonyme; Merriam-Webster, fee)
                     r"\b(?:wie hoch|how (?:high|large|big)|what)\b.*\b(?:honorar\w*|gage|gebühr\w*|gehalt|betrag|summe|"
                     r"preisgeld|fee|fees|salary|sum|prize money)\b", re.IGNORECASE)


_QUESTION_WORDS = (
    ("when", re.compile(r"\b(wann|when|what date|which date|which day|what day|an welchem tag|in welchem jahr|zeitraum|"
                        r"wie lange?|how long)\b")),
    ("who", re.compile(r"\b(wer|wem|wen|who|whom|mit wem|which (?:politician|person|people|minister|senator|mayor|president))\b|"
                       r"\bwelche[rnms]? (?:politiker|person|personen|minister|senator|bürgermeister|vertreter|teilnehmer|"
                       r"präsident|botschafter)")),
    ("where", re.compile(r"\b(wohin|wo|where|welche[rnms]? (?:städte|stadt|länder|land|orte|ort|region)|"
                         r"which (?:cities|city|countries|country|places))\b")),
)


def _kind(text: str) -> str:
    """who | where | when | count | amount (of money) | what."""
    low = text.lower().strip()
    if _AMOUNT.search(low):
        return "amount"
    if re.search(r"\b(wie viele|wieviele|wie viel|how many|how much|anzahl|number of)\b", low):
        return "count"
    # the question word that comes first decides: "Who went along with the minister when he visited …?" asks who
    # ("when" there is a conjunction), "Wann reiste er, und wer kam mit?" asks when
    found = [(m.start(), kind) for kind, pattern in _QUESTION_WORDS if (m := pattern.search(low))]
    if found:
        return min(found)[1]
    return "what"


_YEAR_WORD = re.compile(r"1\d{3}|20\d{2}")


def critical_terms(text: str, annotation: Annotation) -> list[Term]:
    """Places, people, organisations and years in the question, as the annotator read them
    (ingest.annotate.read_question): an answer must come from an article that has them. A place by its
    gazetteer id (Tokio and Tokyo are one city; Vereinigte Staaten, USA one country), a person or an
    organisation by any word of its name, an acronym (NASA, IHK) and a year by themselves."""
    out: list[Term] = []
    seen: set[str] = set()

    def add(term: Term) -> None:
        if fold(term.word) not in seen:
            out.append(term)
            seen.add(fold(term.word))

    covered: list[tuple[int, int]] = []
    for e in annotation.entities:
        parts = [w for w in words(e.text) if len(w) >= 3 or w.isupper()]
        if not parts:
            continue
        if e.kind == "place" and not (e.attrs.get("id") or "name:").startswith("name:"):
            add(Term(e.text, stem(parts[-1]), e.attrs.get("id")))
        elif e.kind == "place":  # a place the gazetteer does not know ("Seidenstraße"): by its words
            add(Term(e.text, stem(parts[-1]), None, tuple(stem(w) for w in parts)))
        elif e.kind in ("person", "org") and (e.kind == "org" or e.attrs.get("form") in ("name", "surname")):
            add(Term(e.text, stem(parts[-1]), None, tuple(stem(w) for w in parts), person=e.kind == "person"))
        else:
            continue
        covered.append((e.start, e.end))
    for m in re.finditer(r"[\w-]+", text):
        w = m.group(0)
        if any(a <= m.start() < b for a, b in covered):
            continue
        if (len(w) >= 3 and w.isupper() and w.isalpha()) or _YEAR_WORD.fullmatch(w):  # NASA, IHK, BMW (not KI, EU); 2019
            add(Term(w, stem(w)))
            continue
        prefix, _, rest = w.partition("-")
        if rest[:1].isupper() and prefix[:1].isupper() and len(prefix) >= 3 and prefix.lower() not in STOPWORDS and \
                not concepts_of(prefix):
            # "Ruhr-Delegation", "NRW-Reise": a capitalised part hyphenated to a noun names who or where
            found = gazetteer.place(prefix)
            add(Term(prefix, stem(prefix), found.id if found else None))
    return out


_HEAD_DE = re.compile(r"\b(?i:welche[rnms]?|wie viele[nm]?|wie\s+(?:hei(?:ß|ss)t|hie(?:ß|ss))\s+(?:der|die|das|den))\s+"
                      r"(?:[a-zäöüß]\w*\s+){0,2}([A-ZÄÖÜ][\w-]+)")
_HEAD_EN = re.compile(r"\b(?i:which|what|how many|what was the name of the|what is the name of the)\s+(?:[A-Z]\w*\s+){0,2}([a-z][\w-]+)")
NAMING = re.compile(r"\b(?:wie\s+(?:hei(?:ß|ss)t|hie(?:ß|ss))|what (?:is|was) the name)\b", re.IGNORECASE)


def head_word(text: str, lang: str) -> str | None:
    """The noun a which/how-many question asks for, as written: 'Welche japanischen Städte' -> Städte,
    'Which Hamburg senator' -> senator, 'Wie heißt der Bürgermeister …' -> Bürgermeister."""
    m = (_HEAD_EN if lang == "en" else _HEAD_DE).search(text)
    return m.group(1) if m else None


def head_noun(text: str, lang: str) -> str | None:
    word = head_word(text, lang)
    return stem(word) if word else None


@lru_cache(maxsize=1)
def _slot_nouns() -> list[tuple[str, str, bool]]:
    """(folded noun, slot, whether the annotator marks its instances: "Stadt", "Firma"), longest first
    (ingest/lexicon/de/question_slots.yaml)."""
    rows = {(fold(n), entry["slot"], entry.get("instances") == "annotated")
            for entry in lexicon("question_slots") for n in entry["nouns"]}
    return sorted(rows, key=lambda r: -len(r[0]))


def _slot_noun(word: str) -> tuple[str, str, bool] | None:
    """The lexicon's row for a question's noun, by its last part ("Luxushotel" -> hotel)."""
    key = fold(word)
    return next((row for row in _slot_nouns() if key == row[0] or (len(row[0]) >= 4 and key.endswith(row[0]))), None)


def slot_of_noun(word: str) -> str | None:
    """The slot a question's noun asks for ("Luxushotel" -> place)."""
    row = _slot_noun(word)
    return row[1] if row else None


def names_an_instance(word: str | None) -> bool:
    """Whether a question's noun is one whose every instance the annotator marks ("welche Stadt", "which
    country"): a place it names answers it, whatever the sentence calls it."""
    row = _slot_noun(word) if word else None
    return bool(row and row[2])


_DURATION_ASKED = re.compile(r"\b(?:wie lange?|how long)\b", re.IGNORECASE)
# A length of time: a count and a unit of time ("fünf bis zehn Jahre", "drei Monate", "zwei Wochen lang"; Duden:
# Zeiteinheit)
DURATION = re.compile(r"\b(?:\d+(?:[.,]\d+)?|ein(?:e[nmr]?)?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|"
                      r"hundert|mehrere[nm]?|einige[nm]?|wenige[nm]?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|"
                      r"a few)\s+(?:(?:bis|oder|to|or)\s+\S+\s+)?(?:\w+\s+)?(?:Sekunden|Minuten|Stunden?|Tagen?|Tage|Wochen?|"
                      r"Monaten?|Monate|Jahren?|Jahre|Jahrzehnten?|Jahrzehnte|Jahrhunderten?|Jahrhunderte|seconds?|minutes?|hours?|"
                      r"days?|weeks?|months?|years?|decades?|centuries|century)\b"
                      # or said as an adjective ("ein fünftägiger Besuch", "die dreiwöchige Reise"; Duden: -tägig)
                      r"|\b\w+(?:stündig|tägig|wöchig|monatig|jährig)(?:e[nmrs]?)?\b", re.IGNORECASE)


def asked_slot(text: str, kind: str, lang: str, relations: set[str], verb: bool = False) -> str | None:
    """What an answer must state: person | companion | place | organisation | outcome | date | amount | number |
    name (of a thing: "Wie heißt die Brücke …?") | duration ("Wie lange …?"),
    or None when the question asks for something else (a description, a reason). `verb`: the question's verb
    says something other than travelling or coming along ("Mit wem richtete … aus?" asks for partners)."""
    if kind == "amount":
        return "amount"
    if kind == "count":
        return "number"
    if kind == "when":
        return "duration" if _DURATION_ASKED.search(text) else "date"
    if "participate" in relations and kind == "who" and not verb and not (relations - {"participate"}):
        return "companion"  # "Mit wem reiste …?" (not "Mit wem traf … zusammen?", "Mit wem richtete … aus?")
    word = head_word(text, lang)
    by_noun = slot_of_noun(word) if word else None
    if NAMING.search(text) and by_noun not in ("place", "organisation"):
        if word and by_noun != "person" and role_of(word) is None:
            return "name"  # "Wie heißt die Brücke …?": the name of a thing, not a person's
        return "person"  # "Wie heißt der Bürgermeister …?", "Wie heißt sie?": a person's name
    if by_noun:
        return by_noun
    if kind == "where":
        return "place"
    if kind == "who":
        return "person"
    return None


# The finite verb that follows the question word (German puts it second: "Wer begleitete ...", "Welche
# Firmen besuchte ...", "Mit wem traf ..."; English after who: "Who received ...", "Who went along ...").
_PREDICATE_DE = re.compile(r"^\W*(?i:(?:und|aber)\s+)?(?i:(?:mit|bei|von|an|zu|für|in|über|auf|nach)\s+)?"
                           r"(?:(?i:wer|wen|wem|wessen|wann|wo|wohin|woher|was|wie\s+viele\s+\w+)|"
                           r"[Ww]elche[rnms]?\s+(?:[a-zäöüß][\w-]*\s+){0,2}[A-ZÄÖÜ][\w-]*)\s+([a-zäöüß]\w+)")
_PREDICATE_EN = re.compile(r"^\W*(?:and\s+|but\s+)?(?:who|whom)\s+([a-z]\w+(?:\s+along)?)", re.IGNORECASE)
_AUXILIARIES = {"war", "waren", "ist", "sind", "hat", "haben", "hatte", "hatten", "wurde", "wurden", "wird", "werden",
                "gab", "gibt", "soll", "sollte", "kann", "konnte", "will", "wollte", "was", "were", "is", "are", "did",
                "does", "do", "has", "had", "have", "will", "would", "can", "could", "should"}


def predicate_of(text: str, lang: str) -> tuple[str | None, set[str]]:
    """The stem of the verb the question asks about and its relations (concepts), or (None, set()) when it
    is an auxiliary ("Was war ...", "Who was ...") or only says "travel"."""
    m = (_PREDICATE_EN if lang == "en" else _PREDICATE_DE).match(text)
    verb = m.group(1).split()[0].lower() if m else ""
    if not verb or verb in _AUXILIARIES or verb in STOPWORDS:
        return None, set()
    relations = concepts_of(m.group(1))
    if relations and relations <= GENERIC:  # "reisten": every article here is about a trip; it decides nothing
        return None, set()
    return stem(verb), relations - GENERIC


def analyse(text: str, earlier_questions: list[str] | None = None, previous_answer: str = "") -> Question:
    """The question, read with the earlier questions of its conversation (oldest first) and the answer it
    follows: "er", "sie", "dort", "damals" in a follow-up are the person, place or date that answer named first."""
    lang = detect_language(text)
    predicate, relations = predicate_of(text, lang)
    reading = read(text)
    q = Question(
        text=text,
        lang=lang,
        kind=_kind(text),
        stems=content_stems(text),
        concepts=concepts_of(text),
        critical=critical_terms(text, reading.annotation),
        head=head_noun(text, lang),
        head_text=head_word(text, lang),
        predicate=predicate,
        predicate_concepts=relations | ({"participate"} if _COMPANIONS.search(text) else set()),
        wants_more=bool(re.search(r"\b(noch|außerdem|ausserdem|weitere|sonst|else|other|also)\b", text.lower())),
        read=reading,
    )
    q.slot = asked_slot(text, q.kind, lang, q.predicate_concepts, verb=predicate is not None and "participate" not in relations)
    if earlier_questions and (follows_up(text, q.critical) or (q.slot == "companion" and not q.critical)):
        # who came along with whom? A question for companions that names no one asks about the trip before it
        q.earlier = list(earlier_questions)[-FOLLOW_UP_WINDOW:]
    _carry(q)
    named = _pointed_at(text, previous_answer) if q.earlier else []
    q.carried_critical += [t for t in named if t.word not in {c.word for c in q.carried_critical}]
    q.search = standalone(text, q.earlier + [t.word for t in named])
    q.period = date_named(q.search)
    q.register = trip_question(q)
    if q.register is None and q.earlier and (status := asked_status(text)) is not None:
        # "Welche davon wurden nur angekündigt?" after a list question: that question's trips of this status
        if (before := _listed_before(earlier_questions or [])) is not None:
            q.register = with_status(before, status, lang, "count" if q.kind == "count" else "list")
    if q.register is None and q.earlier and not q.critical and (position := asked_position(text)) is not None:
        # "Wer war der erste davon?" after a list question: that trip of the list
        if (before := _listed_before(earlier_questions or [])) is not None and before.kind != "places":
            q.register = at_position(before, position)
    return q


def _listed_before(earlier_questions: list[str]) -> TripQuestion | None:
    """The register question the conversation's follow-ups about its trips refer to: the last one before, past
    other such follow-ups ("Wer war die erste davon?", "Und die letzte?", "Welche wurden abgesagt?")."""
    for earlier in reversed(earlier_questions):
        if (before := analyse(earlier).register) is not None:
            return before
        if asked_position(earlier) is None and asked_status(earlier) is None:
            return None  # the conversation turned to something else
    return None


# Words that point back into the conversation: pronouns, "dort", "damals", "the trip" (in lower case: the
# formal "Sie" is the user addressing the assistant).
_POINTING = re.compile(r"\b(?:er|sie|ihn|ihm|ihnen|ihr|ihre[mnrs]?|sein|seine[mnrs]?|dort|dorthin|da|dabei|damals|danach|"
                       r"davor|davon|dazu|darüber|daran|dafür|hierbei|diese[mnrs]?|jene[mnrs]?|das|"
                       r"he|she|it|they|them|his|her|their|there|this|that|these|those)\b|"
                       r"\b(?:die|diese|der|dem|den|the|that|this) (?:reise|delegation|trip|delegation's|besuch|visit)\b")
_CONTINUES = re.compile(r"^\W*(?:und|and|also|aber|but|what about|und was ist mit|wie ist es mit)\b", re.IGNORECASE)


def follows_up(text: str, critical: list[Term]) -> bool:
    """Whether a question only makes sense with the conversation before it: it continues it ("Und wann?",
    "And who else?"), or, naming no place, person or year of its own, it points back ("Wo wurde sie
    unterzeichnet?", "Welche Firmen traf die Delegation dort?"), asks for more ("Wer noch?") or is a
    fragment. A question with its own subject ("Welche Delegation reiste nach Kanada?") stands alone, so it
    gets the same answer whether or not a conversation came before it."""
    if _CONTINUES.search(text):
        return True
    if critical:
        return False
    plain = re.sub(r"\b(?:können|könnten|würden|haben|wissen|kennen) Sie\b|\bSie (?:mir|uns)\b", " ", text).lower()
    pointing = _POINTING.search(plain) is not None
    fragment = len([w for w in words(text) if w.lower() not in STOPWORDS]) <= 1
    more = re.search(r"\b(noch|außerdem|ausserdem|weitere|sonst|else|other)\b", text.lower()) is not None
    return pointing or fragment or more


def _carry(question: Question) -> None:
    """A follow-up carries the subject of the earlier questions (their names, places and words), so
    'Und wer war noch dabei?' stays with the trip that was asked about."""
    for earlier in question.earlier:
        prior = analyse(earlier)
        question.carried_stems += [s for s in prior.stems if s not in question.stems]
        question.carried_critical += [t for t in prior.critical if t.stem not in {c.stem for c in question.critical}]


# what points back in a follow-up: the third-person personal and possessive pronouns (Duden, Grammatik:
# Personalpronomen), "dort"/"da" for a place, "damals" for a time; and their English counterparts
_PRONOUN = re.compile(r"\b(?:er|ihn|ihm|sein\w*|he|him|his)\b|\b(?:sie|ihr|ihre\w*|she|her)\b", re.IGNORECASE)
_THERE = re.compile(r"\b(?:dort|dorthin|da|there)\b", re.IGNORECASE)
_THEN = re.compile(r"\b(?:damals|then|at that time)\b", re.IGNORECASE)


def _pointed_at(text: str, previous_answer: str) -> list[Term]:
    """What a follow-up's pronoun, "dort" or "damals" points to: the first person, place or date the previous
    answer's first sentence names (as the annotator reads it; the formal "Sie" is the user's address, not a
    pronoun)."""
    first = re.split(r"(?<=\])\s", re.sub(r"^[^:]{0,60}:\s", "", previous_answer or ""), maxsplit=1)[0]
    first = re.sub(r"\[\d+(?:,\s*\d+)*\]", "", first).strip()
    if not first:
        return []
    plain = re.sub(r"\b(?:können|könnten|würden|haben|wissen|kennen) Sie\b|\bSie (?:mir|uns)\b", " ", text)
    entities = read(first).annotation.entities
    out: list[Term] = []
    wanted = [("person", _PRONOUN.search(plain)), ("place", _THERE.search(plain)), ("date", _THEN.search(plain))]
    for kind, asked in wanted:
        found = next((e for e in entities if e.kind == kind and asked and
                      (kind != "person" or e.attrs.get("form") in ("name", "surname"))), None)
        if found is None:
            continue
        if kind == "person":
            name = found.attrs.get("name") or found.text
            parts = [w for w in words(name) if len(w) >= 3]
            out.append(Term(name, stem(parts[-1]), None, tuple(stem(w) for w in parts), person=True))
        elif kind == "place" and not (found.attrs.get("id") or "name:").startswith("name:"):
            out.append(Term(found.text, stem(words(found.text)[-1]), found.attrs.get("id")))
        elif kind == "date":
            out.append(Term(found.text, stem(words(found.text)[-1])))
    return out


def standalone(question: str, earlier_questions: list[str]) -> str:
    """A follow-up made standalone for retrieval: the earlier questions that add something, appended whole
    (the embedder reads sentences, BM25 drops the stop words). Without a language model this keeps the
    earlier names, places and content words, which is what retrieval needs ("Und wer war noch dabei?" after
    the Japan trip retrieves the Japan article)."""
    mine = {w.lower() for w in words(question)}
    adding = [e.strip() for e in earlier_questions
              if any(w.lower() not in STOPWORDS and w.lower() not in mine for w in words(e))]
    return f"{question} ({' '.join(adding)})" if adding else question


# "Mit wem reiste ...?", "Wer war außer X dabei?", "Who traveled to Israel with ...?": the people who came along.
_COMPANIONS = re.compile(r"\b(?:mit wem|with whom|wer (?:noch|sonst|außer|ausser)|who else|besides|apart from|außer|ausser|"
                         r"begleite\w*|accompan\w*)\b|\bwho\b.*\bwith\b", re.IGNORECASE)

_ANY_YEAR = re.compile(rf"(?<![\d.-]){YEAR}(?![\d-])")


def date_named(text: str) -> PubDate | None:
    """The month or year a question asks about ('im November 2024', '2019', '2024-11'), or None."""
    for pattern in (ISO, GERMAN_DAY, NUMERIC_DAY, ENGLISH_DAY, MONTH_YEAR):
        m = pattern.search(text)
        if m:
            return build_date(m)
    m = _ANY_YEAR.search(text)
    return PubDate(m.group("year"), "year") if m else None


def answer_type_present(kind: str, sentence: str, entities: list[Entity], question: Question) -> bool:
    """Does the sentence hold the kind of information the question asks for (beyond repeating it)? `entities`
    are the annotation's persons, organisations, places and dates in the sentence."""
    if kind == "who":  # a person or organisation the question does not already name, by name or by role
        return bool(new_people(entities, question))
    if kind == "where":
        return any(e.kind == "place" and e.attrs.get("id") not in question.places for e in entities)
    if kind == "when":
        return any(e.kind == "date" for e in entities)
    if kind == "count":
        return counts_asked(sentence, question)
    if kind == "amount":
        return bool(MONEY.search(sentence))
    return False


def new_people(entities: list[Entity], question: Question) -> list[str]:
    """The persons (by name, or by role where the article names none) and organisations among the entities
    that the question does not name."""
    asked = fold(question.text)
    out = []
    for e in entities:
        if e.kind not in ("person", "org"):
            continue
        name = e.attrs.get("name") or e.text
        if any(fold(w) not in asked for w in words(name) if len(w) >= 3 or (len(w) >= 2 and w.isupper())):  # XM, EU
            out.append(name)
    return list(dict.fromkeys(out))


# An amount of money: 5 Millionen Euro, 300.000 €, $2 billion, 1,5 Mrd. US-Dollar.
MONEY = re.compile(r"(?:\d[\d.,]*\s*(?:Mio\.?|Millionen|Mrd\.?|Milliarden|Tsd\.?|Tausend|million|billion|thousand|[km])?\s*"
                   r"(?:€|Euro\b|EUR\b|(?:US-)?Dollar\b|USD\b|\$|Franken\b|CHF\b|Pfund\b|£|Yen\b|Yuan\b|Renminbi\b))|"
                   r"(?:[€$£]\s*\d)", re.IGNORECASE)


# What the numbers of a sentence count: "rund 50 Gäste" counts guests, "zwei Delegationsreisen" trips, "seit drei
# Jahren" is a duration; "am 13. November" and "2019" are dates, not counts.
_CARDINAL = re.compile(r"(?<![\w.,:/-])(\d+(?:[.,]\d+)*(?:\s?[-–]\s?\d+(?:[.,]\d+)*)?)(\.(?=\s*\S))?(?![\w:/-]|[.,]\d)")
_COUNT_WORD = re.compile(r"(?:zwei|drei|vier|fuenf|sechs|sieben|acht|neun|zehn|elf|zwoelf|zwanzig|dreissig|vierzig|fuenfzig|"
                         r"hundert|tausend|dutzend)(?:und\w+|zig|zehn|hundert\w*|tausend\w*|fach\w*|mal|drittel\w*|e|en|er)?|"
                         r"haelfte|drittel\w*|viertel\w*|mehrere\w*|zahlreich\w*|half|third|quarter|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                         r"fifty|hundreds?|thousands?|dozens?|several|numerous")
_SCALE = re.compile(r"(?:Mio|Mrd|Tsd|Millionen?|Milliarden?|Tausend|million|billion|thousand)\.?", re.IGNORECASE)
_MEASURES = ("Jahr", "Jahrzehnt", "Jahrhundert", "Monat", "Woche", "Tag", "Stunde", "Minute", "Sekunde", "year", "decade",
             "century", "month", "week", "day", "hour", "minute", "second", "Euro", "Dollar", "US-Dollar", "Franken",
             "Pfund", "Yen", "Yuan")  # durations and money: a how-many question about things is not answered by them
_YEAR_LIKE = re.compile(r"1\d{3}|20\d{2}")


def counted(sentence: str) -> list[str | None]:
    """For each number in the sentence that counts something, the stem of the noun it counts (the next
    capitalised word, past a scale word and up to two adjectives: "3,5 Millionen Einwohner"), or None when
    no noun follows ("Es kamen 50."). Days of the month ("25."), clock times and years are left out."""
    found: list[tuple[int, int]] = []
    for m in _CARDINAL.finditer(sentence):
        if m.group(2):  # "am 13. November", "der 12. Platz": an ordinal
            continue
        if _YEAR_LIKE.fullmatch(m.group(1)) and not re.match(r"\s+[A-ZÄÖÜ]", sentence[m.end():]):
            continue  # "im Jahr 2019", "2019 präsentierten sich": a year ("1500 Hugenotten" is a count)
        found.append((m.start(), m.end()))
    for m in re.finditer(r"[^\W\d_]+", sentence):  # "sechs-malige": its first part
        if _COUNT_WORD.fullmatch(fold(m.group(0))):
            found.append((m.start(), m.end()))
    out: list[str | None] = []
    for _, end in sorted(found):
        following = words(sentence[end:end + 80])[:4]
        while following and _SCALE.fullmatch(following[0]):
            following = following[1:]
        noun = next((w for w in following[:3] if w[:1].isupper()), None)
        out.append(stem(noun) if noun else None)
    return out


def counts_asked(sentence: str, question: Question) -> bool:
    """Does the sentence give a number of what a how-many question asks about? A number of the noun asked for
    counts, and so does one of something the question does not name; a duration, an amount of money (unless
    that is what is asked for) or a number of something else the question names does not: "Wie viele
    Unternehmen nahmen an der Delegationsreise teil?" is not answered by "zwei Delegationsreisen"."""
    head = question.head
    measures = {stem(w) for w in _MEASURES}
    asked = set(question.stems) - ({head} if head else set())
    for noun in counted(sentence):
        if noun is None or head is None or stem_matches(head, noun):
            return True
        if noun in measures and head not in measures:
            continue
        if any(part_of(a, noun) for a in asked):  # "Delegationsreisen" for "Reise"; not "Kostüme" for "Kostümsammlung"
            continue
        return True
    return False
