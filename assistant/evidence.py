"""Do the retrieved articles hold what the question is about? Decided from evidence, not from similarity:
the closest passage about Japan does not answer a question about Brazil.

For each retrieved article: which of the question's critical terms (places, names, organisations, years)
it lacks, and how many of the terms a follow-up carries from the conversation it has. Every backend asks
this before answering; no model is asked what the articles cannot say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.answer import Draft, refusal
from assistant.places import places_in
from assistant.question import Question, Term
from index.retrieve import Passage
from index.terms import content_stems


@dataclass
class Coverage:
    """What one retrieved article has of the question."""

    doc_id: str
    missing: list[Term]  # critical terms of the question the article never mentions
    carried_found: int  # critical terms carried from the conversation that it does mention


@dataclass
class Evidence:
    coverage: dict[str, Coverage]  # per retrieved article, in retrieval order

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
            return None
        best = min(self.coverage.values(), key=lambda c: len(c.missing))
        return refusal(q.lang, missing=[t.word for t in best.missing], generation=generation)


def gather(q: Question, passages: list[Passage], article_text: Callable[[str], str]) -> Evidence:
    """The coverage of each retrieved article; `article_text(doc_id)` gives the whole article."""
    return Evidence({doc: _coverage(doc, q, passages, article_text) for doc in dict.fromkeys(p.doc_id for p in passages)})


def _coverage(doc_id: str, q: Question, passages: list[Passage], article_text: Callable[[str], str]) -> Coverage:
    title = next(p.title for p in passages if p.doc_id == doc_id)
    date = next((p.date for p in passages if p.doc_id == doc_id and p.date), "") or ""
    text = f"{title}\n{date}\n{article_text(doc_id)}"
    stems = set(content_stems(text))
    places = set(places_in(text))
    missing = [t for t in q.critical if not t.found_in(stems, places, text)]
    carried = sum(t.found_in(stems, places, text) for t in q.carried_critical)
    return Coverage(doc_id, missing, carried)
