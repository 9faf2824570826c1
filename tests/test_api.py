"""The HTTP API as intranet tools call it: ask, stream, health, token auth, size limits, filters, history."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

TOKEN = "test-token-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(assistant):
    from web.server import create_app

    settings = assistant.ws.settings.model_copy(deep=True)
    settings.server.api_token = TOKEN
    with TestClient(create_app(settings, assistant)) as c:
        yield c


def _events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_every_api_call_needs_the_token_and_health_says_only_whether_it_is_up(client):
    anonymous = client.get("/api/health")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    assert client.get("/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.post("/api/ask", json={"question": "Wer leitete die Delegation nach Japan?"})
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_health_reports_the_index_and_backend(client):
    body = client.get("/api/health", headers=AUTH).json()
    assert body["status"] == "ok" and body["documents"] == 5 and body["chunks"] > 5
    assert body["backend"] == "extractive" and body["backend_reachable"] is True


def test_ask_returns_the_cli_json_with_citations(client):
    response = client.post("/api/ask", headers=AUTH,
                           json={"question": "Welche Städte besuchte die Berliner Delegation in den USA?"})
    body = response.json()
    assert response.status_code == 200
    for city in ("New York", "Boston", "Los Angeles"):
        assert city in body["answer"]
    assert body["citations"][0]["doc_id"] == "berlin-senat-usa-2024" and "[1]" in body["answer"]
    assert set(body) >= {"question", "answer", "refused", "backend", "citations", "contexts", "timings_ms"}


def test_stream_sends_deltas_then_the_same_answer(client):
    question = {"question": "Wer leitete die Wirtschaftsdelegation nach Japan?"}
    with client.stream("POST", "/api/ask/stream", headers=AUTH, json=question) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and kinds.count("delta") >= 1 and set(kinds) == {"delta", "answer"}
    final = events[-1][1]
    assert "".join(d["text"] for k, d in events if k == "delta") == final["answer"]
    assert final["answer"] == client.post("/api/ask", headers=AUTH, json=question).json()["answer"]


def test_oversized_and_empty_questions_are_rejected_with_a_message(client):
    response = client.post("/api/ask", headers=AUTH, json={"question": "x" * 2001})
    assert response.status_code == 422 and "2000" in response.json()["detail"]
    response = client.post("/api/ask", headers=AUTH, json={"question": ""})
    assert response.status_code == 422
    response = client.post("/api/ask", headers=AUTH, json={"question": "Japan?", "filters": {"date_from": "gestern"}})
    assert response.status_code == 422 and "YYYY" in response.json()["detail"]
    response = client.post("/api/ask", headers=AUTH, content=b"{not json", )
    assert response.status_code == 422


def test_filters_restrict_the_articles(client):
    body = client.post("/api/ask", headers=AUTH, json={"question": "Wer leitete die Delegation?",
                                                       "filters": {"doc_ids": ["hamburg-israel-2019"]}}).json()
    assert {c["doc_id"] for c in body["contexts"]} == {"hamburg-israel-2019"}
    body = client.post("/api/ask", headers=AUTH, json={"question": "Wohin reiste die Delegation?",
                                                       "filters": {"date_from": "2024-01"}}).json()
    assert body["contexts"] and all(c["date"] >= "2024" for c in body["contexts"])


def test_empty_filters_leave_list_questions_to_the_trip_register(client):
    question = "Welche Delegationen reisten nach Israel?"
    bare = client.post("/api/ask", headers=AUTH, json={"question": question}).json()
    empty = client.post("/api/ask", headers=AUTH, json={"question": question, "filters": {}}).json()
    assert bare["generation"] == empty["generation"] == "trip_register"
    assert empty["answer"] == bare["answer"] and "2 Reisen" in empty["answer"]


def test_filters_narrow_the_trip_register_answer(client):
    """A list question with filters is still the register's: the trips reported in the admitted articles only."""
    question = "Welche Delegationen reisten nach Israel?"
    one = client.post("/api/ask", headers=AUTH, json={"question": question,
                                                      "filters": {"doc_ids": ["hamburg-israel-2019"]}}).json()
    assert one["generation"] == "trip_register" and "1 Reise " in one["answer"]
    assert {c["doc_id"] for c in one["citations"]} == {"hamburg-israel-2019"}
    later = client.post("/api/ask", headers=AUTH, json={"question": question, "filters": {"date_from": "2030-01-01"}}).json()
    assert later["generation"] == "trip_register" and later["refused"] and "keine Reise" in later["answer"]


def test_history_makes_a_follow_up_standalone(client):
    history = [{"role": "user", "content": "Wer leitete die Wirtschaftsdelegation nach Japan?"},
               {"role": "assistant", "content": "Uwe Albrecht leitete sie. [1]"}]
    body = client.post("/api/ask", headers=AUTH, json={"question": "Und wer war noch dabei?", "history": history}).json()
    assert "Japan" in body["standalone_question"]
    assert body["contexts"][0]["doc_id"] == "leipzig-japan"


def test_chat_page_and_openapi_docs_are_served_to_whoever_the_door_lets_in(client):
    assert client.get("/", headers=AUTH).status_code == 200
    assert client.get("/docs", headers=AUTH).status_code == 200
    assert "/api/ask" in client.get("/openapi.json", headers=AUTH).json()["paths"]
    for path in ("/", "/docs", "/openapi.json"):
        assert client.get(path).status_code == 401
    page = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/"


def test_password_hashes_check_and_malformed_user_lists_are_refused():
    from web.auth import check_password, hash_password, parse_users

    stored = hash_password("correct horse", iterations=1000)
    assert check_password("correct horse", stored) and not check_password("wrong", stored)
    assert parse_users(f"alice:{stored}") == {"alice": stored}
    with pytest.raises(ValueError, match="hash-password"):
        parse_users("alice:plaintext")


def test_article_text_is_escaped_in_chat_and_sources():
    import ui

    text = 'Sie sagte <script>alert(1)</script> und <img src=x onerror=alert(2)> [1].'
    rendered = ui.answer_markdown(text)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered and "<img" not in rendered
    assert '<a href="#quelle-1"' in rendered
    html = ui.sources_html({"question": "q", "refused": False, "citations": [
        {"n": 1, "doc_id": "x", "title": "<b>T</b>", "date": None, "source": "s", "text": text, "quotes": [text]}]})
    assert "<script>" not in html and "<b>T</b>" not in html and "<mark>" in html


def test_an_upload_is_shown_by_its_name_not_its_path_in_the_data_dir(tmp_path):
    import ui

    assert ui._shown_source(str(tmp_path / "uploads" / "bericht.html"), (tmp_path / "uploads").resolve()) == "Upload: bericht.html"
    assert ui._shown_source("corpus/sample/leipzig-japan.txt", (tmp_path / "uploads").resolve()) == "corpus/sample/leipzig-japan.txt"


def test_behind_a_reverse_proxy_sub_path(assistant):
    from web.server import create_app

    settings = assistant.ws.settings.model_copy(deep=True)
    settings.server.root_path = "/assistent"
    with TestClient(create_app(settings, assistant), root_path="/assistent") as c:
        assert c.get("/api/health").status_code == 200
        assert c.get("/openapi.json").json()["servers"][0]["url"] == "/assistent"
        assert c.get("/").status_code == 200


def test_cors_allowlist_admits_only_listed_origins(assistant):
    from web.server import create_app

    settings = assistant.ws.settings.model_copy(deep=True)
    settings.server.cors_origins = ["https://intranet.example.org"]
    with TestClient(create_app(settings, assistant)) as c:
        ok = c.options("/api/ask", headers={"Origin": "https://intranet.example.org", "Access-Control-Request-Method": "POST"})
        assert ok.headers.get("access-control-allow-origin") == "https://intranet.example.org"
        other = c.options("/api/ask", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
        assert other.headers.get("access-control-allow-origin") != "https://evil.example.com"


def test_a_full_queue_answers_503_with_retry_after_and_admits_again_when_it_drains(tmp_path):
    """Two questions held inside the assistant fill a queue of two: the third is turned away at once."""
    import threading

    from settings import load_settings
    from web.api import create_api

    inside, release = threading.Semaphore(0), threading.Event()

    class HeldAssistant:
        class ws:
            settings = load_settings(env={}, data_dir=str(tmp_path))

        def answer(self, *args):
            inside.release()
            release.wait(timeout=30)
            from assistant.answer import Answer

            return Answer("q", "Antwort [1].", False, "extractive", [], [], {})

    settings = HeldAssistant.ws.settings.model_copy(deep=True)
    settings.server.max_pending = 2
    api = TestClient(create_api(HeldAssistant(), settings))
    held = [threading.Thread(target=api.post, args=("/api/ask",), kwargs={"json": {"question": "Wer?"}}) for _ in range(2)]
    for thread in held:
        thread.start()
    assert inside.acquire(timeout=30) and inside.acquire(timeout=30)  # both are being answered
    turned_away = api.post("/api/ask", json={"question": "Wer?"})
    assert turned_away.status_code == 503 and turned_away.headers["retry-after"] == "2"
    assert "try again" in turned_away.json()["detail"]
    release.set()
    for thread in held:
        thread.join(timeout=30)
    assert api.post("/api/ask", json={"question": "Wer?"}).status_code == 200


def test_trips_route_filters_and_cites(client):
    # the register the ingest read (the session's sample index: other tests' answers depend on it, so it is
    # not replaced here)
    assert client.get("/api/trips").status_code == 401
    body = client.get("/api/trips", headers=AUTH, params={"to": "Vereinigte Staaten"}).json()
    (trip,) = body["trips"]
    assert [d["place"] for d in trip["destinations"]] == ["New York", "Boston", "Los Angeles"]
    assert trip["leaders"][0]["name"] == "Kai Wegner" and trip["leaders"][0]["quote"] == "Kai Wegner"
    assert len(client.get("/api/trips", headers=AUTH, params={"year": 2019}).json()["trips"]) == 3
    made = client.get("/api/trips", headers=AUTH, params={"year": 2019, "status": "made"}).json()["trips"]
    assert len(made) == 3 and {t["status"] for t in made} == {"made"}
    assert client.get("/api/trips", headers=AUTH, params={"status": "postponed"}).json()["trips"] == []
    assert client.get("/api/trips", headers=AUTH, params={"status": "geplant"}).status_code == 422
    bad = client.get("/api/trips", headers=AUTH, params={"date_from": "letzte Woche"})
    assert bad.status_code == 422 and "YYYY" in bad.json()["detail"]
    assert "/api/trips" in client.get("/openapi.json", headers=AUTH).json()["paths"]
