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
from assistant.citations import sentences_with_markers
from assistant.evidence import Evidence
from assistant.question import Question
from assistant.register_question import TripQuestion
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
    trips: TripQuestion | None = None  # a list, count or "who led which" question for the trip register
    indexed: bool = True  # the index holds articles
    # For "who led / who came along" about a trip the register holds: the words its leaders (or participants)
    # were read from, by article; the sentences holding them answer the question.
    register_quotes: dict[str, list[str]] = field(default_factory=dict)
    previous_answer: str = field(init=False)  # the conversation's last answer

    def __post_init__(self):
        self.previous_answer = next((t.content for t in reversed(self.history) if t.role == "assistant"), "")


class Strategy(Protocol):
    """One way of answering a prepared question (assistant/router.py picks it)."""

    def answer(self, p: Prepared) -> Draft:
        """The answer to a prepared question."""

    def stream(self, p: Prepared) -> Iterator[str | Draft]:
        """The same answer as it is produced: checked sentences with their markers (each carrying the
        space before it, so they concatenate), then the Draft, which is authoritative."""


class Answerer(Strategy, Protocol):
    """The strategy of a backend (extractive, or a model's), for questions whose articles hold what they name."""

    def condense(self, question: str, history: list[Turn], lang: str) -> str:
        """The follow-up as a standalone question written from the conversation, or "" to keep the
        rule-based one."""


class Settled:
    """A strategy whose whole answer is known at once: it streams the answer's sentences after writing them."""

    def answer(self, p: Prepared) -> Draft:
        raise NotImplementedError

    def stream(self, p: Prepared) -> Iterator[str | Draft]:
        draft = self.answer(p)
        yield from sentences_with_markers(draft.text)
        yield draft
