"""The Ollama backend against recorded Ollama HTTP exchanges (documented /api/tags and /api/chat JSON),
replayed by a real HTTP server on loopback, so the llama-index Ollama client speaks the real wire format."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from settings import load_settings

RECORDED = Path(__file__).parent / "recorded"


def _server(routes):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method):
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"null") if length else None
            seen.append((method, self.path, body))
            status, name = routes.get((method, self.path), (404, None))
            payload = (RECORDED / name).read_bytes() if name else b'{"error": "not found"}'
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            self._reply("GET")

        def do_POST(self):
            self._reply("POST")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, seen


@pytest.fixture
def ollama(request):
    httpd, seen = _server(request.param)
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


OK_ROUTES = {("GET", "/api/tags"): (200, "ollama_tags.json"), ("POST", "/api/show"): (200, "ollama_show.json"),
             ("POST", "/api/chat"): (200, "ollama_chat.json")}
MISSING_ROUTES = {("GET", "/api/tags"): (200, "ollama_tags.json"), ("POST", "/api/show"): (404, "ollama_chat_model_missing.json"),
                  ("POST", "/api/chat"): (404, "ollama_chat_model_missing.json")}


@pytest.mark.parametrize("ollama", [OK_ROUTES], indirect=True)
def test_ollama_answer_keeps_only_citations_that_exist(ollama, sample_ws):
    from assistant.service import Assistant
    from index.workspace import Workspace

    url, seen = ollama
    settings = sample_ws.settings.model_copy(update={"llm": load_settings(env={"OLLAMA_HOST": url}).llm})
    ws = Workspace(settings)
    ws.__dict__.update(store=sample_ws.store, manifest=sample_ws.manifest, embed_model=sample_ws.embed_model)
    answer = Assistant(ws).answer("Wer leitete die Wirtschaftsdelegation nach Japan?", backend="ollama")
    assert any(path == "/api/chat" for _, path, _ in seen), (answer.notices, seen)
    chat = next(body for method, path, body in seen if path == "/api/chat")
    assert chat["model"] == "qwen2.5:7b-instruct" and chat["messages"][0]["role"] == "system"
    assert "[1]" in chat["messages"][1]["content"] and "Japan" in chat["messages"][1]["content"]
    assert answer.backend == "ollama" and "Uwe Albrecht" in answer.answer
    assert "[9]" not in answer.answer and [c.n for c in answer.citations] == [1]
    assert any("[9]" in n for n in answer.notices)


@pytest.mark.parametrize("ollama", [MISSING_ROUTES], indirect=True)
def test_model_not_pulled_names_the_pull_command(ollama):
    from assistant.generative import GenerationError, make_generator

    url, _ = ollama
    settings = load_settings(env={"OLLAMA_HOST": url, "DELEGATIONS_LLM_MODEL": "llama3.1:8b"})
    with pytest.raises(GenerationError, match="ollama pull llama3.1:8b"):
        make_generator("ollama", settings).generate("Wer?", [], "de")
