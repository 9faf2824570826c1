"""The embedded default answerer: no language model, it quotes the sentences of the retrieved passages that
answer the question, whole and in reading order, each with its citation marker, and nothing else.

It answers only from articles that mention what the question names (the Assistant has refused when none
does), and refuses when no sentence matches what is asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from assistant.answer import Citation, Draft, refusal
from assistant.answerer import Prepared, Turn
from assistant.citations import sentences_with_markers
from assistant.evidence import Evidence, of_head, of_relation, stated_values, states
from assistant.question import GENERIC, Question, answer_type_present, concepts_of
from ingest.annotate import Entity
from index.retrieve import Passage
from index.terms import content_stems, matches_any
from index.vectors import SentenceVectors
from ingest.clean import fold
from ingest.sentences import refers_back, sentence_spans, split_sentences

MIN_SCORE = 1.5  # below this no sentence matches the question well enough to quote
KEEP_MARGIN = 6.0  # further sentences are quoted when they score within this of the best one
MAX_SENTENCES = {"who": 3, "where": 3, "what": 3, "when": 3, "count": 3, "amount": 3}
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


class ExtractiveAnswerer:
    def condense(self, question: str, history: list[Turn], lang: str) -> str:
        return ""  # the rule-based standalone question is what it searches with

    def stream(self, p: Prepared) -> Iterator[str | Draft]:
        draft = self.answer(p)
        yield from sentences_with_markers(draft.text)
        yield draft

    def answer(self, p: Prepared) -> Draft:
        q, passages = p.q, p.retrieval.passages
        usable = p.evidence.usable
        if not passages or not usable:
            return p.evidence.refusal(q) or refusal(q.lang)
        candidates = self.rank(p)
        if not candidates or candidates[0].score < MIN_SCORE:
            return refusal(q.lang)
        top = candidates[0]
        good = top.score - KEEP_MARGIN
        chosen = [c for c in candidates[:MAX_SENTENCES[q.kind]] if c is top or c.score >= good]
        quoted = {c.passage.doc_id for c in chosen}
        for doc in (d for d in usable if d not in quoted):  # another article answers too: quote it as well
            best = next((c for c in candidates if c.passage.doc_id == doc), None)
            if best and best.score >= good and best.rank < len(passages):
                chosen.append(best)
        for c in list(chosen):
            before, after = _neighbour(c, candidates, -1), _neighbour(c, candidates, +1)
            if before and before not in chosen and refers_back(c.sentence):
                chosen.append(before)  # "Das Unternehmen ist ...": quote the sentence that names it
            if after and after not in chosen and refers_back(after.sentence):
                chosen.append(after)  # "... Dies wird als antigene Variation bezeichnet.": what it goes on to say
        return _compose(*_asked_first(p, chosen), q.lang)

    def rank(self, p: Prepared) -> list[Candidate]:
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
            c.score = self._score(c, stems_of[id(c)], q, previous, weights)
            if c.similarity is not None and most_similar is not None:
                c.score += SIMILARITY_WEIGHT * (c.similarity - most_similar) + MOST_SIMILAR_BONUS * (c.similarity == most_similar)
            c.score -= SHARE_WEIGHT * (best_share - coverage[c.passage.doc_id].share)
            if coverage[c.passage.doc_id].carried_found < best_carried:
                c.score -= 1.0  # a follow-up stays with the article the conversation is about
            if any(quote in c.sentence for quote in p.register_quotes.get(c.passage.doc_id, ())):
                c.score += REGISTER_BONUS  # the register read who led (or came along) from this sentence
        candidates.sort(key=lambda c: (-c.score, c.rank, c.order))
        return candidates

    def _score(self, c: Candidate, stems: set[str], q: Question, previous: set[str], weights: dict[str, float]) -> float:
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


def _neighbour(c: Candidate, candidates: list[Candidate], step: int) -> Candidate | None:
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


def _asked_first(p: Prepared, chosen: list[Candidate]) -> tuple[list[Candidate], Candidate | None, list[str]]:
    """The sentences to quote with the one that states what was asked first (the best-scored of those that
    state the asked slot, assistant.evidence.states; else the best-scored one); sentences that state nothing of it are left out, but a
    sentence that leans on a kept one ("Er …") stays with it. Also the values the lead states (the names,
    places, dates asked for), for an English lead sentence."""
    q = p.q
    best = max(chosen, key=lambda c: c.score, default=None)  # without a sentence of the asked slot: the best one leads
    if q.slot is None:  # a noun asked for outside the slots ("Welche Themen …"): only the order changes
        named = [c for c in chosen if q.head and of_head(q, c.sentence)]
        lead = max(named, key=lambda c: c.score) if named else best
        return chosen, lead, []

    def stating(c: Candidate) -> bool:
        return states(q, c.sentence, c.entities, tuple(p.register_quotes.get(c.passage.doc_id, ())))

    kept = [c for c in chosen if stating(c)]
    if best is not None and best not in kept:
        # the best sentence states the answer in words the check does not read ("vor 66 Millionen Jahren",
        # "selten"): it stays, and leads unless a sentence of its own article states the slot
        kept = [c for c in kept if c.passage.doc_id == best.passage.doc_id]
        if not kept:
            return chosen, best, []
    # the lead: a sentence of the relation asked about ("traf"), then of the noun asked for ("Senator"), then the best
    lead = max(kept, key=lambda c: (bool(q.predicate_concepts) and of_relation(q, c.sentence), of_head(q, c.sentence), c.score))
    if best is not None and best not in kept:
        kept.append(best)
    near = {(c.passage.doc_id, c.order[0], c.order[1] + step) for c in kept for step in (-1, 1)}
    kept += [c for c in chosen if c not in kept and (c.passage.doc_id, *c.order) in near and
             (refers_back(c.sentence) or any(refers_back(k.sentence) for k in kept))]
    return [c for c in chosen if c in kept], lead, stated_values(q, lead.sentence, lead.entities)


def _compose(chosen: list[Candidate], lead: Candidate | None, values: list[str], lang: str) -> Draft:
    """Quote the chosen sentences, the lead first, the others in reading order (article by article), each
    followed by its marker. An English question gets an English lead naming what the quotes state."""
    doc_order = list(dict.fromkeys(c.passage.doc_id for c in chosen))
    # a lead that leans on the sentence before it ("Mit 39 Jahren ist er …") comes after that sentence
    leans_on = next((c for c in chosen if lead is not None and refers_back(lead.sentence) and
                     c.passage.doc_id == lead.passage.doc_id and c.order == (lead.order[0], lead.order[1] - 1)), None)
    first = {id(c): i for i, c in enumerate((leans_on, lead)) if c is not None}
    chosen = sorted(chosen, key=lambda c: (first.get(id(c), 2), doc_order.index(c.passage.doc_id), c.order))
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
        text = (f"{'; '.join(values)} — as the articles say (quoted in German): {text}" if values
                else f"The articles say (quoted in German): {text}")
    return Draft(text, False, list(citations.values()))
