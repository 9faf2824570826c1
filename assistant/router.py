"""Which strategy answers a prepared question, decided from its analysis and its evidence, the same for the
chat, the API, the CLI and the evals:

- an index without articles: what to do about it (`EmptyIndex`);
- a list, count or "who led which" question (`Question.register`): the trip register (assistant/trip_answers.py);
- articles that do not hold what the question names, or no sentence of them stating what it asks: the refusal,
  with the closest sentence offered as a hint (`Refusal`);
- otherwise the backend's answerer: extractive quotes (assistant/extractive.py) or a model's answer
  (assistant/generated.py).

Every strategy reads the one ranking (assistant/ranking.py) and the one evidence check (assistant/evidence.py).
"""

from __future__ import annotations

from assistant.answer import HINT, Citation, Draft
from assistant.answerer import Answerer, Prepared, Settled, Strategy
from assistant.ranking import rank


EMPTY_INDEX = {"de": "Es sind noch keine Artikel indexiert – fügen Sie welche hinzu: im Tab „Dokumente“ hochladen "
                      "oder `delegations ingest DATEI_ODER_ORDNER`.",
               "en": "No articles are indexed yet – add some: upload them in the “Dokumente” tab or run "
                     "`delegations ingest FILE_OR_FOLDER`."}


class EmptyIndex(Settled):
    """The answer of an index without articles: what to do, not "nothing in the articles"."""

    def answer(self, p: Prepared) -> Draft:
        return Draft(EMPTY_INDEX[p.q.lang], True, [], generation="empty_index")


class Refusal(Settled):
    """The articles do not hold what the question names, or none of their sentences states what it asks for
    (assistant/evidence.py): the refusal says which; where they hold the subject but not the asked detail,
    the sentence that comes closest is cited and marked as not answering."""

    def answer(self, p: Prepared) -> Draft:
        draft = p.evidence.refusal(p.q, "not_in_corpus")
        if draft is not None and p.evidence.lacking:
            best = next(iter(rank(p)), None)
            if best is not None:
                draft.citations = [Citation(1, best.passage, [best.sentence])]
                draft.text += f" {HINT[p.q.lang]} „{best.sentence}“ [1]"
        return draft


def route(p: Prepared, register: Strategy, answerer: Answerer) -> Strategy:
    """The strategy for a prepared question: an empty index's, the register's, the refusal, or the answerer of
    the question's backend."""
    if not p.indexed:
        return EmptyIndex()
    if p.trips is not None:
        return register
    if p.evidence.refusal(p.q, "not_in_corpus") is not None:
        return Refusal()
    return answerer
