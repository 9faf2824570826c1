"""The JSON API other intranet tools call: ask, ask with server-sent events, the trip register, health,
feedback on answers, and (for admins) the documents in the index. OpenAPI docs at /docs.

`POST /api/ask` returns what `delegations ask --json` prints. With `server.api_token` set (the
DELEGATIONS_API_TOKEN variable), every /api/* call needs `Authorization: Bearer <token>`; /api/documents
needs the admin token (DELEGATIONS_ADMIN_TOKEN), and a reader's token gets 403 there.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from assistant.service import MAX_QUESTION_CHARS, Assistant, QuestionError, Turn
from index.retrieve import Filters
from settings import ServerSettings
from trips.register import TripFilter
from web.auth import reader_or_admin, require_admin

log = logging.getLogger("delegations.api")
MAX_BODY_BYTES = 2_000_000  # a question with 50 turns of history fits several times; a 100 MB upload does not


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES with 413 before they are read into memory, whether
    announced by Content-Length or streamed in chunks."""

    def __init__(self, app, upload_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.upload_bytes = upload_bytes  # POST /api/documents: a file, up to server.max_upload_mb

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/api/documents")
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


def create_api(assistant: Assistant, server: ServerSettings) -> FastAPI:
    """The API app; the chat is mounted onto it by web.server."""
    app = FastAPI(title="Delegations assistant", version="1",  # the sub-path comes from uvicorn (--root-path)
                  description="Answers about business delegations from German news articles, each claim cited.")
    app.state.assistant = assistant
    app.state.server = server
    app.state.pending = threading.BoundedSemaphore(server.max_pending)  # the queue in front of the assistant's lock
    app.add_middleware(BodyLimit, upload_bytes=int(server.max_upload_mb * 1024 * 1024))
    if server.cors_origins:
        # Pages of these origins may call the API and embed the chat as a web component (whose requests
        # carry Gradio's own headers, hence any header).
        app.add_middleware(CORSMiddleware, allow_origins=server.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"])
    app.include_router(router)
    app.include_router(admin)
    app.add_exception_handler(HTTPException, _one_line)
    app.add_exception_handler(RequestValidationError, _invalid)
    return app


router = APIRouter(prefix="/api", dependencies=[Depends(reader_or_admin)])
admin = APIRouter(prefix="/api", dependencies=[Depends(require_admin)], tags=["documents (admins)"])


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


@router.post("/ask", summary="Answer a question with cited passages")
def ask(body: AskRequest, request: Request) -> JSONResponse:
    assistant, filters = _assistant(request), _filters(body)
    release = _admitted(request)
    try:
        answer = assistant.answer(body.question, _history(body), filters, body.backend, body.top_k)
    except QuestionError as exc:
        raise HTTPException(422, str(exc)) from None
    except Exception as exc:  # the store or the model failed: say which, keep serving
        raise HTTPException(503, _service_message(exc)) from None
    finally:
        release()
    return JSONResponse(answer.to_json())


@router.post("/ask/stream", summary="The same answer as server-sent events: delta events, then the answer")
def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    assistant, filters = _assistant(request), _filters(body)
    release = _admitted(request)

    def events():
        try:
            for event in assistant.stream(body.question, _history(body), filters, body.backend, body.top_k):
                payload = {"text": event["text"]} if event["type"] == "delta" else event["answer"]
                yield f"event: {event['type']}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
        except QuestionError as exc:
            yield f"event: error\ndata: {json.dumps({'detail': str(exc)})}\n\n"
        except Exception as exc:
            yield f"event: error\ndata: {json.dumps({'detail': _service_message(exc)})}\n\n"
        finally:
            release()

    # released after the stream, or by the background task when the client left before it began
    return StreamingResponse(events(), media_type="text/event-stream", background=BackgroundTask(release),
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/trips", summary="The trip register: who travelled where, when and with whom, every field with its evidence")
def trips(request: Request, to: str | None = None, who: str | None = None, year: int | None = None,
          date_from: str | None = None, date_to: str | None = None, doc: str | None = None) -> dict:
    """`to`: a city, country or continent, German or English (Asien, USA, New York); `who`: part of a leader's
    or participant's name; dates YYYY[-MM[-DD]]. Each field object carries doc_id, chunk_id, start, end and
    quote (the article's words at those offsets)."""
    for value in (date_from, date_to):
        if value and not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", value):
            raise HTTPException(422, f"Dates are written YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}.")
    where = TripFilter(to, who, year, date_from, date_to, doc)
    return {"trips": [t.to_json() for t in _assistant(request).trips(where)]}


@router.get("/health", summary="Index size and backend reachability")
def health(request: Request) -> dict:
    status = _assistant(request).status()
    status["status"] = "ok" if status["documents"] else "empty"
    return status


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

    entry = Feedback(**{**body.model_dump(), "history": [m.model_dump() for m in body.history]}, user="api")
    return {"id": _feedback_store(request).add(entry)}


def _feedback_store(request: Request):
    store = getattr(request.app.state, "feedback", None)
    if store is None:
        from assistant.feedback import FeedbackStore

        store = request.app.state.feedback = FeedbackStore(_assistant(request).ws.settings.data_dir)
    return store


@admin.get("/documents", summary="The articles in the index, paged; `query` matches id, title or source")
def list_documents(request: Request, query: str = "", limit: int = 50, offset: int = 0) -> dict:
    from index.documents import listing

    if not 1 <= limit <= 500 or offset < 0:
        raise HTTPException(422, "limit is 1 to 500 and offset at least 0.")
    total, page = listing(_assistant(request).ws, query, limit, offset)
    return {"total": total, "offset": offset, "documents": [d.to_json() for d in page]}


@admin.get("/documents/{doc_id}", summary="One article: title, date, source and its text as indexed")
def get_document(doc_id: str, request: Request) -> dict:
    from index.documents import UnknownDocument, show

    try:
        return show(_assistant(request).ws, doc_id).to_json()
    except UnknownDocument as exc:
        raise HTTPException(404, str(exc)) from None


@admin.post("/documents", summary="Upload articles (.txt .md .html .pdf .jsonl) and index them; the ingest report")
def upload_documents(request: Request, files: list[UploadFile] = File(description="One or more files")) -> JSONResponse:
    """Same limits and per-file failures as `delegations ingest`: too large → 413, a type not read → 415 naming
    the accepted ones, a file that cannot be read → 422 with the reason and nothing of it indexed. Questions
    are answered from the index as it was while the upload is indexed."""
    from index.uploads import DocumentError, add_file

    settings = _assistant(request).ws.settings
    reports = []
    try:
        for upload in files:
            reports.append({"file": upload.filename, **add_file(settings, upload.filename or "", upload.file.read())})
    except DocumentError as exc:
        raise HTTPException(exc.status, exc.detail) from None
    return JSONResponse(reports[0] if len(reports) == 1 else {"files": reports})


@admin.delete("/documents/{doc_id}", summary="Take an article out of the index (an uploaded file of its own too)")
def delete_document(doc_id: str, request: Request) -> dict:
    from index.uploads import DocumentError, remove

    ws = _assistant(request).ws
    try:
        return remove(ws.settings, doc_id, known=ws.manifest.doc(doc_id) is not None)
    except DocumentError as exc:
        raise HTTPException(exc.status, exc.detail) from None


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
