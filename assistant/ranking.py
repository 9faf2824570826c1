"""The sentences of the retrieved passages, best first for the question: the one ranking every strategy reads.

The extractive answerer quotes the best of them, a model reads them (assistant/generated.py `focus`), and a
refusal offers the closest as a hint. Scored by the question's words (rarer ones count more), the kind of
answer asked for, the relation asked about, meaning (e5 sentence vectors, index/vectors.py) and how much of
the question the sentence's article mentions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.answerer import Prepared
from assistant.evidence import Evidence
from assistant.concepts import GENERIC, concepts_of
from assistant.question import Question, answer_type_present
from index.retrieve import Passage
from index.terms import content_stems, matches_any
from index.vectors import SentenceVectors
from ingest.annotate import Entity
from ingest.clean import fold
from ingest.sentences import sentence_spans, split_sentences

# Meaning: a sentence's similarity to the question (e5, index/vectors.py) against the most similar one's, and a
# bonus for being that one. Chosen on XQuAD-de dev (1,041 questions, the answer among the three best
# sentences 0.90 by words alone, 0.92 with meaning) and the sample suite, not fitted case by case.
SIMILARITY_WEIGHT = 15.0
MOST_SIMILAR_BONUS = 2.0
SHARE_WEIGHT = 4.0  # times the share of the question's words an article mentions less than the best-covering one
PEOPLE_LIST_BONUS = 1.5  # a sentence listing people, when the question asks who came along
REGISTER_BONUS = 3.0  # a sentence the trip register read the asked-for leader or companions from


@dataclass
class Candidate:
    sentence: str
    passage: Passage
    rank: int  # of the passage
    order: tuple[int, int]  # (chunk ordinal, sentence index): reading order inside the article
    score: float = 0.0
    similarity: float | None = None  # to the question, when the passage's sentence vectors are known
    entities: list[Entity] = field(default_factory=list)  # the annotation's, inside the sentence


def rank(p: Prepared) -> list[Candidate]:
    """The sentences of the passages of articles that mention what the question names, best first, scored by
    the question's words, the kind of answer it wants, meaning and the article's share of the question."""
    q, passages = p.q, p.retrieval.passages
    usable = p.evidence.usable
    if not passages or not usable:
        return []
    coverage = p.evidence.coverage
    best_carried = max(coverage[d].carried_found for d in usable)
    candidates = [c for c in _candidates(passages, p.retrieval.vectors, p.retrieval.query_vector, p.evidence)
                  if c.passage.doc_id in usable]
    previous = {fold(s) for s in split_sentences(p.previous_answer)} if p.previous_answer else set()
    stems_of = {id(c): set(content_stems(c.sentence)) for c in candidates}
    weights = _rarity(q.stems + q.carried_stems, list(stems_of.values()))
    most_similar = max((c.similarity for c in candidates if c.similarity is not None), default=None)
    best_share = max(coverage[d].share for d in usable)
    for c in candidates:
        c.score = _score(c, stems_of[id(c)], q, previous, weights)
        if c.similarity is not None and most_similar is not None:
            c.score += SIMILARITY_WEIGHT * (c.similarity - most_similar) + MOST_SIMILAR_BONUS * (c.similarity == most_similar)
        c.score -= SHARE_WEIGHT * (best_share - coverage[c.passage.doc_id].share)
        if coverage[c.passage.doc_id].carried_found < best_carried:
            c.score -= 1.0  # a follow-up stays with the article the conversation is about
        if any(quote in c.sentence for quote in p.register_quotes.get(c.passage.doc_id, ())):
            c.score += REGISTER_BONUS  # the register read who led (or came along) from this sentence
    candidates.sort(key=lambda c: (-c.score, c.rank, c.order))
    return candidates

def _score(c: Candidate, stems: set[str], q: Question, previous: set[str], weights: dict[str, float]) -> float:
    critical = {t.stem for t in q.critical}  # these already chose the article; in a sentence they count less
    score = 0.0
    for s in dict.fromkeys(q.stems):
        if matches_any(s, stems):
            score += (0.5 if s in critical else 1.5 if s == q.head else 1.0) * weights[s]
    for s in dict.fromkeys(q.carried_stems):
        if matches_any(s, stems):
            score += 0.3 * weights[s]
    concepts = concepts_of(c.sentence)
    for concept in q.concepts & concepts:  # the relation asked about counts most: "begleitete", "headed"
        score += 0.3 if concept in GENERIC else 2.0 if concept in q.predicate_concepts else 1.0
    if answer_type_present(q.kind, c.sentence, c.entities, q):
        score += 1.2
        if "participate" in q.predicate_concepts and len({e.attrs.get("name") or e.text for e in c.entities
                                                          if e.kind == "person"}) >= 2:
            score += PEOPLE_LIST_BONUS  # "who came along": the sentence that lists them
    elif q.kind in ("who", "where", "when", "count", "amount"):
        score -= 1.0  # "Wie viele ...?" is not answered by a sentence without a number, however similar
    if len(c.sentence.split()) < 5:
        score -= 1.0  # headings and datelines rarely answer anything
    asked = q.stems + q.carried_stems
    if sum(not matches_any(t, set(asked)) for t in stems) < 2:
        score -= 1.5  # a sentence that only repeats the question tells nothing new
    if q.wants_more and fold(c.sentence) in previous:
        score -= 2.5  # "who else": not the sentence already given
    return score + 0.4 / (1 + c.rank)


def _rarity(query_stems: list[str], sentences: list[set[str]]) -> dict[str, float]:
    """Weight of each question word by how few candidate sentences contain it: 'KI' decides more than
    'Unternehmen'. Between 0.5 (in every sentence) and 1.5 (in one)."""
    n = max(len(sentences), 1)
    weights = {}
    for s in query_stems:
        df = sum(matches_any(s, stems) for stems in sentences)
        weights[s] = 0.5 + (1 - df / n) if df else 1.0
    return weights


def neighbour(c: Candidate, candidates: list[Candidate], step: int) -> Candidate | None:
    want = (c.order[0], c.order[1] + step)
    return next((o for o in candidates if o.passage.doc_id == c.passage.doc_id and o.order == want), None)


def _candidates(passages: list[Passage], vectors: dict[str, SentenceVectors], query: list[float] | None,
                evidence: Evidence) -> list[Candidate]:
    """The passages' sentences, each once (overlapping chunks repeat one: its best-ranked passage keeps it),
    with their similarity to the question where the sentence vectors are known."""
    seen: set[str] = set()
    out = []
    q = np.asarray(query, dtype=np.float32) if query is not None else None
    for rank, p in enumerate(passages):
        ordinal = int(p.chunk_id.rsplit("#", 1)[-1]) if "#" in p.chunk_id else 0
        known = vectors.get(p.chunk_id) if q is not None else None
        spans = known.spans if known is not None else sentence_spans(p.text)
        similarities = known.vectors @ q if known is not None else None
        for i, (a, b) in enumerate(spans):
            sentence = p.text[a:b]
            key = fold(sentence)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(sentence, p, rank, (ordinal, i),
                                 similarity=float(similarities[i]) if similarities is not None else None,
                                 entities=evidence.entities(p, a, b)))
    return out
