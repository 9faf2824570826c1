"""Question (and conversation) to a cited answer: condense the follow-up, retrieve, answer, check citations.

The one entry point for the CLI, the API and the chat UI.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.extractive import Draft, ExtractiveAnswerer
from assistant.model import Answer
from assistant.question import Question, analyse, with_context
from index.retrieve import Filters, Retrieval, Retriever
from index.workspace import Workspace
from settings import BACKENDS

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """The question cannot be asked as given; the message says why."""


@dataclass
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass
class Prepared:
    """A question checked, condensed and retrieved for: what every backend answers from."""

    question: str
    backend: str
    history: list[Turn]
    q: Question
    standalone: str
    retrieval: Retrieval
    failure: Exception | None = None  # the model already failed while condensing: do not ask it again

    @property
    def previous_answer(self) -> str:
        return next((t.content for t in reversed(self.history) if t.role == "assistant"), "")

    def result(self, draft: Draft, notices: list[str], generate_ms: float, generation: str) -> Answer:
        return Answer(question=self.question, answer=draft.text, refused=draft.refused, backend=self.backend,
                      citations=draft.citations, contexts=self.retrieval.passages,
                      timings_ms={"retrieve": self.retrieval.ms, "generate": generate_ms},
                      standalone_question=self.standalone, lang=self.q.lang, notices=notices, generation=generation)


class Assistant:
    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self.retriever = Retriever(workspace)
        self.extractive = ExtractiveAnswerer(self._article_text)
        self._generators: dict[str, object] = {}
        # Held by the API and the chat around each question: the index, the embedder and llama.cpp are
        # shared, and the store may be reopened between questions when an ingest changed it.
        self.lock = threading.Lock()

    def _article_text(self, doc_id: str) -> str:
        return "\n".join(c.text for c in self.ws.store.chunks_of(doc_id))

    def _generator(self, backend: str):
        if backend not in self._generators:
            from assistant.generative import make_generator

            self._generators[backend] = make_generator(backend, self.ws.settings)
        return self._generators[backend]

    def _prepare(self, question: str, history: list[Turn] | None, filters: Filters | None, backend: str | None,
                 top_k: int | None):
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
        q = with_context(analyse(question), earlier)
        standalone, failure = condense(question, earlier), None
        if earlier and backend != "extractive":
            standalone, failure = self._condensed_by_model(backend, question, history, q.lang, standalone)
        retrieval = self.retriever.retrieve(standalone, top_k=top_k, filters=filters)
        return Prepared(question, backend, history, q, standalone, retrieval, failure)

    def _condensed_by_model(self, backend: str, question: str, history: list[Turn], lang: str, fallback: str):
        """A model can name what only an earlier answer said ("Und wer reiste danach nach Brasilien?");
        when it fails or says nothing usable, the rule-based condensed question is kept."""
        from assistant.generative import GenerationError

        try:
            said = self._generator(backend).condense(question, [(t.role, t.content) for t in history], lang)
        except GenerationError as exc:
            return fallback, exc
        return said or fallback, None

    def answer(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None,
               backend: str | None = None, top_k: int | None = None) -> Answer:
        return self._answer(self._prepare(question, history, filters, backend, top_k))

    def _answer(self, p: Prepared) -> Answer:
        start = time.perf_counter()
        if p.backend == "extractive":  # it checks the evidence itself
            draft, notices, generation = self.extractive.answer(p.q, p.retrieval.passages, p.previous_answer), [], "extractive"
        elif absent := self.extractive.not_in_corpus(p.q, p.retrieval.passages):  # no model is asked what the articles cannot say
            draft, notices, generation = absent, [], "not_in_corpus"
        else:
            draft, notices, generation = self._generate(p)
        return p.result(draft, notices, (time.perf_counter() - start) * 1000, generation)

    def stream(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None,
               backend: str | None = None, top_k: int | None = None) -> Iterator[dict]:
        """The answer as it is produced: {"type": "delta", "text"} events, each a checked sentence with its
        markers, then {"type": "answer", "answer": <the JSON of `answer`>}, which is authoritative (a
        generated answer that keeps no valid citation is replaced there by the refusal or the fallback)."""
        p = self._prepare(question, history, filters, backend, top_k)
        start = time.perf_counter()
        absent = None if p.backend == "extractive" else self.extractive.not_in_corpus(p.q, p.retrieval.passages)
        if p.backend == "extractive" or absent or p.failure:
            answer = self._answer(p)
            for sentence in _sentences_with_markers(answer.answer):
                yield {"type": "delta", "text": sentence}
            yield {"type": "answer", "answer": answer.to_json()}
            return
        from assistant.generative import GenerationError, enforce_citations

        raw, sent = "", 0
        try:
            for piece in self._generator(p.backend).stream(p.standalone, p.retrieval.passages, p.q.lang):
                raw += piece
                complete = _complete_part(raw)
                if complete:
                    draft, _ = enforce_citations(complete, p.retrieval.passages, p.q.lang)
                    kept = [] if draft.refused else _sentences_with_markers(draft.text)
                    for sentence in kept[sent:]:  # each delta carries the space before it, so deltas concatenate
                        yield {"type": "delta", "text": (" " if sent else "") + sentence.strip()}
                        sent += 1
        except GenerationError as exc:
            result = self._fallback(p, exc)
        else:
            result = self._checked(p, raw)
        yield {"type": "answer", "answer": p.result(*result[:2], (time.perf_counter() - start) * 1000, result[2]).to_json()}

    def _generate(self, p: Prepared) -> tuple[Draft, list[str], str]:
        from assistant.generative import GenerationError

        if p.failure:
            return self._fallback(p, p.failure)
        try:
            raw = self._generator(p.backend).generate(p.standalone, p.retrieval.passages, p.q.lang)
        except GenerationError as exc:
            return self._fallback(p, exc)
        return self._checked(p, raw)

    def _fallback(self, p: Prepared, exc: Exception) -> tuple[Draft, list[str], str]:
        """The model failed: the extractive answer with a notice, or the error when fallback is off."""
        if not self.ws.settings.llm.fallback_to_extractive:
            raise exc
        notice = f"{exc} The answer below is extractive (quoted sentences) instead."
        return self.extractive.answer(p.q, p.retrieval.passages), [notice], "fallback_backend_failed"

    def _checked(self, p: Prepared, raw: str) -> tuple[Draft, list[str], str]:
        """The generated text with its citations enforced, and what the check did: checked (every citation
        held), repaired (some were removed), model_refused / no_valid_citation (the refusal is shown), or, when
        fallback is on, fallback_model_refused / fallback_no_valid_citation (the extractive answer instead:
        it quotes what the passages say, or refuses by its own evidence check)."""
        from assistant.generative import enforce_citations

        draft, problems = enforce_citations(raw, p.retrieval.passages, p.q.lang)
        if draft.citations:
            return draft, problems, "repaired" if problems else "checked"
        outcome = "no_valid_citation" if problems else "model_refused"
        if self.ws.settings.llm.fallback_to_extractive:
            notice = "The model found no answer in the passages." if outcome == "model_refused" else "The generated answer kept no valid citation."
            return (self.extractive.answer(p.q, p.retrieval.passages, p.previous_answer),
                    problems + [f"{notice} The answer below is extractive (quoted sentences) instead."], f"fallback_{outcome}")
        return draft, problems, outcome


def condense(question: str, earlier_questions: list[str]) -> str:
    """A follow-up made standalone for retrieval: the earlier question's subject is added to it.
    Without a language model this keeps the earlier names, places and content words, which is what
    retrieval needs ("Und wer war noch dabei?" after the Japan trip retrieves the Japan article)."""
    if not earlier_questions:
        return question
    from index.terms import STOPWORDS, words

    earlier = earlier_questions[-1].strip()
    mine = {w.lower() for w in words(question)}
    if all(w.lower() in STOPWORDS or w.lower() in mine for w in words(earlier)):
        return question
    # The earlier question whole, not its words picked out: the embedder reads sentences, BM25 drops stop words.
    return f"{question} ({earlier})"


_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d+\])*\s+(?=[^\s\[])")


def _sentences_with_markers(text: str) -> list[str]:
    """An answer cut after each sentence and the markers that follow it, keeping the spaces between them."""
    out, last = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append(text[last:m.end()])
        last = m.end()
    if text[last:]:
        out.append(text[last:])
    return out


def _complete_part(raw: str) -> str:
    """The generated text up to its last finished sentence and its markers (more text follows them)."""
    ends = list(_SENTENCE_END.finditer(raw))
    return raw[: ends[-1].end()].strip() if ends else ""
