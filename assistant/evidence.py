"""Do the retrieved articles hold what the question is about? Decided from evidence, not from similarity:
the closest passage about Japan does not answer a question about Brazil.

For each retrieved article: which of the question's critical terms (places, names, organisations, years)
it lacks, and how many of the terms a follow-up carries from the conversation it has. Every backend asks
this before answering; no model is asked what the articles cannot say.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.answer import Draft, refusal
from index.places import places_in
from assistant.question import DATE_WORDS, MONEY, Question, Term, concepts_of, counts_asked
from index.retrieve import Passage
from index.terms import content_stems, matches_any
from ingest.sentences import split_sentences


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

    @property
    def usable(self) -> list[str]:
        """The articles that mention everything the question names, in retrieval order."""
        return [doc for doc, c in self.coverage.items() if not c.missing]

    def refusal(self, q: Question, generation: str = "extractive") -> Draft | None:
        """The refusal naming what is missing when no retrieved article covers the question's critical
        terms, else None."""
        if not self.coverage:
            return refusal(q.lang, generation=generation)
        if self.usable:
            return refusal(q.lang, generation=generation, lacking=self.lacking) if self.lacking else None
        best = min(self.coverage.values(), key=lambda c: len(c.missing))
        return refusal(q.lang, missing=[t.word for t in best.missing], generation=generation)


def gather(q: Question, passages: list[Passage], article_text: Callable[[str], str]) -> Evidence:
    """The coverage of each retrieved article (`article_text(doc_id)` gives the whole article), and whether the
    kind of fact the question asks for is stated in their passages at all."""
    evidence = Evidence({doc: _coverage(doc, q, passages, article_text) for doc in dict.fromkeys(p.doc_id for p in passages)})
    if evidence.usable:  # the kind of fact is looked for in the articles about what was asked, not in any retrieved one
        best = max(evidence.coverage[d].share for d in evidence.usable)
        about = {d for d in evidence.usable if evidence.coverage[d].share >= best - ABOUT_MARGIN}
        evidence.lacking = _lacking(q, [p for p in passages if p.doc_id in about])
    return evidence


def _lacking(q: Question, passages: list[Passage]) -> str | None:
    """'amount' when the question asks what something cost and no passage states an amount of money; 'count'
    when it asks how many of something and no passage gives a number of it (question.counts_asked); 'date'
    when it asks when something happened that it names by a relation (signed, opened, visited, led ...) and
    no dated sentence speaks of that relation or of two of the question's other words. Then the articles do
    not say, however close their text is."""
    if not passages:
        return None
    if q.kind == "amount" and not any(MONEY.search(p.text) for p in passages):
        return "amount"
    if q.kind == "count" and q.head and _HOW_MANY.search(q.text) and not any(counts_asked(s, q) for p in passages for s in split_sentences(p.text)):
        return "count"
    if q.kind == "when" and q.predicate_concepts:
        named = {t.stem for t in q.critical}
        asked = set(q.stems) - named
        dated = (s for p in passages for s in split_sentences(p.text) if DATE_WORDS.search(s))
        if not any(concepts_of(s) & q.predicate_concepts or
                   sum(matches_any(a, set(content_stems(s))) for a in asked) >= 2 for s in dated):
            return "date"
    return None


def _coverage(doc_id: str, q: Question, passages: list[Passage], article_text: Callable[[str], str]) -> Coverage:
    title = next(p.title for p in passages if p.doc_id == doc_id)
    date = next((p.date for p in passages if p.doc_id == doc_id and p.date), "") or ""
    text = f"{title}\n{date}\n{article_text(doc_id)}"
    stems = set(content_stems(text))
    places = set(places_in(text))
    missing = [t for t in q.critical if not t.found_in(stems, places, text)]
    carried = sum(t.found_in(stems, places, text) for t in q.carried_critical)
    asked = list(dict.fromkeys(q.subject_stems))
    share = sum(matches_any(s, stems) for s in asked) / len(asked) if asked else 1.0
    return Coverage(doc_id, missing, carried, share)
