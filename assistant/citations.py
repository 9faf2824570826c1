"""Holding generated text to its citations, before anything is shown (streamed sentences included).

Whatever a model writes: a marker that points to no passage is removed, a sentence whose cited passage
lacks its names and numbers is dropped, and so is one claiming that a person led, joined, signed, opened,
visited or met when its passage says no such thing of that person, and one joining names and numbers
its passage names only far apart; an uncited sentence stating facts is
dropped, a sentence repeating the assistant's own instructions is dropped (a passage told the model to
reveal them), and the markers left are renumbered [1], [2], ... in order of first use. What is left empty
is a refusal, never an empty answer.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answer import MARKER, REFUSAL, Citation, Draft, marker_numbers, refusal
from index.retrieve import Passage
from index.terms import content_stems, matches_any, words
from ingest.sentences import ends_sentence, refers_back, split_sentences

_REFUSAL_HINTS = ("finde ich nichts", "nicht in den artikeln", "keine angaben", "can't find anything",
                  "cannot find anything", "not in the articles", "do not say", "don't say")
_ECHO_WORDS = 6  # this many words in a row from a prompt is a quotation of it, not a coincidence


def enforce_citations(raw: str, passages: list[Passage], lang: str, question: str = "") -> tuple[Draft, list[str]]:
    """Keep only citations that exist and support their sentence; renumber them [1], [2], ... in order.
    Given the question, a sentence saying nothing it does not ("In Tel Aviv hatten Unternehmen einen Stand")
    is dropped too. Returns the checked draft and what was removed, in words for the notices."""
    text = raw.strip()
    if not text or any(h in text.lower() for h in _REFUSAL_HINTS) and not MARKER.search(text):
        return refusal(lang), (["The model gave no answer."] if not text else [])
    nowhere: set[int] = set()  # cited numbers that point to no passage
    echoed = 0
    restated = 0  # sentences only repeating the question
    asked = _saying(question)
    named = _named(passages)
    unsupported: list[set[str]] = []  # facts of sentences whose cited passages do not contain them
    unrelated: list[str] = []  # claims of a relation ("X leitete ...") their passages do not state of X
    apart: list[str] = []  # sentences joining names and numbers their passages name only far apart
    uncited = 0  # sentences stating facts without any citation
    numbers: dict[int, int] = {}
    citations: dict[int, Citation] = {}
    kept_sentences = []
    said: set[str] = set()
    for sentence in _markers_after(text):
        if _echoes_instructions(sentence):
            echoed += 1
            continue
        if MARKER.sub("", sentence).strip().endswith("?"):
            restated += 1  # a question asserts nothing: the model echoing it ("Frage: Wann war das [1]?") or asking back
            continue
        if asked and _saying(MARKER.sub("", sentence)) <= asked and re.search(r"\w", MARKER.sub("", sentence)):
            restated += 1  # the question as an answer: "In Tel Aviv hatten Unternehmen einen Stand [1]."
            continue
        cited = marker_numbers(sentence)
        valid = [n for n in cited if 1 <= n <= len(passages)]
        nowhere |= set(cited) - set(valid)
        facts = _facts(sentence, named)
        with_facts = [n for n in valid if all(_supported(f, passages[n - 1]) for f in facts)]
        together = [n for n in with_facts if _stated_together(facts, passages[n - 1])]
        supported = [n for n in together if _relation_supported(sentence, passages[n - 1])]
        if valid and not supported:
            if together:
                unrelated.append(" ".join(MARKER.sub("", sentence).split()[:4]) + " …")
            elif with_facts:
                apart.append(" ".join(MARKER.sub("", sentence).split()[:4]) + " …")
            else:
                unsupported.append({f for f in facts if not any(_supported(f, passages[n - 1]) for n in valid)})
            continue
        if not valid and facts:
            uncited += 1
            continue
        plain = MARKER.sub("", sentence).replace(" .", ".").strip()
        if not re.search(r"\w", plain):
            continue  # markers and punctuation alone say nothing
        if plain in said:
            continue  # the same sentence again, from another passage ("New York, Boston und Los Angeles [1]. … [2].")
        said.add(plain)
        marks = ""
        for n in dict.fromkeys(supported):
            if n not in numbers:
                numbers[n] = len(numbers) + 1
                citations[n] = Citation(numbers[n], passages[n - 1], [])
            citations[n].quotes.append(plain)
            marks += f"[{numbers[n]}]"
        if plain:
            kept_sentences.append(_attach(plain, marks))
    problems = []
    if nowhere:
        problems.append(f"Removed citation{'s' if len(nowhere) > 1 else ''} {', '.join(f'[{n}]' for n in sorted(nowhere))}: "
                        f"the answer had only {len(passages)} passage{'s' if len(passages) != 1 else ''}.")
    if unsupported:
        missing = sorted(set().union(*unsupported))[:8]
        problems.append(f"Dropped {len(unsupported)} sentence{'s' if len(unsupported) > 1 else ''} whose cited passage "
                        f"does not contain {', '.join(missing) or 'its facts'}.")
    if unrelated:
        problems.append(f"Dropped {len(unrelated)} sentence{'s' if len(unrelated) > 1 else ''} claiming what the cited passage "
                        f"does not say of that person: {'; '.join(unrelated[:3])}")
    if apart:
        problems.append(f"Dropped {len(apart)} sentence{'s' if len(apart) > 1 else ''} joining names or numbers the cited "
                        f"passage names only in unrelated sentences: {'; '.join(apart[:3])}")
    if echoed:
        problems.append(f"Dropped {echoed} sentence{'s' if echoed > 1 else ''} repeating the assistant's instructions.")
    if restated:
        problems.append(f"Dropped {restated} sentence{'s' if restated > 1 else ''} only restating the question.")
    if uncited:
        problems.append(f"Dropped {uncited} sentence{'s' if uncited > 1 else ''} stating facts without a citation.")
    if not citations or not kept_sentences:  # nothing left to show is never an answer, only a refusal
        problems.append("The generated answer kept no valid citation.")
        return Draft(REFUSAL[lang], True, []), problems
    return Draft(" ".join(kept_sentences), False, list(citations.values())), problems


# Relations a claim about a person states, which its passage must state of that person too.
_RELATIONS = {"lead", "participate", "sign", "open", "visit", "meet", "win", "deliver"}
RELATION_REACH = 20  # words between a person's name and the verb stating the relation of them, in one sentence
ROLE_REACH = 4  # words after a noun naming the relation ("Preisträgerin Lara Obst") where its person's name stands


def _relation_supported(sentence: str, passage: Passage) -> bool:
    """A sentence saying a person led, joined, signed, opened, visited or met is kept only when a sentence of
    its passage names that person with the same relation, near the name: "Andree Haack leitete die Delegation
    nach Shenzhen" is not supported by a passage in which Haack is quoted about Duisburg, nor "Lars Mölbitz won
    the slam" by a photo caption that lists him 65 words before "Lara Obst ... gewonnen", nor "Kai Wegner won"
    by "Kai Wegner, Regierender Bürgermeister (vorn, v. l.) Berliner Preisträgerin Lara Obst". The places
    of the claim stand in that sentence too (or the title, or the sentence it refers back to): "Beck
    unterzeichnete in Israel" is not supported by a Shenzhen signing after a sentence about Israel."""
    from assistant.concepts import concepts_of
    from index.people import people_in
    from index.places import country_of, places_in

    relations = concepts_of(MARKER.sub("", sentence)) & _RELATIONS
    named = [name.split()[-1] for name in people_in(sentence)]
    if not relations or not named:
        return True
    claimed_places = set(places_in(MARKER.sub("", sentence))) - set(places_in(passage.title))
    before = ""
    for s in split_sentences(passage.text):
        context, before = (f"{before} {s}" if refers_back(s) else s), s
        stated = set(places_in(context))
        stated |= {f"country:{country_of(p)}" for p in stated if country_of(p)}  # Tokio lies in Japan
        if not any(n in s for n in named) or not claimed_places <= stated:
            continue  # the relation is stated of someone else, or somewhere else: "Beck unterzeichnete in Israel"
        tokens = words(s)
        at_name = [i for i, t in enumerate(tokens) if t in named]
        if any(_relation_reaches(i, j, tokens, s) for i in at_name for j, t in enumerate(tokens)
               if concepts_of(t) & relations):
            return True
        if "lead" in relations and any(re.search(rf"\bunter\s+(?:[\w.-]+\s+){{0,4}}{re.escape(n)}\b", s) for n in named):
            return True  # "die Delegation unter Uwe Albrecht"
    return False


def _relation_reaches(at_name: int, at_relation: int, tokens: list[str], sentence: str) -> bool:
    """Whether the relation word at at_relation is said of the name at at_name. A verb may stand RELATION_REACH
    words away; a noun naming the relation that a person's name directly follows ("Preisträgerin Lara Obst",
    "Teilnehmer waren Dr. Randy Kurz und Roy Richter") belongs to the names after it, not to one before it."""
    from index.people import people_in

    if abs(at_name - at_relation) > RELATION_REACH:
        return False
    if not tokens[at_relation][:1].isupper() or at_name > at_relation:
        return True
    after = " ".join(tokens[at_relation + 1:at_relation + 1 + ROLE_REACH])
    return not people_in(after)


# Auxiliaries and prepositions that a sentence restating the question may word differently ("have" / "had").
_FUNCTION_WORDS = frozenset("had has have having did does do was were is are be been from hatte hatten hat haben "
                            "habe war waren wurde wurden ist sind sei".split())


def _saying(text: str) -> set[str]:
    """What a sentence says, as stems, for telling whether it says more than the question."""
    return set(content_stems(" ".join(w for w in words(text) if w.lower() not in _FUNCTION_WORDS)))


NEARBY_SENTENCES = 2  # facts of one claim must stand this close together in its passage


def _stated_together(facts: set[str], passage: Passage) -> bool:
    """The names and numbers of one claim stand within NEARBY_SENTENCES consecutive sentences of its passage
    (those of the article's title count everywhere): "Mit Jens Hildebrandt richtete die Business Metropole
    Ruhr die Reise nach Israel aus" joins a name from the Shenzhen sentence to the Israel trip."""
    everywhere = Passage(passage.chunk_id, passage.doc_id, "", None, "", passage.title, 0.0)
    left = {f for f in facts if not _supported(f, everywhere)}
    if not left:
        return True
    sentences = split_sentences(passage.text) or [passage.text]
    for i in range(max(1, len(sentences) - NEARBY_SENTENCES + 1)):
        window = Passage(passage.chunk_id, passage.doc_id, "", None, "", " ".join(sentences[i:i + NEARBY_SENTENCES]), 0.0)
        if all(_supported(f, window) for f in left):
            return True
    return False


def _facts(sentence: str, named: frozenset[str] = frozenset()) -> set[str]:
    """Names and numbers in a sentence: what its cited passage must contain. The first word counts when the
    passages use it as a name or noun (`named`): "Scayan took part in the trip to China [2]" must find Scayan
    in passage 2, while "During …" or "Die …" opening a sentence are no facts."""
    tokens = words(MARKER.sub("", sentence))
    facts = {t for t in tokens if t.isdigit()}
    facts |= {t for i, t in enumerate(tokens) if (i > 0 or t in named) and t[:1].isupper() and len(t) > 2}
    return facts


def _named(passages: list[Passage]) -> frozenset[str]:
    """The capitalised words of the passages that are not function words: names, and German nouns."""
    return frozenset(t for p in passages for t in words(f"{p.title} {p.text}") if t[:1].isupper() and content_stems(t))


def _supported(fact: str, passage: Passage) -> bool:
    if fact.isdigit():
        return re.search(rf"(?<!\d){fact}(?!\d)", passage.text) is not None
    stems = _passage_stems(passage.title, passage.text)
    # German compounds: "Delegation" is supported by "Wirtschaftsdelegation", "Japanreise" by "Japan"
    return any(matches_any(s, stems) for s in content_stems(fact)) or not content_stems(fact)


@lru_cache(maxsize=256)
def _passage_stems(title: str, text: str) -> frozenset[str]:
    return frozenset(content_stems(f"{title} {text}"))


@lru_cache(maxsize=1)
def _instruction_shingles() -> frozenset[tuple[str, ...]]:
    """Every run of _ECHO_WORDS words in the system, answer and condense prompts, German and English."""
    from prompts import template

    runs = set()
    for name in ("system", "answer", "condense"):
        for lang in ("de", "en"):
            tokens = [w.lower() for w in words(re.sub(r"\$\w+", " ", template(name, lang).template))]
            runs |= {tuple(tokens[i:i + _ECHO_WORDS]) for i in range(len(tokens) - _ECHO_WORDS + 1)}
    return frozenset(runs)


def _echoes_instructions(sentence: str) -> bool:
    tokens = [w.lower() for w in words(MARKER.sub(" ", sentence))]
    shingles = _instruction_shingles()
    return any(tuple(tokens[i:i + _ECHO_WORDS]) in shingles for i in range(len(tokens) - _ECHO_WORDS + 1))


_LEADING_MARKERS = re.compile(r"^\s*(?:[-*•]\s*)?((?:\[\d+\]\s*)+)(.+)$")
_MARKERS_ONLY = re.compile(r"^\s*(?:[^\[\]:]{0,40}:)?(?:\s*\[\d+\]\s*[,;.]?|\s+(?:und|and)\s+)+$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(?=\S)")


def _markers_after(text: str) -> list[str]:
    """The sentences of the text with every citation after what it cites. Small models often write a list,
    one line per item, the marker first ("[1] Tokio" / "[2] Kobe"): each line becomes a sentence ("Tokio [1].",
    "Kobe [2]."); or they put the markers in a sentence of their own after the answer ("Nummer der Textstelle:
    [1]"): those go to the uncited sentences before it."""
    lines: list[str] = []
    for line in text.splitlines():
        m = _LEADING_MARKERS.match(line)
        if m:
            first, *others = sentences_with_markers(m.group(2).strip())  # the markers cite the first sentence
            first = first.strip()
            end = first[-1] if first[-1] in ".!?" else "."
            line = " ".join([f"{first.rstrip('.!?').rstrip()} {m.group(1).strip()}{end}", *others])
        elif _BULLET.match(line):
            line = _BULLET.sub("", line).rstrip()
            if line and not re.search(r"[.!?](?:\s*\[\d+\])*$", line):
                line += "."
        if line.strip():
            lines.append(line.strip())
    out: list[str] = []
    for sentence in split_sentences(" ".join(lines)):
        if _MARKERS_ONLY.match(sentence) and out:
            marks = "".join(f"[{n}]" for n in marker_numbers(sentence))
            i = len(out)
            while i > 0 and not marker_numbers(out[i - 1]):
                i -= 1
            out[i:] = [_attach(x.strip(), marks) for x in out[i:]]
            if i < len(out):
                continue
        out.append(sentence)
    return out


def _attach(sentence: str, marks: str) -> str:
    if not marks:
        return sentence
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} {marks}{sentence[-1]}"
    return f"{sentence} {marks}"


_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d+\])*\s+(?=[^\s\[])")


def _sentence_ends(text: str) -> list[re.Match]:
    """Where sentences end, markers included: not after an initial or an abbreviation ("Michael E. Mann",
    "Dr. Kurz"), unless a marker follows it."""
    return [m for m in _SENTENCE_END.finditer(text) if "[" in m.group(0) or ends_sentence(text, m.start(), m.end())]


def sentences_with_markers(text: str) -> list[str]:
    """An answer cut after each sentence and the markers that follow it, keeping the spaces between them."""
    out, last = [], 0
    for m in _sentence_ends(text):
        out.append(text[last:m.end()])
        last = m.end()
    if text[last:]:
        out.append(text[last:])
    return out


def complete_part(raw: str) -> str:
    """Generated text up to its last finished sentence and its markers (more text follows them)."""
    ends = _sentence_ends(raw)
    return raw[: ends[-1].end()].strip() if ends else ""
