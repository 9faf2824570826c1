"""The embedded default answerer: no language model, it quotes the sentences of the retrieved passages that
answer the question, whole and in reading order, each with its citation marker, and nothing else.

It refuses instead of quoting the "closest" text when no retrieved article contains what the question is
about (a place, name or year it names) or when no sentence matches what is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.model import REFUSAL, Citation
from assistant.places import places_in
from assistant.question import GENERIC, Question, Term, answer_type_present, concepts_of
from index.retrieve import Passage
from index.terms import content_stems, fold, stem_matches
from ingest.sentences import split_sentences

MIN_SCORE = 1.5  # below this no sentence matches the question well enough to quote
KEEP_RATIO = 0.7  # further sentences are quoted when they score this close to the best one
MAX_SENTENCES = {"who": 3, "where": 3, "what": 3, "when": 2, "count": 2}


@dataclass
class Candidate:
    sentence: str
    passage: Passage
    rank: int  # of the passage
    order: tuple[int, int]  # (chunk ordinal, sentence index): reading order inside the article
    score: float = 0.0


@dataclass
class Draft:
    text: str
    refused: bool
    citations: list[Citation]


@dataclass
class Coverage:
    doc_id: str
    missing: list[Term]
    carried_found: int


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, article_text: Callable[[str], str]):
        self.article_text = article_text  # doc_id -> the whole article, for checking what it mentions

    def not_in_corpus(self, q: Question, passages: list[Passage]) -> Draft | None:
        """The refusal when the retrieved articles do not hold what the question names (a place, name,
        organisation or year absent from every one of them), else None. Decided from evidence, not from
        similarity: the closest passage about Japan does not answer a question about Brazil."""
        if not passages:
            return refusal(q.lang)
        return _refusal_without(self._coverages(q, passages), q)

    def answer(self, q: Question, passages: list[Passage], previous_answer: str = "") -> Draft:
        if not passages:
            return refusal(q.lang)
        coverage = self._coverages(q, passages)
        absent = _refusal_without(coverage, q)
        if absent:
            return absent
        usable = {doc for doc, c in coverage.items() if not c.missing}
        best_carried = max(coverage[d].carried_found for d in usable)
        candidates = [c for c in _candidates(passages) if c.passage.doc_id in usable]
        previous = {fold(s) for s in split_sentences(previous_answer)} if previous_answer else set()
        stems_of = {id(c): set(content_stems(c.sentence)) for c in candidates}
        weights = _rarity(q.stems + q.carried_stems, list(stems_of.values()))
        for c in candidates:
            c.score = self._score(c, stems_of[id(c)], q, previous, weights)
            if coverage[c.passage.doc_id].carried_found < best_carried:
                c.score -= 1.0  # a follow-up stays with the article the conversation is about
        candidates.sort(key=lambda c: (-c.score, c.rank, c.order))
        if not candidates or candidates[0].score < MIN_SCORE:
            return refusal(q.lang)
        top = candidates[0]
        good = max(KEEP_RATIO * top.score, MIN_SCORE)
        chosen = [c for c in candidates[:MAX_SENTENCES[q.kind]] if c is top or c.score >= good]
        for doc in usable - {c.passage.doc_id for c in chosen}:  # another article answers too: quote it as well
            best = next((c for c in candidates if c.passage.doc_id == doc), None)
            if best and best.score >= good and best.rank < len(passages):
                chosen.append(best)
        for c in list(chosen):
            before = _predecessor(c, candidates)
            if before and before not in chosen and _ANAPHOR.match(c.sentence):
                chosen.append(before)  # "Das Unternehmen ist ...": quote the sentence that names it
        return _compose(chosen, q.lang)

    def _coverages(self, q: Question, passages: list[Passage]) -> dict[str, Coverage]:
        return {doc: self._coverage(doc, q, passages) for doc in dict.fromkeys(p.doc_id for p in passages)}

    def _coverage(self, doc_id: str, q: Question, passages: list[Passage]) -> Coverage:
        title = next(p.title for p in passages if p.doc_id == doc_id)
        date = next((p.date for p in passages if p.doc_id == doc_id and p.date), "") or ""
        text = f"{title}\n{date}\n{self.article_text(doc_id)}"
        stems = set(content_stems(text))
        places = set(places_in(text))
        missing = [t for t in q.critical if not t.found_in(stems, places, text)]
        carried = sum(t.found_in(stems, places, text) for t in q.carried_critical)
        return Coverage(doc_id, missing, carried)

    def _score(self, c: Candidate, stems: set[str], q: Question, previous: set[str], weights: dict[str, float]) -> float:
        critical = {t.stem for t in q.critical}  # these already chose the article; in a sentence they count less
        score = 0.0
        for s in dict.fromkeys(q.stems):
            if _matches(s, stems):
                score += (0.5 if s in critical else 1.5 if s == q.head else 1.0) * weights[s]
        for s in dict.fromkeys(q.carried_stems):
            if _matches(s, stems):
                score += 0.3 * weights[s]
        concepts = concepts_of(c.sentence)
        for concept in q.concepts & concepts:  # the relation asked about counts most: "begleitete", "headed"
            score += 0.3 if concept in GENERIC else 2.0 if concept in q.predicate_concepts else 1.0
        if answer_type_present(q.kind, c.sentence, places_in(c.sentence), q):
            score += 1.2
        elif q.kind in ("who", "where", "when", "count"):
            score -= 1.0  # "Wie viele ...?" is not answered by a sentence without a number, however similar
        if len(c.sentence.split()) < 5:
            score -= 1.0  # headings and datelines rarely answer anything
        asked = q.stems + q.carried_stems
        if sum(not _matches(t, set(asked)) for t in stems) < 2:
            score -= 1.5  # a sentence that only repeats the question tells nothing new
        if q.wants_more and fold(c.sentence) in previous:
            score -= 2.5  # "who else": not the sentence already given
        return score + 0.4 / (1 + c.rank)


_ANAPHOR = re.compile(r"^(?:Das Unternehmen|Die Firma|Er|Sie|Es|Dort|Dabei|Diese[rsmn]?|Hier|Dazu|Davor|Danach|"
                     r"Daraufhin|It|They|There)\b")


def _rarity(query_stems: list[str], sentences: list[set[str]]) -> dict[str, float]:
    """Weight of each question word by how few candidate sentences contain it: 'KI' decides more than
    'Unternehmen'. Between 0.5 (in every sentence) and 1.5 (in one)."""
    n = max(len(sentences), 1)
    weights = {}
    for s in query_stems:
        df = sum(_matches(s, stems) for stems in sentences)
        weights[s] = 0.5 + (1 - df / n) if df else 1.0
    return weights


def _predecessor(c: Candidate, candidates: list[Candidate]) -> Candidate | None:
    want = (c.order[0], c.order[1] - 1)
    return next((o for o in candidates if o.passage.doc_id == c.passage.doc_id and o.order == want), None)


def _matches(query_stem: str, stems: set[str]) -> bool:
    return query_stem in stems or any(stem_matches(query_stem, t) for t in stems)


def _candidates(passages: list[Passage]) -> list[Candidate]:
    seen: set[str] = set()
    out = []
    for rank, p in enumerate(passages):
        ordinal = int(p.chunk_id.rsplit("#", 1)[-1]) if "#" in p.chunk_id else 0
        for i, sentence in enumerate(split_sentences(p.text)):
            key = fold(sentence)
            if key in seen:  # overlapping chunks repeat a sentence: keep its best-ranked passage
                continue
            seen.add(key)
            out.append(Candidate(sentence, p, rank, (ordinal, i)))
    return out


def _compose(chosen: list[Candidate], lang: str) -> Draft:
    """Quote the chosen sentences in reading order (article by article), each followed by its marker."""
    doc_order = list(dict.fromkeys(c.passage.doc_id for c in chosen))
    chosen = sorted(chosen, key=lambda c: (doc_order.index(c.passage.doc_id), c.order))
    numbers: dict[str, int] = {}
    citations: dict[str, Citation] = {}
    parts = []
    for c in chosen:
        key = c.passage.chunk_id
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations[key] = Citation(numbers[key], c.passage)
        citations[key].quotes.append(c.sentence)
        parts.append(f"{c.sentence} [{numbers[key]}]")
    text = " ".join(parts)
    if lang == "en":
        text = f"The articles say (quoted in German): {text}"
    return Draft(text, False, list(citations.values()))


def _refusal_without(coverage: dict[str, Coverage], q: Question) -> Draft | None:
    """The refusal naming what is missing when no article covers the question's critical terms, else None."""
    if any(not c.missing for c in coverage.values()):
        return None
    best = min(coverage.values(), key=lambda c: len(c.missing))
    return refusal(q.lang, missing=[t.word for t in best.missing])


def refusal(lang: str, missing: list[str] | None = None) -> Draft:
    text = REFUSAL[lang]
    if missing:
        names = ", ".join(missing)
        text += (f" (Kein passender Artikel erwähnt {names}.)" if lang == "de"
                 else f" (No matching article mentions {names}.)")
    return Draft(text, True, [])
