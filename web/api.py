"""The JSON API other intranet tools call: ask, ask with server-sent events, the trip register, health,
feedback on answers, and (for admins) the documents in the index. OpenAPI docs at /docs.

`POST /api/ask` returns what `delegations ask --json` prints. Who may call what is decided once, for the API
and the chat alike, by the door in web/auth.py: a reader token, an admin token, a user's personal token or a
chat login; /api/documents is for admins.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Literal

import asyncio

from fastapi import APIRouter, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from assistant.llms import GenerationBusy
from assistant.service import MAX_QUESTION_CHARS, Assistant, QuestionError, Turn
from index.database import state_engine
from index.documents import UnknownDocument
from index.retrieve import Filters
from index.store import StoreError
from index.sync import IngestBusy, TooManyArticles, UnreadableFile
from index.uploads import BadFileName, UnsupportedType, UploadTooLarge
from settings import Settings
from trips.register import TripFilter
from web import login
from web.auth import Credentials, Door, principal_of
from web.sessions import Sessions
from web.worker import IngestWorkerDied

log = logging.getLogger("delegations.api")
MAX_BODY_BYTES = 2_000_000  # a question with 50 turns of history fits several times; a 100 MB upload does not


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES with 413 before they are read into memory, whether
    announced by Content-Length or streamed in chunks."""

    def __init__(self, app, upload_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.upload_bytes = upload_bytes  # an upload (the API's or the chat's): a file, up to server.max_upload_mb

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "").rstrip("/")
        upload = scope.get("method") == "POST" and path.endswith(("/api/documents", "/gradio_api/upload"))
        limit = self.upload_bytes + 64_000 if upload else MAX_BODY_BYTES  # the multipart envelope besides the file
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit)
        if declared and declared.isdigit():
            return await self.app(scope, receive, send)  # the server reads no more than it announced
        # A streamed body: read it here, up to the limit, then hand it on.
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > limit:
                return await _too_large(send, limit)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_large(send, limit: int = MAX_BODY_BYTES) -> None:
    body = json.dumps({"detail": f"The request is larger than {limit:,} bytes."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class FiltersIn(BaseModel):
    doc_ids: list[str] = Field(default_factory=list, description="Only these articles (ids as in `contexts[].doc_id`).")
    date_from: str | None = Field(None, description="Only articles published from YYYY[-MM[-DD]].")
    date_to: str | None = Field(None, description="Only articles published until YYYY[-MM[-DD]].")


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question, German or English.")
    history: list[Message] = Field(default_factory=list, max_length=50, description="Earlier turns of the conversation, oldest first.")
    filters: FiltersIn | None = None
    backend: str | None = Field(None, description="extractive | ollama | llamacpp | openai (default from settings).")
    top_k: int | None = Field(None, ge=1, le=50)


def _filters(body: AskRequest) -> Filters | None:
    if not body.filters:
        return None
    f = Filters(body.filters.doc_ids, body.filters.date_from, body.filters.date_to)
    try:
        f.where()  # validates the dates
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return f


def create_api(assistant: Assistant, settings: Settings, library=None) -> FastAPI:
    """The API app behind the door; the chat is mounted onto it by web.server. `settings`: the server's (its
    `server` section, and the data dir holding sessions); `library` (web.library): the documents routes'."""
    server = settings.server
    app = FastAPI(title="Delegations assistant", version="1",  # the sub-path comes from uvicorn (--root-path)
                  description="Answers about business delegations from German news articles, each claim cited.")
    app.state.assistant = assistant
    app.state.server = server
    app.state.library = library
    app.state.pending = threading.BoundedSemaphore(server.max_pending)  # questions waiting or being answered
    app.state.credentials = credentials = Credentials(server)
    app.state.sessions = sessions = Sessions(state_engine(settings.data_dir, settings.database_url), server.session_hours,
                                             server.login_failures_per_minute)
    # Outermost last: the door, then CORS (only server.cors_origins, credentials only for those, never an
    # echo of any Origin; with it configured on this app, Gradio adds no CORS headers of its own), then the
    # body limit.
    app.add_middleware(BodyLimit, upload_bytes=int(server.max_upload_mb * 1024 * 1024))
    app.add_middleware(CORSMiddleware, allow_origins=server.cors_origins, allow_credentials=True,
                       allow_methods=["GET", "POST", "DELETE"], allow_headers=["*"])
    app.add_middleware(Door, credentials=credentials, sessions=sessions, cors_origins=server.cors_origins)
    app.include_router(login.router)
    app.include_router(router)
    app.include_router(admin)
    app.add_exception_handler(HTTPException, _one_line)
    app.add_exception_handler(RequestValidationError, _invalid)
    return app


router = APIRouter(prefix="/api")
admin = APIRouter(prefix="/api", tags=["documents (admins)"])  # the door lets only admins through to /api/documents


def _assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def _admitted(request: Request):
    """A place in the queue, or 503 with Retry-After when it is full (a client should come back, not pile on).
    Returns the function that gives the place back (once, however often it is called)."""
    pending = request.app.state.pending
    if not pending.acquire(blocking=False):
        limit = request.app.state.server.max_pending
        raise HTTPException(503, f"The assistant is answering {limit} questions already; try again in a few seconds.",
                            headers={"Retry-After": "2"})
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            pending.release()

    return release


def _backend(body: AskRequest, request: Request) -> str | None:
    """The backend a request asks for, when the settings let requests choose it (server.request_backends):
    a reader must not start a 1.5 GB model worker, or tie up a generation, by naming it."""
    configured = _assistant(request).ws.settings.llm.backend
    if body.backend in (None, configured):
        return body.backend
    allowed = request.app.state.server.request_backends
    if body.backend not in allowed:
        choices = ", ".join([configured, *[b for b in allowed if b != configured]])
        raise HTTPException(403, f"This server answers with {choices}; the backend {body.backend!r} may not be chosen "
                                 f"by a request (server.request_backends).")
    return body.backend


@router.post("/ask", summary="Answer a question with cited passages")
def ask(body: AskRequest, request: Request) -> JSONResponse:
    assistant, filters, backend = _assistant(request), _filters(body), _backend(body, request)
    release = _admitted(request)
    try:
        answer = assistant.answer(body.question, _history(body), filters, backend, body.top_k)
    except QuestionError as exc:
        raise HTTPException(422, str(exc)) from None
    except GenerationBusy as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    except Exception as exc:  # the store or the model failed: say which, keep serving
        raise HTTPException(503, _service_message(exc)) from None
    finally:
        release()
    return JSONResponse(answer.to_json())


HEARTBEAT_S = 5.0  # an SSE comment this often while nothing else is sent: proxies keep the stream open


@router.post("/ask/stream", summary="The same answer as server-sent events: delta events, then the answer")
async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    """The answer is produced in a thread of its own, handing events to this stream through a queue; the
    stream holds nothing. When the client leaves, the thread is told to stop: it closes the answer, which gives
    its generation slot back, and then its place among the pending questions."""
    assistant, filters, backend = _assistant(request), _filters(body), _backend(body, request)
    release = _admitted(request)
    loop, events, stop = asyncio.get_running_loop(), asyncio.Queue(), threading.Event()

    def hand_on(event: str | None) -> None:
        try:
            loop.call_soon_threadsafe(events.put_nowait, event)
        except RuntimeError:  # the server's loop is gone (shutdown): nobody listens any more
            stop.set()

    def produce() -> None:
        answer = assistant.stream(body.question, _history(body), filters, backend, body.top_k)
        try:
            for event in answer:
                if stop.is_set():
                    break
                payload = {"text": event["text"]} if event["type"] == "delta" else event["answer"]
                hand_on(f"event: {event['type']}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n")
        except QuestionError as exc:
            hand_on(f"event: error\ndata: {json.dumps({'detail': str(exc)})}\n\n")
        except GenerationBusy as exc:
            hand_on(f"event: error\ndata: {json.dumps({'detail': str(exc), 'retry_after': 5})}\n\n")
        except Exception as exc:
            hand_on(f"event: error\ndata: {json.dumps({'detail': _service_message(exc)})}\n\n")
        finally:
            answer.close()  # a client that left: the model's stream is closed and its slot given back
            release()
            hand_on(None)

    threading.Thread(target=produce, name="answer-stream", daemon=True).start()

    async def sse():
        try:
            while True:
                try:
                    event = await asyncio.wait_for(events.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield ": still working\n\n"
                    continue
                if event is None:
                    return
                yield event
        finally:  # the end, or the client left (this generator is cancelled or closed)
            stop.set()

    return StreamingResponse(sse(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/trips", summary="The trip register: who travelled where, when and with whom, every field with its evidence")
def trips(request: Request, to: str | None = None, who: str | None = None, year: int | None = None,
          date_from: str | None = None, date_to: str | None = None, doc: str | None = None,
          status: Literal["made", "announced", "postponed", "cancelled"] | None = None) -> dict:
    """`to`: a city, country or continent, German or English (Asien, USA, New York); `who`: part of a leader's
    or participant's name; dates YYYY[-MM[-DD]]; `status`: made, announced, postponed or cancelled. Each field object carries doc_id, chunk_id, start, end and
    quote (the article's words at those offsets)."""
    for value in (date_from, date_to):
        if value and not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", value):
            raise HTTPException(422, f"Dates are written YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}.")
    where = TripFilter(to, who, year, date_from, date_to, doc, status=status)
    return {"trips": [t.to_json() for t in _assistant(request).trips(where)]}


@router.get("/health", summary="Index size and backend reachability")
def health(request: Request) -> dict:
    """Open to anyone, for load balancers and monitors; what the index holds and which backend answers only
    for a reader or admin."""
    status = _assistant(request).status()
    state = "ok" if status["documents"] else "empty"
    if principal_of(request) is None:
        return {"status": state}
    return {**status, "status": state}


class FeedbackIn(BaseModel):
    rating: Literal["up", "down"] = Field(description="up: the answer was right; down: it was not.")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(max_length=50_000, description="The answer as shown.")
    citations: list[dict] = Field(default_factory=list, max_length=50,
                                  description="The answer's citations as `ask` returned them (n, doc_id, title, chunk_id are kept).")
    history: list[Message] = Field(default_factory=list, max_length=50, description="The conversation before the question.")
    comment: str = Field("", max_length=2000, description="What was wrong, or what the answer should have said.")
    backend: str = Field("", max_length=40)
    generation: str = Field("", max_length=60)
    lang: Literal["de", "en"] = "de"
    refused: bool = False


@router.post("/feedback", summary="👍 or 👎 on an answer, with an optional comment; becomes an eval case")
def feedback(body: FeedbackIn, request: Request) -> dict:
    """Stored in DATA_DIR/feedback.sqlite with the time and no client address; `delegations feedback export`
    turns the entries into eval cases."""
    from assistant.feedback import Feedback

    who = principal_of(request)
    user = "api" if who is None or who.name.startswith(":") else who.name
    entry = Feedback(**{**body.model_dump(), "history": [m.model_dump() for m in body.history]}, user=user)
    return {"id": _feedback_store(request).add(entry)}


def _feedback_store(request: Request):
    store = getattr(request.app.state, "feedback", None)
    if store is None:
        from assistant.feedback import FeedbackStore

        settings = _assistant(request).ws.settings
        store = request.app.state.feedback = FeedbackStore(settings.data_dir, settings.database_url)
    return store


# What an ingest or a document route may raise, by type, and the HTTP status it is answered with.
DOCUMENT_STATUS = {BadFileName: 400, UnsupportedType: 415, UploadTooLarge: 413, TooManyArticles: 413,
                   UnreadableFile: 422, UnknownDocument: 404, IngestBusy: 409, IngestWorkerDied: 503, StoreError: 503}


def _document_failure(exc: Exception) -> HTTPException:
    status = next(code for kind, code in DOCUMENT_STATUS.items() if isinstance(exc, kind))
    retry = {"Retry-After": "10"} if status in (409, 503) else None
    return HTTPException(status, str(exc), headers=retry)


def _library(request: Request):
    library = request.app.state.library
    if library is None:
        raise HTTPException(503, "Documents cannot be managed on this server (no ingest worker).")
    return library


def _page_numbers(limit: str, offset: str) -> tuple[int, int]:
    try:
        limit_n, offset_n = int(limit), int(offset)
    except ValueError:
        raise HTTPException(400, "limit and offset are whole numbers.") from None
    if not 1 <= limit_n <= 500 or not 0 <= offset_n <= 10**9:
        raise HTTPException(400, "limit is 1 to 500 and offset 0 to 1,000,000,000.")
    return limit_n, offset_n


@admin.get("/documents", summary="The articles in the index, paged; `query` matches id, title or source")
def list_documents(request: Request, query: str = "", limit: str = "50", offset: str = "0") -> dict:
    limit_n, offset_n = _page_numbers(limit, offset)
    total, page = _library(request).listing(query[:500], limit_n, offset_n)
    return {"total": total, "offset": offset_n, "documents": [d.to_json() for d in page]}


@admin.get("/documents/{doc_id}", summary="One article: title, date, source and its text as indexed")
def get_document(doc_id: str, request: Request) -> dict:
    try:
        return _library(request).show(doc_id).to_json()
    except UnknownDocument as exc:
        raise _document_failure(exc) from None


@admin.post("/documents", summary="Upload articles (.txt .md .html .pdf .jsonl) and index them; the ingest report")
def upload_documents(request: Request, files: list[UploadFile] = File(description="One or more files")) -> JSONResponse:
    """Each file all or nothing, as `delegations ingest` reads it: a bad name → 400, too large (bytes, or
    articles: server.max_upload_articles) → 413, a type not read → 415 naming the accepted ones, nothing
    readable → 422 with the reason, another upload being indexed → 409 with Retry-After. A JSONL file's bad
    lines are listed (the first 20, and `failed_total`) beside its good articles. Questions are answered from
    the index as it was while the upload is indexed (in the ingest worker)."""
    library, reports = _library(request), []
    try:
        for upload in files:
            reports.append({"file": upload.filename, **library.upload(upload.filename or "", upload.file.read())})
    except tuple(DOCUMENT_STATUS) as exc:
        raise _document_failure(exc) from None
    return JSONResponse(reports[0] if len(reports) == 1 else {"files": reports})


@admin.delete("/documents/{doc_id}", summary="Take an article out of the index (an uploaded file of its own too)")
def delete_document(doc_id: str, request: Request) -> dict:
    try:
        return _library(request).remove(doc_id)
    except tuple(DOCUMENT_STATUS) as exc:
        raise _document_failure(exc) from None


def _history(body: AskRequest) -> list[Turn]:
    return [Turn(m.role, m.content) for m in body.history]


async def _one_line(request: Request, exc: HTTPException):
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _invalid(request: Request, exc: RequestValidationError):
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"] if p != "body")
    message = f"{where}: {first['msg']}" if where else first["msg"]
    if where == "question" and first.get("type") == "string_too_long":
        message = f"The question is too long; the limit is {MAX_QUESTION_CHARS} characters."
    return JSONResponse({"detail": message}, status_code=422)


def _service_message(exc: Exception) -> str:
    log.exception("answering failed")
    from assistant.llms import GenerationError
    from index.store import StoreError

    if isinstance(exc, (GenerationError, StoreError)):
        return str(exc)
    return f"The assistant failed ({type(exc).__name__}); the server log has the details."
