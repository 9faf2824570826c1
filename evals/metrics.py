"""Metric functions: pure, deterministic, explainable case by case. No LLM judge.

Each takes plain data (answer JSON as `delegations ask --json` prints it, and a case) and returns numbers.
"""

from __future__ import annotations

import re

from assistant.answer import marker_numbers
from ingest.clean import fold_accents



def normalise(text: str) -> str:
    """Case, umlauts/ß, accents, punctuation and white space folded away: 'Höhepunkt' == 'hoehepunkt'."""
    text = fold_accents(text)
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def slot_present(text: str, spellings: list[str]) -> bool:
    """A spelling occurs as whole words; long ones (names over 6 letters) also inflected ('-s' endings)."""
    hay = f" {normalise(text)} "
    for spelling in map(normalise, spellings):
        if spelling and (f" {spelling} " in hay or (len(spelling) > 6 and f" {spelling}" in hay)):
            return True
    return False


def missing_slots(answer_text: str, expect: list[list[str]]) -> list[list[str]]:
    return [slot for slot in expect if not slot_present(answer_text, slot)]


def slot_recall(answer_text: str, expect: list[list[str]]) -> float:
    if not expect:
        return 1.0
    return 1 - len(missing_slots(answer_text, expect)) / len(expect)


def answer_correct(answer_text: str, expect: list[list[str]]) -> bool:
    return not missing_slots(answer_text, expect)


def answer_first(answer_text: str, expect: list[list[str]]) -> bool:
    """The answer's first sentence (up to its first citation marker) holds something asked for: the user
    reads the answer first, not a sentence about something else."""
    first = re.split(r"(?<=\])", answer_text, maxsplit=1)[0]
    return any(slot_present(first, slot) for slot in expect)


def first_relevant_rank(contexts: list[dict], sources: list[str]) -> int | None:
    """1-based rank of the first retrieved passage from an expected article."""
    for rank, c in enumerate(contexts, 1):
        if c["doc_id"] in sources:
            return rank
    return None


def hit_at(contexts: list[dict], sources: list[str], k: int) -> float:
    rank = first_relevant_rank(contexts, sources)
    return float(rank is not None and rank <= k)


def reciprocal_rank(contexts: list[dict], sources: list[str]) -> float:
    rank = first_relevant_rank(contexts, sources)
    return 1.0 / rank if rank else 0.0


def citation_validity(answer: dict) -> float:
    """Share of markers in the answer that refer to a returned citation (1.0 when there are none)."""
    markers = marker_numbers(answer["answer"])
    if not markers:
        return 1.0
    known = {c["n"] for c in answer["citations"]}
    return sum(m in known for m in markers) / len(markers)


def _cited_text(citation: dict) -> str:
    return f"{citation.get('title', '')} {citation['text']}"


def citation_support(answer: dict, expect: list[list[str]]) -> float | None:
    """Share of the expected slots found in the answer that a cited passage also contains; None when the
    answer states none of them (then there is no claim to support: answer accuracy counts that miss). A count
    the answer computes ("Die Artikel nennen 2 Reisen: • … [1] • … [2]") is supported by its enumeration:
    as many items as it says, each cited."""
    found = [slot for slot in expect if slot_present(answer["answer"], slot)]
    if not found:
        return None
    cited = " ".join(_cited_text(c) for c in answer["citations"])
    return sum(slot_present(cited, slot) or _counted(answer["answer"], slot) for slot in found) / len(found)


_NUMBER_WORDS = {"eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9,
                 "zehn": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10}


def _counted(text: str, spellings: list[str]) -> bool:
    """The answer enumerates as many items as the number says, each with a citation marker."""
    items = text.split("• ")[1:]
    numbers = {int(s) if s.strip().isdigit() else _NUMBER_WORDS.get(normalise(s)) for s in spellings}
    return bool(items) and len(items) in numbers and all(_MARKER_IN.search(item) for item in items)


_MARKER_IN = re.compile(r"\[\d+\]")


def citation_precision(answer: dict, expect: list[list[str]], sources: list[str]) -> float:
    """Share of cited passages that are relevant: from an expected article or holding an expected slot."""
    cites = answer["citations"]
    if not cites:
        return 0.0
    good = sum(c["doc_id"] in sources or any(slot_present(_cited_text(c), s) for s in expect) for c in cites)
    return good / len(cites)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1), interpolated between neighbours (numpy's default); the eval and the bench both use it."""
    import numpy as np

    return float(np.percentile(values, q * 100)) if values else 0.0


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
