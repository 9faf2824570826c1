"""The language models behind the generative backends, as one small interface: `Model.chat(messages)` and
`Model.stream(messages)`, messages being (role, text) pairs.

The one module that imports the LLM client packages (llama-index's Ollama and OpenAI-like clients, inside
`make_model`, so commands that do not generate never pay for the import). llama.cpp never runs in this
process: assistant/llamacpp.py supervises its OpenAI-compatible server as a child, spoken to like any other. Every failure of a model or its server leaves here as a GenerationError whose
message says in one line what happened and what to do.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from settings import Settings


class GenerationError(Exception):
    """The model could not produce an answer; the message says why and what to do."""


class GenerationBusy(GenerationError):
    """Every generation slot stayed taken for llm.queue_timeout_s: the question is not answered now (HTTP 503
    with Retry-After), rather than by the fallback, which would hide the load."""


class Slots:
    """At most `n` generations of one model at a time; a question waits up to `timeout_s` for its turn."""

    def __init__(self, n: int = 1, timeout_s: float = 20.0):
        self.n = n
        self.timeout_s = timeout_s
        self._free = threading.BoundedSemaphore(n)

    def take(self) -> None:
        if not self._free.acquire(timeout=self.timeout_s):
            raise GenerationBusy(f"The language model is busy with {self.n} other question{'s' if self.n > 1 else ''}; "
                                 f"try again in a few seconds.")

    def give(self) -> None:
        self._free.release()


@dataclass
class Model:
    """A llama-index LLM (anything with `chat` and `stream_chat`), checked before use, failures in words."""

    llm: object
    name: str  # where it runs, as messages name it: "Ollama at http://gpu:11434"
    model: str = ""
    preflight: Callable[[], None] | None = None  # raises GenerationError when the server is not usable
    missing_model_hint: str = ""  # what to do when the server says the model does not exist
    json_request: Callable[[dict], dict] | None = None  # the chat arguments that make this server answer in a JSON schema
    explain: Callable[[], str | None] | None = None  # after a failure: the line about a worker that died, if one did
    health: Callable[[], dict] | None = None  # what /api/health says about a worker this process runs
    slots: Slots | None = None  # llm.concurrency generations at once (None: no limit)

    def warm_up(self) -> None:
        """Make the model ready now (llama.cpp: start its worker and load the file), not on the first question."""
        if self.preflight:
            self.preflight()

    def chat(self, messages: list[tuple[str, str]]) -> str:
        self._take()
        try:
            if self.preflight:
                self.preflight()
            return str(self.llm.chat(_chat_messages(messages)).message.content or "")
        except GenerationError:
            raise
        except Exception as exc:
            raise self._failure(exc) from None
        finally:
            self._give()

    def _take(self) -> None:
        if self.slots:
            self.slots.take()

    def _give(self) -> None:
        if self.slots:
            self.slots.give()

    def _failure(self, exc: Exception) -> GenerationError:
        said = self.explain() if self.explain else None
        return GenerationError(said or describe_failure(exc, self.name, self.model, self.missing_model_hint))

    def chat_json(self, messages: list[tuple[str, str]], schema: dict) -> str:
        """The reply constrained to a JSON schema: Ollama's `format`, an OpenAI-compatible server's
        `response_format` json_schema, llama.cpp's grammar from the schema."""
        self._take()
        try:
            if self.preflight:
                self.preflight()
            extra = self.json_request(schema) if self.json_request else {}
            return str(self.llm.chat(_chat_messages(messages), **extra).message.content or "")
        except GenerationError:
            raise
        except Exception as exc:
            raise self._failure(exc) from None
        finally:
            self._give()

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        """The reply in pieces as the model writes it. Its generation slot is held until the model has
        finished writing: when the reader stops early (a client that left), the rest is read and dropped in
        the background, and the slot is given back after that."""
        self._take()
        handed_on = False
        try:
            if self.preflight:
                self.preflight()
            pieces = self.llm.stream_chat(_chat_messages(messages))
            finished = False
            try:
                for chunk in pieces:
                    if chunk.delta:
                        yield chunk.delta
                finished = True
            finally:
                if not finished:
                    threading.Thread(target=_drain, args=(pieces, self._give), name="generation-drain", daemon=True).start()
                    handed_on = True
        except GenerationError:
            raise
        except Exception as exc:
            raise self._failure(exc) from None
        finally:
            if not handed_on:
                self._give()


def _drain(pieces, then: Callable[[], None]) -> None:
    """Read a generation nobody waits for to its end instead of hanging up (llama-cpp-python's server keeps
    its model locked, and every later request waits forever, when a streaming client disconnects), then
    give its slot back."""
    try:
        for _ in pieces:
            pass
    except Exception:  # noqa: BLE001 - nobody reads this answer; its failure shows on the next question
        pass
    finally:
        then()


class LazyModel:
    """A model made on its first use, so that one which cannot be made (a missing GGUF file, an unknown chat
    format) fails that question, with its fallback, rather than the assistant."""

    def __init__(self, make: Callable[[], Model]):
        self._make = make
        self._model: Model | None = None

    def _get(self) -> Model:
        if self._model is None:
            self._model = self._make()
        return self._model

    def warm_up(self) -> None:
        self._get().warm_up()

    def chat(self, messages: list[tuple[str, str]]) -> str:
        return self._get().chat(messages)

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        yield from self._get().stream(messages)

    def chat_json(self, messages: list[tuple[str, str]], schema: dict) -> str:
        return self._get().chat_json(messages, schema)

    def health(self) -> dict | None:
        """The live state of a worker this process started, once the model was made."""
        return self._model.health() if self._model is not None and self._model.health else None


def _chat_messages(messages: list[tuple[str, str]]):
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=role, content=text) for role, text in messages]


def describe_failure(exc: Exception, where: str, model: str = "", missing_model_hint: str = "") -> str:
    """One line for a failed model call: model missing, timed out, unreachable, or what the server said.
    Told apart by exception type: httpx's, the ollama client's (ConnectionError, ResponseError with a
    status code) and the openai client's (APITimeoutError is an APIConnectionError, so timeouts first)."""
    import httpx

    openai = sys.modules.get("openai")  # loaded when the failure came from it
    timeouts: tuple[type, ...] = (httpx.TimeoutException, TimeoutError) + ((openai.APITimeoutError,) if openai else ())
    unreachable: tuple[type, ...] = (httpx.ConnectError, ConnectionError) + ((openai.APIConnectionError,) if openai else ())
    if getattr(exc, "status_code", None) == 404 and model:
        return f"The model {model} is not available on {where}; {missing_model_hint or 'check the model name'}."
    if isinstance(exc, timeouts):
        return f"{where} did not answer in time."
    if isinstance(exc, unreachable):
        return f"{where} is not reachable."
    said = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, whatever the server sent
    return f"{where} failed: {said[:300]}"


def _once_per(seconds: float, check: Callable[[], None]) -> Callable[[], None]:
    """Run a server check at most once per `seconds` while it succeeds (a failure is checked again next time)."""
    state = {"at": -seconds}

    def run() -> None:
        if time.monotonic() - state["at"] < seconds:
            return
        check()
        state["at"] = time.monotonic()

    return run


def _ollama_preflight(host: str, model: str, timeout_s: float) -> Callable[[], None]:
    """Fail within seconds when Ollama is down or the model is not pulled, instead of at the long timeout."""

    def check() -> None:
        import httpx

        try:
            reply = httpx.get(f"{host}/api/tags", timeout=timeout_s)
        except httpx.TimeoutException:
            raise GenerationError(f"Ollama at {host} did not answer within {timeout_s:g} s; is the host right (OLLAMA_HOST)?") from None
        except httpx.HTTPError:
            raise GenerationError(f"Ollama is not reachable at {host}; start it with `ollama serve` or set OLLAMA_HOST.") from None
        try:
            tags = reply.json()
        except ValueError:
            tags = None
        if not isinstance(tags, dict) or not isinstance(tags.get("models", []), list):
            raise GenerationError(f"{host} answered /api/tags (HTTP {reply.status_code}) with something that is not Ollama's JSON; is OLLAMA_HOST right?")
        names = {m.get("name") for m in tags.get("models", [])} | {m.get("model") for m in tags.get("models", [])}
        if model not in names and f"{model}:latest" not in names:
            raise GenerationError(f"The model {model} is not pulled on the Ollama host {host}; run `ollama pull {model}`.")

    return _once_per(30, check)


def _openai_preflight(base_url: str, model: str, api_key: str, timeout_s: float) -> Callable[[], None]:
    """The server answers /models and serves the model, checked in seconds before a long generation."""

    def check() -> None:
        import httpx

        if not model:
            raise GenerationError("No model is set for the openai backend; set llm.openai.model or DELEGATIONS_OPENAI_MODEL.")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            reply = httpx.get(f"{base_url}/models", timeout=timeout_s, headers=headers)
        except httpx.TimeoutException:
            raise GenerationError(f"The OpenAI-compatible server at {base_url} did not answer within {timeout_s:g} s.") from None
        except httpx.HTTPError:
            raise GenerationError(f"The OpenAI-compatible server at {base_url} is not reachable; check llm.openai.base_url.") from None
        if reply.status_code in (401, 403):
            raise GenerationError(f"The server at {base_url} refused the API key (HTTP {reply.status_code}); set DELEGATIONS_OPENAI_API_KEY.")
        try:
            listed = reply.raise_for_status().json()["data"]
            served = {m["id"] for m in listed}
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            raise GenerationError(f"{base_url}/models did not answer in the OpenAI format (HTTP {reply.status_code}); is the base URL right (it ends in /v1)?") from None
        if served and model not in served:
            raise GenerationError(f"The server at {base_url} does not serve the model {model}; it serves {', '.join(sorted(served))}.")

    return _once_per(30, check)


def make_model(backend: str, settings: Settings) -> Model:
    """The model of a generative backend, as settings describe it."""
    from index.embedders import normalise_host

    check_s = settings.llm.preflight_timeout_s
    slots = Slots(settings.llm.concurrency, settings.llm.queue_timeout_s)
    match backend:
        case "ollama":
            from llama_index.llms.ollama import Ollama

            cfg = settings.llm.ollama
            host = normalise_host(cfg.host)
            llm = Ollama(model=cfg.model, base_url=host, request_timeout=cfg.request_timeout_s,
                         keep_alive=cfg.keep_alive, temperature=settings.llm.temperature)
            return Model(llm, f"Ollama at {host}", cfg.model, _ollama_preflight(host, cfg.model, check_s),
                         f"run `ollama pull {cfg.model}` there", lambda schema: {"format": schema}, slots=slots)
        case "openai":
            from llama_index.llms.openai_like import OpenAILike

            cfg = settings.llm.openai
            base = cfg.base_url.rstrip("/")
            llm = OpenAILike(model=cfg.model or "unset", api_base=base, api_key=cfg.api_key or "none",
                             is_chat_model=True, timeout=cfg.request_timeout_s, max_retries=0,
                             context_window=cfg.context_window, temperature=settings.llm.temperature)
            return Model(llm, f"the OpenAI-compatible server at {base}", cfg.model,
                         _openai_preflight(base, cfg.model, cfg.api_key, check_s), f"{base}/models lists the served ones",
                         lambda schema: {"response_format": {"type": "json_schema",
                                                             "json_schema": {"name": "answer", "schema": schema}}},
                         slots=slots)
        case "llamacpp":
            from llama_index.llms.openai_like import OpenAILike

            from assistant.llamacpp import LlamaCppError, Worker

            cfg = settings.llm.llamacpp
            try:
                worker = Worker(cfg, settings.data_dir)
            except LlamaCppError as exc:
                raise GenerationError(str(exc)) from None

            def started() -> None:
                try:
                    worker.ensure()
                except LlamaCppError as exc:
                    raise GenerationError(str(exc)) from None

            llm = OpenAILike(model=worker.name, api_base=worker.base_url, api_key="none", is_chat_model=True,
                             timeout=cfg.request_timeout_s, max_retries=0, max_tokens=cfg.max_tokens,
                             context_window=cfg.n_ctx, temperature=settings.llm.temperature)
            return Model(llm, f"llama.cpp ({worker.name})", worker.name, started, "check DELEGATIONS_LLAMACPP_MODEL",
                         lambda schema: {"response_format": {"type": "json_object", "schema": schema}},
                         explain=worker.crashed, health=worker.state, slots=slots)
    raise GenerationError(f"Unknown generative backend {backend!r}.")


def trip_step(ws, kind: str | None = None):
    """What every ingest (the CLI, the upload and watch worker, the tests) runs under its lock once the chunks
    are stored: the trip register brought in step with the extractor `kind` (default: trips.extractor) and, for
    the llm extractor, the model the settings name. Raises trips.extractors.ExtractorError when the extractor
    cannot be used as configured."""
    from trips.update import trip_step as step

    return step(ws, kind, trip_model(ws.settings, kind))


def trip_model(settings: Settings, kind: str | None = None) -> LazyModel | None:
    """The model the llm trip extractor asks (trips.backend, else llm.backend), made on first use; None for
    the rules, or when no generative backend is configured."""
    kind = kind or settings.trips.extractor
    backend = settings.trips.backend or settings.llm.backend
    if kind != "llm" or backend == "extractive":
        return None
    return LazyModel(lambda: make_model(backend, settings))
