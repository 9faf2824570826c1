"""What every answerer answers from, and the interface each one implements.

The Assistant turns a question into a `Prepared` (the question analysed once, the conversation, the
passages retrieved for it, the evidence of what those articles mention) and hands it to the answerer of
the chosen backend: the extractive one (quotes sentences) or the LLM one (a model writes, citations are
checked). Tests hand the Assistant answerers of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from assistant.answer import Draft
from assistant.evidence import Evidence
from assistant.question import Question
from index.retrieve import Retrieval


@dataclass
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass
class Prepared:
    """A question checked, analysed, condensed and retrieved for."""

    question: str
    backend: str
    history: list[Turn]
    q: Question
    standalone: str  # what was searched: the question, or a follow-up made standalone
    retrieval: Retrieval
    evidence: Evidence
    failure: Exception | None = None  # the model already failed while condensing: do not ask it again
    trips: object | None = None  # a list, count or "who led which" question for the trip register (TripQuestion)
    # For "who led / who came along" about a trip the register holds: the words its leaders (or participants)
    # were read from, by article; the sentences holding them answer the question.
    register_quotes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def previous_answer(self) -> str:
        return next((t.content for t in reversed(self.history) if t.role == "assistant"), "")


class Answerer(Protocol):
    def condense(self, question: str, history: list[Turn], lang: str) -> str:
        """The follow-up as a standalone question written from the conversation, or "" to keep the
        rule-based one."""

    def answer(self, p: Prepared) -> Draft:
        """The answer to a prepared question whose articles hold what it names."""

    def stream(self, p: Prepared) -> Iterator[str | Draft]:
        """The same answer as it is produced: checked sentences with their markers (each carrying the
        space before it, so they concatenate), then the Draft, which is authoritative."""
