"""What a question asks for, worked out once per question and handed on: its language, the kind of answer,
the words that must match, the names, places and years an answer has to be about (the critical terms),
the period it names, and, for a follow-up, what it carries over from the conversation and the standalone
text retrieval searches for.

The concept lexicon maps the relations this product is asked about (who led, who came along, where to,
what was signed or opened) to their German and English wordings, so "Wer war noch dabei?" finds
"Weitere Teilnehmer waren ..." and "Who led ...?" finds "... geleitete Delegation".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.places import place_of
from index.terms import STOPWORDS, content_stems, part_of, stem, words
from ingest.clean import fold
from ingest.dates import ENGLISH_DAY, GERMAN_DAY, ISO, MONTH_YEAR, MONTHS, NUMERIC_DAY, YEAR, build_date
from ingest.model import PubDate

FOLLOW_UP_WINDOW = 2  # a follow-up is read in the light of the last two questions of the conversation

# concept -> folded word beginnings (compound parts count too, see _concepts_of)
CONCEPTS: dict[str, tuple[str, ...]] = {
    "lead": ("leit", "geleit", "anfuehr", "angefuehr", "fuehrte", "gefuehrt", "lead", "led", "head", "chef", "spitze"),
    "participate": ("teilnehm", "teilgenommen", "dabei", "begleit", "mitgereist", "mitreis", "angemeldet", "vertreten",
                    "accompan", "particip", "join", "member", "mitglied", "teil", "took part", "along"),
    "travel": ("reis", "gereist", "fahrt", "trip", "travel", "journey", "delegation", "aufenthalt", "flog", "went", "go"),
    "visit": ("besuch", "besicht", "visit", "station", "toured", "aufenthalt"),
    "sign": ("unterzeichn", "unterschrieb", "unterschrift", "vereinbarung", "abkommen", "vertrag", "sign", "agreement", "contract", "kooperation"),
    "open": ("eroeffn", "eroffn", "eingeweiht", "open", "inaugur", "dependance", "niederlassung", "office", "branch"),
    "meet": ("treff", "traf", "getroffen", "gespraech", "meet", "met", "talk", "empfang", "reception"),
    "present": ("praesentier", "vorgestellt", "vorstell", "present", "showcas", "stand", "messe", "fair", "exhibit"),
    "company": ("unternehm", "firma", "firmen", "konzern", "start-up", "startup", "company", "compan", "firm", "betrieb"),
    "city": ("stadt", "staedt", "city", "cities", "ort", "orte", "region", "metropol", "town"),
    "topic": ("thema", "themen", "topic", "schwerpunkt", "fokus", "focus", "branche", "subject"),
    "highlight": ("hoehepunkt", "highlight", "abschluss"),
    "win": ("gewann", "gewonnen", "gewinn", "preis", "won", "win", "award", "prize"),
    "deliver": ("ueberbracht", "ueberbring", "ausgeliefert", "geliefert", "deliver", "drohne", "drone"),
    "publish": ("erschien", "erschienen", "veroeffentlich", "publish", "released", "jahresbericht", "report"),
    "guest": ("gast", "gaeste", "guest", "besucher"),
    "university": ("universitaet", "university", "hochschule", "college", "institut", "forschung", "research"),
    "ambassador": ("botschafter", "ambassador"),
}
GENERIC = {"travel", "company", "city"}  # concepts too common in this domain to decide between sentences

ROLE_WORDS = ("buergermeister", "senator", "minister", "praesident", "geschaeftsfuehr", "direktor", "vorstand",
              "staatssekretaer", "botschafter", "chef", "leiter", "manager", "vertreter", "teilnehmer", "dr.",
              "prof", "mayor", "president", "ceo", "preistraeger", "unternehmerin", "gruender")
NUMBER_WORDS = {"zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwoelf",
                "zwanzig", "dreissig", "fuenfzig", "hundert", "dutzend", "rund", "mehr"}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_WORDS = re.compile(rf"\b(?:\d{{1,2}}\.\s*(?:{_MONTH_NAMES})|(?:19|20)\d\d|montag|dienstag|mittwoch|donnerstag|"
                         rf"freitag|samstag|sonntag|woche|monat|jahr|kurz nach|kurz vor|im (?:{_MONTH_NAMES}))\b",
                         re.IGNORECASE)

_EN_MARKERS = {"the", "who", "which", "what", "did", "does", "where", "when", "how", "many", "was", "were", "with",
               "to", "of", "and", "is", "are", "in", "on", "visit", "visited", "led", "take", "part"}
_DE_MARKERS = {"der", "die", "das", "wer", "welche", "welcher", "welches", "wann", "wo", "wie", "viele", "und",
               "mit", "nach", "ist", "war", "waren", "hat", "den", "dem", "des", "ein", "eine", "reiste", "noch"}


@dataclass(frozen=True)
class Term:
    word: str  # as the user wrote it
    stem: str
    place: str | None = None  # place id when the word names a place

    def found_in(self, text_stems: set[str], text_places: set[str], text: str) -> bool:
        if self.place and self.place in text_places:
            return True
        if self.word.isdigit():
            return re.search(rf"(?<!\d){self.word}(?!\d)", text) is not None
        return self.stem in text_stems or any(part_of(self.stem, t) for t in text_stems)


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
    predicate: str | None = None  # stem of the verb asked about: "Wer begleitete ..." -> begleit
    predicate_concepts: set[str] = field(default_factory=set)  # its relation: participate
    wants_more: bool = False  # "wer war noch dabei?": others than already answered
    earlier: list[str] = field(default_factory=list)  # the conversation's questions it is read with, oldest first
    search: str = ""  # what retrieval searches for: the question, made standalone when it is a follow-up
    period: PubDate | None = None  # the month or year the search names

    @property
    def is_follow_up(self) -> bool:
        return self.search != self.text


def detect_language(text: str) -> str:
    tokens = [w.lower() for w in words(text)]
    en = sum(t in _EN_MARKERS for t in tokens)
    de = sum(t in _DE_MARKERS for t in tokens) + sum(ch in "äöüß" for ch in text.lower())
    return "en" if en > de else "de"


def _kind(text: str) -> str:
    low = text.lower().strip()
    if re.search(r"\b(wie viele|wieviele|wie viel|how many|how much|anzahl|number of)\b", low):
        return "count"
    if re.search(r"\b(wann|when|what date|which date|an welchem tag|in welchem jahr|zeitraum)\b", low):
        return "when"
    if re.search(r"\b(wer|wem|wen|who|whom|mit wem|which (?:politician|person|people|minister|senator|mayor|president))\b", low) or \
            re.search(r"\bwelche[rnms]? (?:politiker|person|personen|minister|senator|bürgermeister|vertreter|teilnehmer|präsident|botschafter)", low):
        return "who"
    if re.search(r"\b(wohin|wo|where|welche[rnms]? (?:städte|stadt|länder|land|orte|ort|region)|which (?:cities|city|countries|country|places))\b", low):
        return "where"
    return "what"


def concepts_of(text: str) -> set[str]:
    found = set()
    for w in words(text.replace("took part", "took_part")):
        f = fold(w)
        for concept, starts in CONCEPTS.items():
            if any(f == s if len(s) <= 3 else f.startswith(s) or (len(s) >= 5 and s in f) for s in starts):
                found.add(concept)
    return found


def critical_terms(text: str) -> list[Term]:
    """Names, places, organisations, years and numbers in the question: an answer must come from an article
    that has them. A word counts when it names a place, is a run of capitalised words (Olaf Scholz), is an
    acronym (NASA, IHK), or is written with digits."""
    tokens = words(text)
    out: list[Term] = []
    seen = set()
    for i, w in enumerate(tokens):
        low = w.lower()
        if low in STOPWORDS or fold(w) in seen:
            continue
        place = place_of(w)
        is_number = w.isdigit()
        acronym = len(w) >= 3 and w.isupper() and w.isalpha()  # organisations: NASA, IHK, BMW (not KI, EU)
        if place or is_number or acronym or (i > 0 and _in_name_run(tokens, i)):
            out.append(Term(w, stem(w), place))
            seen.add(fold(w))
            continue
        prefix, _, rest = w.partition("-")
        if rest[:1].isupper() and prefix[:1].isupper() and len(prefix) >= 3 and fold(prefix) not in seen and \
                prefix.lower() not in STOPWORDS and not concepts_of(prefix):
            # "Ruhr-Delegation", "NRW-Reise": a capitalised part hyphenated to a noun names who or where
            out.append(Term(prefix, stem(prefix), place_of(prefix)))
            seen.add(fold(prefix))
    return out


def _name_like(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in STOPWORDS and not concepts_of(word) and not place_of(word)


def _in_name_run(tokens: list[str], i: int) -> bool:
    """Olaf Scholz, Hans Carl: capitalised words side by side that are no places and no domain words.
    (German capitalises every noun, so a single capitalised word says nothing.)"""
    return _name_like(tokens[i]) and any(0 <= j < len(tokens) and _name_like(tokens[j]) for j in (i - 1, i + 1))


_HEAD_DE = re.compile(r"\b(?i:welche[rnms]?|wie viele)\s+(?:[a-zäöüß]\w*\s+){0,2}([A-ZÄÖÜ][\w-]+)")
_HEAD_EN = re.compile(r"\b(?i:which|what|how many)\s+(?:[A-Z]\w*\s+){0,2}([a-z][\w-]+)")


def head_noun(text: str, lang: str) -> str | None:
    """The noun a which/how-many question asks for: 'Welche japanischen Städte' -> Städte,
    'Which Hamburg senator' -> senator."""
    m = (_HEAD_EN if lang == "en" else _HEAD_DE).search(text)
    return stem(m.group(1)) if m else None


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


def analyse(text: str, earlier_questions: list[str] | None = None) -> Question:
    """The question, read with the earlier questions of its conversation (oldest first)."""
    lang = detect_language(text)
    predicate, relations = predicate_of(text, lang)
    q = Question(
        text=text,
        lang=lang,
        kind=_kind(text),
        stems=content_stems(text),
        concepts=concepts_of(text),
        critical=critical_terms(text),
        head=head_noun(text, lang),
        predicate=predicate,
        predicate_concepts=relations,
        wants_more=bool(re.search(r"\b(noch|außerdem|ausserdem|weitere|sonst|else|other|also)\b", text.lower())),
        earlier=list(earlier_questions or [])[-FOLLOW_UP_WINDOW:],
    )
    _carry(q)
    q.search = standalone(text, q.earlier)
    q.period = date_named(q.search)
    return q


def _carry(question: Question) -> None:
    """A follow-up carries the subject of the earlier questions (their names, places and words), so
    'Und wer war noch dabei?' stays with the trip that was asked about."""
    for earlier in question.earlier:
        prior = analyse(earlier)
        question.carried_stems += [s for s in prior.stems if s not in question.stems]
        question.carried_critical += [t for t in prior.critical if t.stem not in {c.stem for c in question.critical}]


def standalone(question: str, earlier_questions: list[str]) -> str:
    """A follow-up made standalone for retrieval: the earlier questions that add something, appended whole
    (the embedder reads sentences, BM25 drops the stop words). Without a language model this keeps the
    earlier names, places and content words, which is what retrieval needs ("Und wer war noch dabei?" after
    the Japan trip retrieves the Japan article)."""
    mine = {w.lower() for w in words(question)}
    adding = [e.strip() for e in earlier_questions
              if any(w.lower() not in STOPWORDS and w.lower() not in mine for w in words(e))]
    return f"{question} ({' '.join(adding)})" if adding else question


_ANY_YEAR = re.compile(rf"(?<![\d.-]){YEAR}(?![\d-])")


def date_named(text: str) -> PubDate | None:
    """The month or year a question asks about ('im November 2024', '2019', '2024-11'), or None."""
    for pattern in (ISO, GERMAN_DAY, NUMERIC_DAY, ENGLISH_DAY, MONTH_YEAR):
        m = pattern.search(text)
        if m:
            return build_date(m)
    m = _ANY_YEAR.search(text)
    return PubDate(m.group("year"), "year") if m else None


def answer_type_present(kind: str, sentence: str, sentence_places: dict[str, str], question: Question) -> bool:
    """Does the sentence hold the kind of information the question asks for (beyond repeating it)?"""
    low = fold(sentence)
    if kind == "who":  # a person the question does not already name: by name, or by role
        asked = fold(question.text)
        names = re.findall(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)? (?:[A-Z]\. )?[A-ZÄÖÜ][\w-]+", sentence)
        new_name = any(any(fold(w) not in asked for w in words(name)) for name in names)
        return new_name or any(r in low and r not in asked for r in ROLE_WORDS)
    if kind == "where":
        asked = {t.place for t in question.critical}
        return any(p not in asked for p in sentence_places)
    if kind == "when":
        return bool(_DATE_WORDS.search(sentence))
    if kind == "count":
        return bool(re.search(r"\d", sentence)) or any(w in NUMBER_WORDS for w in map(fold, words(sentence)))
    return False
