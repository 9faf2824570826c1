"""Load on a real `delegations serve` over loopback: 20 questions at once all answered with correct citations,
then more than the queue holds: whatever does not fit gets 503 with Retry-After, the rest are answered, and
the server answers again as soon as the burst is over. Latency and how many were turned away are printed
(run with -s), not asserted: they depend on the machine. (That a full queue answers 503 is tested without
timing in test_api.py.)"""

import json
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import ROOT, SAMPLE, serve, write_trips

pytestmark = pytest.mark.slow

QUESTIONS = [  # (question, the article its first citation must come from)
    ("Wer leitete die Wirtschaftsdelegation nach Japan?", "leipzig-japan"),
    ("Welche Städte besuchte die Berliner Delegation in den USA?", "berlin-senat-usa-2024"),
    ("Wie viele Vertreter begleiteten Westhagemann nach Israel?", "hamburg-israel-2019"),
    ("Who led the trade delegation to Japan?", "leipzig-japan"),
]
MAX_PENDING = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLE, corpus / "sample")
    url, proc, log = serve(tmp_path_factory, corpus, f"server:\n  max_pending: {MAX_PENDING}\n")
    yield url, log.parent
    proc.terminate()
    proc.wait(timeout=20)


def _ask(url: str, question: str):
    request = urllib.request.Request(f"{url}/api/ask", data=json.dumps({"question": question}).encode(),
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, json.loads(r.read()), r.headers, time.perf_counter() - start
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers, time.perf_counter() - start


def _burst(url: str, n: int):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda i: (i, *_ask(url, QUESTIONS[i % len(QUESTIONS)][0])), range(n)))


def test_twenty_concurrent_questions_are_all_answered_with_correct_citations(server):
    results = _burst(server[0], 20)
    for i, status, body, _, _ in results:
        assert status == 200, body
        expected = QUESTIONS[i % len(QUESTIONS)][1]
        assert body["citations"] and body["citations"][0]["doc_id"] == expected
        assert all(1 <= c["n"] <= len(body["contexts"]) and c["quotes"] for c in body["citations"])
        assert all(q in c["text"] for c in body["citations"] for q in c["quotes"])
    seconds = sorted(r[4] for r in results)
    print(f"\n20 concurrent /api/ask: p50 {statistics.median(seconds):.2f} s, p95 {seconds[18]:.2f} s, max {seconds[-1]:.2f} s")


def test_fifty_concurrent_clients_get_answers_or_503_with_retry_after(server):
    results = _burst(server[0], 50)
    statuses = [r[1] for r in results]
    assert set(statuses) <= {200, 503}, statuses
    assert all(r[3].get("Retry-After") for r in results if r[1] == 503)
    for i, status, body, _, _ in results:
        if status == 200:
            assert body["citations"][0]["doc_id"] == QUESTIONS[i % len(QUESTIONS)][1]
    seconds = sorted(r[4] for r in results)
    print(f"\n50 concurrent /api/ask: {statuses.count(200)} answered, {statuses.count(503)} told to retry; "
          f"p50 {statistics.median(seconds):.2f} s, p95 {float(np.percentile(seconds, 95)):.2f} s, max {seconds[-1]:.2f} s")


def test_a_burst_beyond_the_queue_gets_503_with_retry_after_and_the_server_recovers(server):
    url = server[0]
    results = _burst(url, 3 * MAX_PENDING)
    statuses = [r[1] for r in results]
    busy = [r for r in results if r[1] == 503]
    assert set(statuses) <= {200, 503} and statuses.count(200) >= MAX_PENDING, statuses
    assert all(r[3].get("Retry-After") == "2" and "try again" in r[2]["detail"] for r in busy)
    print(f"\n{len(results)} at once: {statuses.count(200)} answered, {len(busy)} told to retry")
    status, body, _, _ = _ask(url, QUESTIONS[0][0])
    assert status == 200 and body["citations"]


def test_questions_are_answered_while_an_ingest_runs_and_then_see_its_articles(server, tmp_path):
    """`delegations ingest` into the served data dir from another process, questions all the while."""
    url, data = server
    trips = write_trips(tmp_path / "trips", n=30)
    ingest = subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(trips), "--data-dir", str(data), "--json"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = []
    while ingest.poll() is None:
        status, body, _, took = _ask(url, QUESTIONS[len(seconds) % len(QUESTIONS)][0])
        assert status == 200 and body["citations"], body
        seconds.append(took)
    assert ingest.returncode == 0, ingest.stderr.read()
    assert len(seconds) >= 5
    print(f"\n{len(seconds)} questions during the ingest: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
    status, body, _, _ = _ask(url, "Wohin reiste die Delegation Nummer 17?")
    assert status == 200 and "Nummer 17" in body["answer"] and "Quito" in body["answer"]
