"""Holding generated text to its citations, before anything is shown (streamed sentences included).

Whatever a model writes: a marker that points to no passage is removed, a sentence whose cited passage
lacks its names and numbers is dropped, an uncited sentence stating facts is dropped, a sentence repeating
the assistant's own instructions is dropped (a passage told the model to reveal them), and the markers left
are renumbered [1], [2], ... in order of first use.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answer import MARKER, REFUSAL, Citation, Draft, marker_numbers, refusal
from index.retrieve import Passage
from index.terms import content_stems, matches_any, words
from ingest.sentences import split_sentences

_REFUSAL_HINTS = ("finde ich nichts", "nicht in den artikeln", "keine angaben", "can't find anything",
                  "cannot find anything", "not in the articles", "do not say", "don't say")
_ECHO_WORDS = 6  # this many words in a row from a prompt is a quotation of it, not a coincidence


def enforce_citations(raw: str, passages: list[Passage], lang: str) -> tuple[Draft, list[str]]:
    """Keep only citations that exist and support their sentence; renumber them [1], [2], ... in order.
    Returns the checked draft and what was removed, in words for the notices."""
    text = raw.strip()
    if not text or any(h in text.lower() for h in _REFUSAL_HINTS) and not MARKER.search(text):
        return refusal(lang), (["The model gave no answer."] if not text else [])
    nowhere: set[int] = set()  # cited numbers that point to no passage
    echoed = 0
    unsupported: list[set[str]] = []  # facts of sentences whose cited passages do not contain them
    uncited = 0  # sentences stating facts without any citation
    numbers: dict[int, int] = {}
    citations: dict[int, Citation] = {}
    kept_sentences = []
    for sentence in split_sentences(text.replace("\n", " ")):
        if _echoes_instructions(sentence):
            echoed += 1
            continue
        cited = marker_numbers(sentence)
        valid = [n for n in cited if 1 <= n <= len(passages)]
        nowhere |= set(cited) - set(valid)
        facts = _facts(sentence)
        supported = [n for n in valid if all(_supported(f, passages[n - 1]) for f in facts)]
        if valid and not supported:
            unsupported.append({f for f in facts if not any(_supported(f, passages[n - 1]) for n in valid)})
            continue
        if not valid and facts:
            uncited += 1
            continue
        plain = MARKER.sub("", sentence).replace(" .", ".").strip()
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
    if echoed:
        problems.append(f"Dropped {echoed} sentence{'s' if echoed > 1 else ''} repeating the assistant's instructions.")
    if uncited:
        problems.append(f"Dropped {uncited} sentence{'s' if uncited > 1 else ''} stating facts without a citation.")
    if not citations:
        problems.append("The generated answer kept no valid citation.")
        return Draft(REFUSAL[lang], True, []), problems
    return Draft(" ".join(kept_sentences), False, list(citations.values())), problems


def _facts(sentence: str) -> set[str]:
    """Names and numbers in a sentence: what its cited passage must contain."""
    tokens = words(MARKER.sub("", sentence))
    facts = {t for t in tokens if t.isdigit()}
    facts |= {t for i, t in enumerate(tokens) if i > 0 and t[:1].isupper() and len(t) > 2}
    return facts


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


def _attach(sentence: str, marks: str) -> str:
    if not marks:
        return sentence
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} {marks}{sentence[-1]}"
    return f"{sentence} {marks}"


_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d+\])*\s+(?=[^\s\[])")


def sentences_with_markers(text: str) -> list[str]:
    """An answer cut after each sentence and the markers that follow it, keeping the spaces between them."""
    out, last = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append(text[last:m.end()])
        last = m.end()
    if text[last:]:
        out.append(text[last:])
    return out


def complete_part(raw: str) -> str:
    """Generated text up to its last finished sentence and its markers (more text follows them)."""
    ends = list(_SENTENCE_END.finditer(raw))
    return raw[: ends[-1].end()].strip() if ends else ""
