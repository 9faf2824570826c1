"""An answer and its citations, as data. Only the UI and the CLI turn them into text.

`Draft` is what an answerer hands back (text, citations, what happened on the way); the Assistant wraps it
with the question, the retrieved passages and the timings into an `Answer`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from index.retrieve import Passage

REFUSAL = {
    "de": "Dazu finde ich nichts in den Artikeln.",
    "en": "I can't find anything about that in the articles.",
}
# A citation marker in answer text: [1], and as models write them, [1, 2].
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def marker_numbers(text: str) -> list[int]:
    """Every number cited in text, in order, repeats included."""
    return [int(n) for m in MARKER.finditer(text) for n in m.group(1).split(",")]


@dataclass
class Citation:
    n: int  # the marker [n] used in the answer text
    passage: Passage
    quotes: list[str] = field(default_factory=list)  # the sentences of the passage the answer relies on

    def to_json(self) -> dict:
        return {"n": self.n, **_passage_json(self.passage), "quotes": self.quotes}


@dataclass
class Draft:
    """An answerer's answer: the text with its [n] markers, the citations they point to, and what happened.

    generation: extractive | not_in_corpus (decided before any model) | empty_index (no article indexed yet) | trip_register (a list or count question
    answered from the trip register) | checked | repaired | model_refused | no_valid_citation | unanswered |
    fallback_model_refused | fallback_no_valid_citation | fallback_unanswered | fallback_backend_failed."""

    text: str
    refused: bool
    citations: list[Citation]
    notices: list[str] = field(default_factory=list)  # e.g. a fallback to the extractive answer
    generation: str = "extractive"


# Why the articles cannot answer, when it is the slot asked for (assistant.question.asked_slot) that no matching
# article states; {who}: whom the question asks about, where it names someone.
LACKING = {"amount": {"de": "Die passenden Artikel nennen keine Kosten oder Beträge.",
                      "en": "The matching articles state no costs or amounts."},
           "number": {"de": "Die passenden Artikel nennen keine Anzahl dafür.",
                      "en": "The matching articles give no number for it."},
           "duration": {"de": "Die passenden Artikel sagen nicht, wie lange es dauerte.",
                        "en": "The matching articles do not say how long it took."},
           "date": {"de": "Die passenden Artikel nennen kein Datum dafür.",
                    "en": "The matching articles give no date for it."},
           "companion": {"de": "Die passenden Artikel nennen niemanden, der {who} begleitete.",
                         "en": "The matching articles name no one who came along with {who}."},
           "person": {"de": "Die passenden Artikel nennen dazu keinen Namen.",
                      "en": "The matching articles name no one for it."},
           "name": {"de": "Die passenden Artikel nennen dafür keinen Namen.",
                    "en": "The matching articles give no name for it."},
           "place": {"de": "Die passenden Artikel nennen dazu keinen Ort.",
                     "en": "The matching articles name no place for it."},
           "organisation": {"de": "Die passenden Artikel nennen dazu keine Firma oder Organisation.",
                            "en": "The matching articles name no company or organisation for it."},
           "outcome": {"de": "Die passenden Artikel berichten von keiner solchen Vereinbarung und keinem solchen Ergebnis.",
                       "en": "The matching articles report no such agreement or result."}}
HINT = {"de": "Am nächsten kommt (beantwortet die Frage nicht):", "en": "Closest the articles come (it does not answer the question):"}


def refusal(lang: str, missing: list[str] | None = None, generation: str = "extractive", lacking: str | None = None,
            who: str | None = None, apart: list[str] | None = None) -> Draft:
    """The refusal, naming what no matching article mentions, what no article mentions together (`apart`:
    each is in some article, none has them all), or the slot none states, when that is why."""
    text = REFUSAL[lang]
    if missing:
        names = ", ".join(missing)
        text += (f" (Kein passender Artikel erwähnt {names}.)" if lang == "de"
                 else f" (No matching article mentions {names}.)")
    elif apart:
        names = (", ".join(apart[:-1]) + (" und " if lang == "de" else " and ") + apart[-1]) if len(apart) > 1 else apart[0]
        text += (f" (Kein passender Artikel erwähnt {names} zusammen.)" if lang == "de"
                 else f" (No matching article mentions {names} together.)")
    elif lacking:
        text += " (" + LACKING[lacking][lang].format(who=who or ("die Reisenden" if lang == "de" else "the travellers")) + ")"
    return Draft(text, True, [], generation=generation)


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    backend: str
    citations: list[Citation]
    contexts: list[Passage]
    timings_ms: dict[str, float]
    standalone_question: str = ""  # what was retrieved for a follow-up
    lang: str = "de"
    notices: list[str] = field(default_factory=list)
    generation: str = "extractive"  # see Draft

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "backend": self.backend,
            "citations": [c.to_json() for c in self.citations],
            "contexts": [{"n": i, **_passage_json(p)} for i, p in enumerate(self.contexts, 1)],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "standalone_question": self.standalone_question,
            "lang": self.lang,
            "notices": self.notices,
            "generation": self.generation,
        }


def _passage_json(p: Passage) -> dict:
    d = asdict(p)
    return {k: d[k] for k in ("doc_id", "title", "date", "source", "text", "score", "chunk_id")}
