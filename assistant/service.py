"""Question (and conversation) to a cited answer, the one entry point for the CLI, the API, the chat and the
evals: the question checked and analysed once (assistant/question.py), a follow-up made standalone, the
passages retrieved and their evidence gathered (assistant/evidence.py), then the strategy the router picks
(assistant/router.py) answers: the trip register, a refusal, or the backend's answerer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from functools import cached_property, partial

from assistant.answer import Answer, Draft
from assistant.answerer import Answerer, Prepared, Strategy, Turn
from assistant.evidence import gather
from assistant.question import FOLLOW_UP_WINDOW, analyse, date_named, keeps_subject
from assistant.register_question import within
from assistant.router import route
from assistant.trip_answers import RegisterAnswerer, leader_quotes
from index.manifest import DocRecord
from index.reading import ArticleReading, read_article
from index.retrieve import Filters, Passage, Retrieval, Retriever
from index.workspace import Workspace
from settings import BACKENDS
from trips.model import Trip
from trips.register import TripFilter, TripRegister

MAX_QUESTION_CHARS = 2000

__all__ = ["Assistant", "QuestionError", "Turn", "MAX_QUESTION_CHARS"]


class QuestionError(ValueError):
    """The question cannot be asked as given; the message says why."""


class Assistant:
    def __init__(self, workspace: Workspace, answerers: Mapping[str, Answerer] | None = None):
        """`answerers` by backend name; the others are made from the settings when first asked for."""
        self.ws = workspace
        self.retriever = Retriever(workspace)
        self.answerers: dict[str, Answerer] = dict(answerers or {})
        # Questions are answered at once, each in its own thread: the store is read under `ws.reading()` (it is
        # reopened between questions when another process's ingest changed it), and a generative backend
        # bounds its own generations (llm.concurrency), so an extractive or register answer never waits for one.
        self._making = threading.Lock()

    def answerer(self, backend: str) -> Answerer:
        with self._making:  # one answerer (and one model, with its generation slots) per backend
            if backend not in self.answerers:
                self.answerers[backend] = make_answerer(backend, self.ws.settings)
            return self.answerers[backend]

    def warm_up(self, backend: str | None = None) -> str | None:
        """Ready the backend's model before the first question (llama.cpp: its worker loads the file, a few
        seconds); the reason in one line when it cannot be readied. Answerers without a model have nothing to do."""
        answerer = self.answerer(backend or self.ws.settings.llm.backend)
        return answerer.warm_up() if hasattr(answerer, "warm_up") else None

    def ready(self) -> float:
        """Load what reading a question needs (the encoder, the entity tagger, the gazetteer, the lexicons) before
        the first question arrives, so no user waits for it; returns the seconds it took."""
        start = time.perf_counter()
        q = analyse("Wer reiste im Mai 2024 mit Eva Kron nach Berlin?")  # a first name: the name lists load too
        ArticleReading(q.text, q.read.annotation).place_ids()
        from index.places import place_matches  # the register's place matching loads its names

        place_matches("Berlin", "DE", None)
        return time.perf_counter() - start

    # -- what delivery (CLI, API, chat) shows beside answers
    def status(self, check_backend: bool = True) -> dict:
        """What the index holds and which backend answers; with check_backend, whether it can be reached
        (a short HTTP probe for servers)."""
        from assistant.backends import backend_status

        backend = self.ws.settings.llm.backend
        answerer = self.answerers.get(backend)
        live = answerer.health() if answerer is not None and hasattr(answerer, "health") else None
        if not check_backend:
            return {**self.ws.status(), "backend": backend, **(live or {})}
        return {**self.ws.status(), **backend_status(self.ws.settings), **(live or {})}

    def articles(self) -> list[DocRecord]:
        return self.ws.manifest.all_docs()

    def trips(self, where: TripFilter | None = None) -> list[Trip]:
        """The trip register's records (trips/register.py), filtered."""
        return self.register.trips(where)

    def passage(self, chunk_id: str) -> Passage | None:
        """The passage an evidence stands in."""
        return self.retriever.passage(chunk_id)

    # -- answering
    def answer(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None,
               backend: str | None = None, top_k: int | None = None) -> Answer:
        p = self.prepare(question, history, filters, backend, top_k)
        start = time.perf_counter()
        draft = self.strategy(p).answer(p)
        return _result(p, draft, time.perf_counter() - start)

    def stream(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None,
               backend: str | None = None, top_k: int | None = None) -> Iterator[dict]:
        """The answer as it is produced: {"type": "delta", "text"} events, each a checked sentence with its
        markers, then {"type": "answer", "answer": <the JSON of `answer`>}, which is authoritative. Holds
        nothing between events but a generation slot while the model writes: closing the generator (a
        client that left) gives that back at once."""
        p = self.prepare(question, history, filters, backend, top_k)
        start = time.perf_counter()
        for item in self.strategy(p).stream(p):
            if isinstance(item, Draft):
                yield {"type": "answer", "answer": _result(p, item, time.perf_counter() - start).to_json()}
            else:
                yield {"type": "delta", "text": item}

    def strategy(self, p: Prepared) -> Strategy:
        """The strategy that answers the prepared question (assistant/router.py)."""
        return route(p, self.from_register, self.answerer(p.backend))

    def prepare(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None,
                backend: str | None = None, top_k: int | None = None) -> Prepared:
        """The question checked and analysed once, a follow-up made standalone, and what answering it reads:
        for a register question the register (nothing is retrieved), else the passages retrieved for it and
        the evidence of what their articles state. Filters from the chat or the API restrict both the passages and
        the register's trips to the articles and dates they admit; empty ones are no filters."""
        question, backend, history, q, standalone, failure = self._understand(question, history, backend)
        self.retriever.refresh()
        article = partial(read_article, self.ws)  # an article as ingested, with its annotation
        with self.ws.reading():
            trips = within(q.register, filters) if q.register and filters else q.register
            if trips is not None:  # answered from the register: no passages to retrieve
                return Prepared(question, backend, history, q, standalone, Retrieval([], 0.0), gather(q, [], article),
                                failure, trips, indexed=bool(self.ws.manifest.counts()[0]))
            period = q.period if standalone == q.search else date_named(standalone)
            vector = q.read.vector if standalone == q.text and q.read else None  # e5's "query: " pass read it already
            retrieval = self.retriever.retrieve(standalone, top_k=top_k, filters=filters, period=period, query_vector=vector)
            quotes = leader_quotes(q, self.register)
            evidence = gather(q, retrieval.passages, article, quotes)
            indexed = bool(retrieval.passages) or bool(self.ws.manifest.counts()[0])
        return Prepared(question, backend, history, q, standalone, retrieval, evidence, failure,
                        register_quotes=quotes, indexed=indexed)

    def _understand(self, question: str, history: list[Turn] | None, backend: str | None):
        """The question checked and analysed; a follow-up made standalone (by the model when its rules cannot)."""
        question = (question or "").strip()
        if not question:
            raise QuestionError("The question is empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionError(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
        backend = backend or self.ws.settings.llm.backend
        if backend not in BACKENDS:
            raise QuestionError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        history = history or []
        previous = next((t.content for t in reversed(history) if t.role == "assistant"), "")
        q = analyse(question, [t.content for t in history if t.role == "user"], previous)
        standalone, failure = q.search, None
        # A model can name what only an earlier answer said ("Wer leitete sie?" after "Welche Reise dauerte am
        # längsten?"). When the earlier questions already name the subject (a place, person, year), the rule-based
        # standalone question finds the passages, and the model's rewrite, a whole generation on a CPU (about 2 s
        # before the first word of the answer), is not needed.
        if q.earlier and not q.carried_critical:
            from assistant.llms import GenerationBusy, GenerationError

            try:
                rewritten = self.answerer(backend).condense(question, history[-2 * FOLLOW_UP_WINDOW:], q.lang)
                standalone = rewritten if rewritten and keeps_subject(rewritten, q) else standalone
            except GenerationBusy:
                raise
            except GenerationError as exc:  # the rule-based one is kept; the answerer falls back without asking again
                failure = exc
        return question, backend, history, q, standalone, failure

    @cached_property
    def register(self) -> TripRegister:
        return TripRegister.of(self.ws.settings)

    @cached_property
    def from_register(self) -> RegisterAnswerer:
        return RegisterAnswerer(self.register, self.retriever.passage)


def _result(p: Prepared, draft: Draft, generate_s: float) -> Answer:
    return Answer(question=p.question, answer=draft.text, refused=draft.refused, backend=p.backend,
                  citations=draft.citations, contexts=p.retrieval.passages,
                  timings_ms={"retrieve": p.retrieval.ms, "generate": generate_s * 1000},
                  standalone_question=p.standalone, lang=p.q.lang, notices=draft.notices, generation=draft.generation)


def make_answerer(backend: str, settings) -> Answerer:
    """The answerer of a backend: extractive, or a model's (with the extractive one as its fallback when
    `llm.fallback_to_extractive`)."""
    from assistant.extractive import ExtractiveAnswerer

    if backend == "extractive":
        return ExtractiveAnswerer()
    from assistant.generated import LLMAnswerer
    from assistant.llms import LazyModel, make_model

    model = LazyModel(lambda: make_model(backend, settings))
    return LLMAnswerer(model, ExtractiveAnswerer() if settings.llm.fallback_to_extractive else None)
