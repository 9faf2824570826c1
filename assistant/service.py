"""Question (and conversation) to a cited answer: condense the follow-up, retrieve, answer, check citations.

The one entry point for the CLI, the API and the chat UI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.extractive import Draft, ExtractiveAnswerer
from assistant.model import Answer
from assistant.question import analyse, with_context
from index.retrieve import Filters, Retriever
from index.workspace import Workspace

BACKENDS = ("extractive", "ollama")
MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """The question cannot be asked as given; the message says why."""


@dataclass
class Turn:
    role: str  # "user" | "assistant"
    content: str


class Assistant:
    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self.retriever = Retriever(workspace)
        self.extractive = ExtractiveAnswerer(self._article_text)
        self._generators: dict[str, object] = {}

    def _article_text(self, doc_id: str) -> str:
        return "\n".join(c.text for c in self.ws.store.chunks_of(doc_id))

    def _generator(self, backend: str):
        if backend not in self._generators:
            from assistant.generative import make_generator

            self._generators[backend] = make_generator(backend, self.ws.settings)
        return self._generators[backend]

    def answer(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None,
               backend: str | None = None, top_k: int | None = None) -> Answer:
        question = (question or "").strip()
        if not question:
            raise QuestionError("The question is empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionError(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
        backend = backend or self.ws.settings.llm.backend
        if backend not in BACKENDS:
            raise QuestionError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        history = history or []
        earlier = [t.content for t in history if t.role == "user"]
        previous_answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")

        q = with_context(analyse(question), earlier)
        standalone = condense(question, earlier)
        retrieval = self.retriever.retrieve(standalone, top_k=top_k, filters=filters)
        start = time.perf_counter()
        notices: list[str] = []
        if backend == "extractive":
            draft = self.extractive.answer(q, retrieval.passages, previous_answer)
        else:
            draft, notices = self._generate(backend, q, standalone, retrieval.passages, history)
        generate_ms = (time.perf_counter() - start) * 1000
        return Answer(
            question=question,
            answer=draft.text,
            refused=draft.refused,
            backend=backend,
            citations=draft.citations,
            contexts=retrieval.passages,
            timings_ms={"retrieve": retrieval.ms, "generate": generate_ms},
            standalone_question=standalone,
            lang=q.lang,
            notices=notices,
        )

    def _generate(self, backend, q, standalone, passages, history) -> tuple[Draft, list[str]]:
        from assistant.generative import GenerationError, enforce_citations

        generator = self._generator(backend)
        try:
            raw = generator.generate(standalone, passages, q.lang)
        except GenerationError as exc:
            if not self.ws.settings.llm.fallback_to_extractive:
                raise
            notice = f"{exc} The answer below is extractive (quoted sentences) instead."
            return self.extractive.answer(q, passages), [notice]
        draft, problems = enforce_citations(raw, passages, q.lang)
        if problems and not draft.citations and not draft.refused and self.ws.settings.llm.fallback_to_extractive:
            return self.extractive.answer(q, passages), problems + ["Fell back to the extractive answer."]
        return draft, problems


def condense(question: str, earlier_questions: list[str]) -> str:
    """A follow-up made standalone for retrieval: the earlier question's subject is added to it.
    Without a language model this keeps the earlier names, places and content words, which is what
    retrieval needs ("Und wer war noch dabei?" after the Japan trip retrieves the Japan article)."""
    if not earlier_questions:
        return question
    from index.terms import STOPWORDS, words

    mine = {w.lower() for w in words(question)}
    carried = [w for w in words(earlier_questions[-1]) if w.lower() not in STOPWORDS and w.lower() not in mine]
    if not carried:
        return question
    return f"{question} ({' '.join(dict.fromkeys(carried))})"
