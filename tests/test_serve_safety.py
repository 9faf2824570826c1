"""No single request can hold the service, tried against a real `delegations serve` over loopback: clients that
leave a streamed answer mid-way, SIGTERM with streams open, children that end with the server, and an upload
whose ingest is killed. The model is a slow OpenAI-compatible server of the test's own (a word every 0.4 s),
so that answers are still being written when the clients leave."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE, _free_port, answers, make_workspace, serve

pytestmark = pytest.mark.slow

ANSWER = "Die Wirtschaftsdelegation nach Japan leitete Wirtschaftsbürgermeister Uwe Albrecht [1]."
QUESTION = "Wer leitete die Wirtschaftsdelegation nach Japan?"


@pytest.fixture(scope="module")
def slow_model():
    """An OpenAI-compatible server that writes its answer a word every 0.4 s (about 5 s in all)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self._json({"object": "list", "data": [{"id": "slow", "object": "model"}]})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
            if not body.get("stream"):
                time.sleep(2)
                return self._json({"id": "x", "object": "chat.completion", "model": "slow", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}]})
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            try:
                for word in ANSWER.split(" "):
                    time.sleep(0.4)
                    chunk = {"id": "x", "object": "chat.completion.chunk", "model": "slow",
                             "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def _json(self, payload):
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory, slow_model):
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLE, corpus / "sample")
    settings = (f"llm:\n  backend: openai\n  concurrency: 1\n  queue_timeout_s: 3\n"
                f"  openai:\n    base_url: {slow_model}\n    model: slow\n"
                f"server:\n  request_backends: [extractive]\n  shutdown_grace_s: 3\n")
    url, proc, log = serve(tmp_path_factory, corpus, settings)
    yield url, proc, log
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=20)


def _ask(url: str, question: str = QUESTION, backend: str | None = None, timeout: float = 60):
    body = {"question": question, **({"backend": backend} if backend else {})}
    request = urllib.request.Request(f"{url}/api/ask", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read()), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), time.monotonic() - started


def _start_stream(url: str) -> socket.socket:
    """A client of /api/ask/stream that has the response's first bytes (the answer is under way)."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"question": QUESTION}).encode()
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(b"POST /api/ask/stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    got = b""
    while b"\r\n\r\n" not in got:
        got += sock.recv(40)
    assert b" 200 " in got.split(b"\r\n")[0]
    return sock


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_clients_leaving_streams_mid_answer_freeze_nothing(server):
    """The freeze that was: an SSE client that left kept the assistant's lock, and every question after it hung."""
    url, proc, log = server
    for round_ in range(2):
        clients = [_start_stream(url) for _ in range(10)]
        time.sleep(0.5)  # the first is being written by the model, the others wait for its slot
        for sock in clients:
            sock.close()
        status, body, took = _ask(url, backend="extractive")
        assert status == 200 and "Uwe Albrecht" in body["answer"], body
        assert took < 1.0, f"round {round_}: /api/ask took {took:.2f} s after 10 clients left"
        # and the model answers again once the abandoned generation has ended (its slot comes back)
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            status, body, _ = _ask(url)
            if status == 200:
                break
            assert status == 503 and "busy" in body["detail"], body
            time.sleep(1)
        assert status == 200 and body["backend"] == "openai", body
    assert proc.poll() is None


def test_a_busy_model_is_a_503_with_retry_after_and_an_extractive_answer_does_not_wait_for_it(server):
    url = server[0]
    results = {}
    threads = [threading.Thread(target=lambda i=i: results.setdefault(i, _ask(url))) for i in range(3)]
    for thread in threads:
        thread.start()
        time.sleep(0.2)
    status, _, took = _ask(url, backend="extractive")
    assert status == 200 and took < 1.0
    for thread in threads:
        thread.join(60)
    statuses = sorted(r[0] for r in results.values())
    assert statuses[0] == 200 and 503 in statuses, results  # one slot: the one waiting longest is told so
    busy = next(r for r in results.values() if r[0] == 503)
    assert "try again" in busy[1]["detail"]


def test_sigterm_stops_the_server_within_10_s_with_streams_open_and_its_children_go_too(server):
    url, proc, log = server
    upload = urllib.request.Request(f"{url}/api/documents", method="POST",
                                    data=b'--b\r\nContent-Disposition: form-data; name="files"; filename="lyon.txt"\r\n\r\n'
                                         b"Delegation in Lyon\n\nEine Delegation aus Dresden reiste nach Lyon.\r\n--b--\r\n",
                                    headers={"Content-Type": "multipart/form-data; boundary=b"})
    with urllib.request.urlopen(upload, timeout=300) as r:
        assert json.loads(r.read())["added"] == 1
    children = _children(proc.pid)
    assert children, "the upload ran in the ingest worker, a child of the server"
    open_streams = [_start_stream(url) for _ in range(3)]
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert time.monotonic() - started < 10
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(c) for c in children):
        time.sleep(0.2)
    assert not any(_alive(c) for c in children)
    for sock in open_streams:
        sock.close()
    assert "Traceback" not in log.read_text()


# --- an upload's ingest killed: the next start heals it ---------------------------------------------------

DIES_DURING_COMMIT = """
import os, signal, sys
from pathlib import Path
from conftest import make_workspace
import index.manifest
from index.uploads import add_file

put_doc, calls = index.manifest.Manifest.put_doc, []
def dying_put_doc(self, *args):
    calls.append(1)
    if len(calls) == 3:  # two of the upload's articles are written, the rest not: the commit is half done
        os.kill(os.getpid(), signal.SIGKILL)
    return put_doc(self, *args)
index.manifest.Manifest.put_doc = dying_put_doc
add_file(make_workspace(Path(sys.argv[1])), "stapel.jsonl", Path(sys.argv[2]).read_bytes())
"""


def _batch(n: int) -> bytes:
    cities = ["Lima", "Quito", "Accra", "Hanoi", "Oslo", "Perth", "Seoul", "Nairobi"]
    return "\n".join(json.dumps({"id": f"stapel-{i}", "title": f"Reise {i}", "date": "2024-05-01",
                                 "text": f"Die Delegation Nummer {i} aus Kassel reiste im Mai nach {cities[i % 8]}."})
                     for i in range(n)).encode()


def test_an_upload_killed_mid_commit_leaves_none_of_its_articles_after_the_next_start(tmp_path, tmp_path_factory):
    data = tmp_path / "data"
    assert subprocess.run([sys.executable, "-m", "cli", "ingest", str(SAMPLE), "--data-dir", str(data)], cwd=ROOT,
                          capture_output=True, timeout=600).returncode == 0
    before = {r.doc_id for r in make_workspace(data).manifest.all_docs()}
    batch = tmp_path / "stapel.jsonl"
    batch.write_bytes(_batch(6))
    died = subprocess.run([sys.executable, "-c", DIES_DURING_COMMIT, str(data), str(batch)], cwd=ROOT / "tests",
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600)
    assert died.returncode == -signal.SIGKILL, died.stderr
    half = {r.doc_id for r in make_workspace(data).manifest.all_docs()} - before
    assert len(half) == 2  # what the kill left: two of six

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), "--data-dir", str(data)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "DELEGATIONS_SETTINGS": ""})
    try:
        url = f"http://127.0.0.1:{port}"
        assert answers(f"{url}/api/health", 180), "the server did not come up again"
        ws = make_workspace(data)
        assert {r.doc_id for r in ws.manifest.all_docs()} == before
        assert {m["doc_id"] for m in ws.store.collection.get(include=["metadatas"])["metadatas"]} == before
        assert not (data / "uploads" / "stapel.jsonl").exists()
        status, body, _ = _ask(url, "Wohin reiste die Delegation Nummer 4 aus Kassel?")
        assert status == 200 and "stapel-4" not in json.dumps(body["citations"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_server_killed_during_an_upload_takes_its_worker_along_and_the_upload_is_all_or_nothing(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLE, corpus / "sample")
    url, proc, log = serve(tmp_path_factory, corpus)
    data = log.parent
    body = b'--b\r\nContent-Disposition: form-data; name="files"; filename="stapel.jsonl"\r\n\r\n' + _batch(200) + b"\r\n--b--\r\n"
    request = urllib.request.Request(f"{url}/api/documents", method="POST", data=body,
                                     headers={"Content-Type": "multipart/form-data; boundary=b"})
    threading.Thread(target=lambda: _swallow(request), daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _children(proc.pid):
        time.sleep(0.1)
    workers = _children(proc.pid)
    assert workers
    time.sleep(3)  # somewhere in its ingest (where does not matter: all or nothing either way)
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "the ingest worker outlived the server"

    url, proc, log = serve(tmp_path_factory, corpus, f"data_dir: {data}\n")
    try:
        ws = make_workspace(data)
        uploaded = [r for r in ws.manifest.all_docs() if r.doc_id.startswith("stapel-")]
        assert len(uploaded) in (0, 200)
        assert ws.manifest.counts()[0] == 5 + len(uploaded)
        assert len({m["doc_id"] for m in ws.store.collection.get(include=["metadatas"])["metadatas"]}) == 5 + len(uploaded)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _swallow(request) -> None:
    try:
        urllib.request.urlopen(request, timeout=300).read()
    except OSError:
        pass


def test_the_log_has_no_library_debug_lines_and_a_line_per_request_only_at_debug(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus-log")
    shutil.copytree(SAMPLE, corpus / "sample")
    for level, per_request in (("info", False), ("debug", True)):
        url, proc, log = serve(tmp_path_factory, corpus, "", "--log-level", level)
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=10) as r:
                assert r.status == 200
            time.sleep(0.5)
            text = log.read_text()
            assert ('"GET /api/health HTTP/1.1" 200' in text) is per_request, text[-2000:]
            if level == "info":
                assert "DEBUG" not in text, [line for line in text.splitlines() if "DEBUG" in line]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
