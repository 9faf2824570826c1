"""The one door, probed as an outside tester would: raw HTTP to every route the server exposes (the chat page,
Gradio's own API and file routes, /api/*, /docs), in each configuration — open, API tokens only, chat logins
only, both — with anonymous callers, readers and admins, from this site and from a foreign one."""

from __future__ import annotations

import re
import threading
import time

import pytest
from fastapi.testclient import TestClient

READER_TOKEN, ADMIN_TOKEN = "reader-7Qm2-token", "admin-9Xk4-token"
PASSWORDS = {"alice": "kennwort-alice-1", "bob": "kennwort-bob-22"}  # alice is an admin, bob a reader
OPEN_PATHS = {"/login", "/logout", "/api/health"}


def _hashes() -> str:
    from web.auth import hash_password

    return ",".join(f"{user}:{hash_password(password)}" for user, password in PASSWORDS.items())


@pytest.fixture(scope="module")
def user_hashes():
    return _hashes()  # PBKDF2 with 600,000 rounds: made once


def _app(assistant, **server):
    """The served app over this assistant's index, with these server settings, and no sessions or failed logins
    left from an earlier test."""
    from sqlalchemy import delete

    from web.server import create_app
    from web.sessions import login_failures, sessions

    settings = assistant.ws.settings.model_copy(deep=True)
    for key, value in server.items():
        setattr(settings.server, key, value)
    app = create_app(settings, assistant)
    with app.state.sessions.engine.begin() as db:
        db.execute(delete(login_failures))
        db.execute(delete(sessions))
    return app


@pytest.fixture(scope="module")
def configs(assistant, user_hashes):
    """One app per configuration over the sample index."""
    return {
        "tokens": _app(assistant, api_token=READER_TOKEN, admin_token=ADMIN_TOKEN),
        "logins": _app(assistant, ui_users=user_hashes, ui_admins="alice"),
        "both": _app(assistant, api_token=READER_TOKEN, admin_token=ADMIN_TOKEN, ui_users=user_hashes, ui_admins="alice"),
    }


def _routes(app) -> list[tuple[str, str]]:
    """(method, concrete path) of every route of the app and of the apps mounted in it."""
    out = []

    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "effective_route_contexts"):  # a router included lazily (FastAPI 0.16x)
                walk(list(route.effective_route_contexts()), prefix)
                continue
            sub = getattr(route, "routes", None) or getattr(getattr(route, "app", None), "routes", None)
            if sub is not None and not hasattr(route, "methods"):
                walk(sub, prefix + getattr(route, "path", ""))
                continue
            path = prefix + getattr(route, "path", "")
            for method in getattr(route, "methods", None) or ["GET"]:
                if method != "HEAD":
                    out.append((method, re.sub(r"\{[^}]+\}", "x", path).replace("//", "/") or "/"))

    walk(app.routes)
    return sorted(set(out))


def _sign_in(client, user: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": user, "password": PASSWORDS[user]}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _gradio_call(client, api_name: str, data: list, **kw):
    """Call one of the chat's functions the way Gradio's client does: join, then read the event stream."""
    r = client.post(f"/gradio_api/call/{api_name}", json={"data": data}, **kw)
    if r.status_code != 200:
        return r.status_code, r.text
    event = r.json()["event_id"]
    return 200, client.get(f"/gradio_api/call/{api_name}/{event}", **kw).text


# --- nothing is open to an anonymous caller once a credential is configured ------------------------------

@pytest.mark.parametrize("config", ["tokens", "logins", "both"])
def test_with_a_credential_no_route_answers_an_anonymous_request(configs, config):
    app = configs[config]
    routes = _routes(app)
    assert ("POST", "/gradio_api/queue/join") in routes and ("POST", "/api/documents") in routes
    assert ("GET", "/gradio_api/file=x") in routes and ("GET", "/docs") in routes and ("GET", "/") in routes
    with TestClient(app) as client:
        answered = []
        for method, path in routes:
            if path in OPEN_PATHS:
                continue
            r = client.request(method, path, json={"question": "Wer?", "data": [""]}, follow_redirects=False)
            if r.status_code != 401:
                answered.append((method, path, r.status_code))
        assert answered == []
        page = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert client.get("/api/health").json() == {"status": "ok"}  # up or not, nothing more
        assert client.get("/login").status_code == 200


def test_api_tokens_only_the_chat_is_closed_to_anonymous_callers_of_gradios_api(configs):
    """The hole that was: with only API tokens set, Gradio's own endpoints listed and deleted documents."""
    with TestClient(configs["tokens"]) as client:
        assert _gradio_call(client, "search", [""])[0] == 401
        assert _gradio_call(client, "delete", ["leipzig-japan", "", 0])[0] == 401
        assert client.post("/gradio_api/queue/join", json={"fn_index": 8, "data": [""], "session_hash": "x"}).status_code == 401
        # a reader token gets in, but no document: the handler asks for an admin
        status, body = _gradio_call(client, "search", [""], headers={"Authorization": f"Bearer {READER_TOKEN}"})
        assert status == 200 and "event: error" in body and "leipzig-japan" not in body
        status, body = _gradio_call(client, "search", [""], headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert status == 200 and "leipzig-japan" in body


def test_chat_logins_only_the_api_needs_a_login_and_documents_an_admin(configs):
    with TestClient(configs["logins"]) as client:
        client.cookies.clear()
        for method, path in (("GET", "/api/documents"), ("POST", "/api/ask"), ("DELETE", "/api/documents/leipzig-japan")):
            assert client.request(method, path, json={"question": "Wer?"}).status_code == 401
        _sign_in(client, "bob")
        assert client.post("/api/ask", json={"question": "Wer leitete die Delegation nach Japan?"}).status_code == 200
        assert client.get("/api/documents").status_code == 403
        assert client.delete("/api/documents/leipzig-japan").status_code == 403
        status, body = _gradio_call(client, "search", [""])
        assert status == 200 and "leipzig-japan" not in body
        _sign_in(client, "alice")
        assert "leipzig-japan" in {d["id"] for d in client.get("/api/documents").json()["documents"]}
        client.get("/logout")
        assert client.get("/api/documents").status_code == 401  # the session is gone on the server too


def test_tokens_and_logins_combine_and_a_personal_token_acts_as_its_user(assistant, user_hashes):
    from web.auth import hash_token

    app = _app(assistant, api_token=READER_TOKEN, ui_users=user_hashes, ui_admins="alice",
               user_tokens=f"alice:{hash_token('alice-own-token')},carl:{hash_token('carl-own-token')}")
    with TestClient(app) as client:
        assert client.get("/api/documents", headers={"Authorization": "Bearer alice-own-token"}).status_code == 200
        assert client.get("/api/documents", headers={"Authorization": "Bearer carl-own-token"}).status_code == 403
        assert client.get("/api/documents", headers={"Authorization": f"Bearer {READER_TOKEN}"}).status_code == 403
        assert client.get("/api/health", headers={"Authorization": "Bearer alice-own-token"}).json()["documents"] == 5
        for wrong in ("Bearer alice-own-tokeN", "alice-own-token", "Basic YWxpY2U6eA==", "Bearer "):
            assert client.get("/api/health", headers={"Authorization": wrong}).status_code == 401
        _sign_in(client, "bob")  # a login and the reader token side by side
        assert client.post("/api/ask", json={"question": "Wer?"}).status_code in (200, 422)


# --- cross-site requests --------------------------------------------------------------------------------

def test_cors_never_echoes_a_foreign_origin_and_gradio_adds_no_headers_of_its_own(assistant, user_hashes):
    app = _app(assistant, ui_users=user_hashes, ui_admins="alice", cors_origins=["https://intranet.example.org"])
    with TestClient(app, base_url="https://assistant.example.org") as client:
        _sign_in(client, "alice")
        evil = {"Origin": "https://evil.example.com"}
        for path in ("/api/documents", "/gradio_api/info", "/config"):
            r = client.get(path, headers=evil)
            assert "access-control-allow-origin" not in r.headers and "access-control-allow-credentials" not in r.headers, path
        assert client.options("/api/documents", headers={**evil, "Access-Control-Request-Method": "GET"}).headers.get(
            "access-control-allow-origin") is None
        friend = client.get("/api/health", headers={"Origin": "https://intranet.example.org"})
        assert friend.headers["access-control-allow-origin"] == "https://intranet.example.org"
        assert friend.headers["access-control-allow-credentials"] == "true"


def test_the_login_cookie_is_httponly_lax_with_an_expiry_and_secure_over_https(assistant, user_hashes):
    app = _app(assistant, ui_users=user_hashes)
    for base, secure in (("https://assistant.example.org", True), ("http://127.0.0.1:7860", False)):
        with TestClient(app, base_url=base) as client:
            r = client.post("/login", data={"username": "bob", "password": PASSWORDS["bob"]}, follow_redirects=False)
            cookies = r.headers.get_list("set-cookie")
            assert len(cookies) == 1, cookies  # one cookie, not a second without Secure
            flags = cookies[0].lower()
            assert "httponly" in flags and "samesite=lax" in flags and "max-age=43200" in flags
            assert ("; secure" in flags) is secure
    # behind the documented proxy: X-Forwarded-Proto from a trusted address makes it Secure (uvicorn's proxy
    # headers, tested in test_serve_safety.py against the real server)


def test_a_cookie_borne_change_from_another_site_is_refused(assistant, user_hashes):
    app = _app(assistant, ui_users=user_hashes, ui_admins="alice")
    with TestClient(app, base_url="https://assistant.example.org") as client:
        _sign_in(client, "alice")
        files = {"files": ("evil.txt", b"Fremd\n\nDie Delegation reiste nach Atlantis.", "text/plain")}
        for headers in ({"Origin": "https://evil.example.com"}, {"Referer": "https://evil.example.com/page"},
                        {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
            assert client.post("/api/documents", files=files, headers=headers).status_code == 403, headers
            assert client.delete("/api/documents/leipzig-japan", headers=headers).status_code == 403, headers
            assert client.post("/gradio_api/queue/join", json={}, headers=headers).status_code == 403, headers
        assert client.get("/api/documents/leipzig-japan").status_code == 200  # still there
        ok = client.post("/api/ask", json={"question": "Wer?"}, headers={"Origin": "https://assistant.example.org"})
        assert ok.status_code in (200, 422)


def test_open_mode_refuses_a_cross_site_upload_and_a_token_request_needs_no_origin(tmp_path):
    """Open (loopback) mode: a page on another site must not be able to post into the index."""
    from conftest import make_workspace
    from assistant.service import Assistant

    ws = make_workspace(tmp_path / "data")
    app = _app(Assistant(ws))
    with TestClient(app, base_url="http://127.0.0.1:7860") as client:
        files = {"files": ("evil.txt", b"Fremd\n\nDie Delegation reiste nach Atlantis.", "text/plain")}
        r = client.post("/api/documents", files=files, headers={"Origin": "http://evil.example.com"})
        assert r.status_code == 403 and "Cross-site" in r.json()["detail"]
        assert client.get("/api/documents").json()["total"] == 0
    token_app = _app(Assistant(ws), api_token=READER_TOKEN)
    with TestClient(token_app) as client:  # a script with a token, wherever it runs, is no browser riding a cookie
        r = client.post("/api/ask", json={"question": "Wer?"}, headers={"Origin": "http://tool.example.com",
                                                                        "Authorization": f"Bearer {READER_TOKEN}"})
        assert r.status_code != 403


# --- login ----------------------------------------------------------------------------------------------

def test_five_wrong_passwords_a_minute_then_429_even_for_the_right_one(assistant, user_hashes, caplog):
    app = _app(assistant, ui_users=user_hashes)
    with TestClient(app) as client:
        for _ in range(5):
            r = client.post("/login", data={"username": "bob", "password": "falsch"}, follow_redirects=False)
            assert r.status_code == 401 and "falsch" in r.text
        r = client.post("/login", data={"username": "bob", "password": PASSWORDS["bob"]}, follow_redirects=False)
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 61
        assert "Wrong user name or password for 'bob'" in caplog.text and "refused: too many" in caplog.text


def test_guessing_across_user_names_from_one_address_is_braked_too(assistant, user_hashes):
    app = _app(assistant, ui_users=user_hashes)
    with TestClient(app) as client:
        for name in ("admin", "root", "test", "guest", "max"):
            client.post("/login", data={"username": name, "password": "x"})
        r = client.post("/login", data={"username": "alice", "password": PASSWORDS["alice"]}, follow_redirects=False)
        assert r.status_code == 429


def test_an_unknown_user_costs_the_same_hash_as_a_known_one(assistant, user_hashes, monkeypatch):
    """Usernames cannot be found by timing: the unknown user's password goes through PBKDF2 at full strength."""
    import hashlib

    import web.auth

    app = _app(assistant, ui_users=user_hashes)
    rounds = []
    real = hashlib.pbkdf2_hmac
    monkeypatch.setattr(web.auth.hashlib, "pbkdf2_hmac", lambda *a: rounds.append(a[3]) or real(*a))
    with TestClient(app) as client:
        client.post("/login", data={"username": "nobody-here", "password": "x"})
        client.post("/login", data={"username": "bob", "password": "x"})
    assert rounds == [web.auth.PASSWORD_ITERATIONS] * 2


def test_a_password_check_does_not_hold_up_the_server(assistant, user_hashes, monkeypatch):
    """While a login's password check runs (held here), other requests are answered: it is off the event loop."""
    import web.auth

    app = _app(assistant, ui_users=user_hashes)
    inside, release = threading.Event(), threading.Event()
    real = web.auth.check_password

    def slow(password, stored):
        inside.set()
        release.wait(30)
        return real(password, stored)

    monkeypatch.setattr(web.auth, "check_password", slow)
    with TestClient(app) as client:
        login = threading.Thread(target=client.post, args=("/login",), kwargs={"data": {"username": "bob", "password": "x"}})
        login.start()
        assert inside.wait(30)
        started = time.monotonic()
        health = client.get("/api/health")  # would wait for the held check (30 s) if it ran on the event loop
        answered_in = time.monotonic() - started
        release.set()
        login.join(30)
    assert health.status_code == 200 and answered_in < 10


def test_after_login_only_a_path_of_this_site_is_followed(assistant, user_hashes):
    app = _app(assistant, ui_users=user_hashes)
    with TestClient(app) as client:
        for target, expected in (("/?x=1", "/?x=1"), ("https://evil.example.com/", "/"), ("//evil.example.com", "/")):
            r = client.post("/login", data={"username": "bob", "password": PASSWORDS["bob"], "next": target},
                            follow_redirects=False)
            assert r.headers["location"] == expected


# --- who picks the backend ------------------------------------------------------------------------------

def test_a_request_may_not_pick_a_backend_the_settings_do_not_allow(assistant):
    with TestClient(_app(assistant, api_token=READER_TOKEN)) as client:
        auth = {"Authorization": f"Bearer {READER_TOKEN}"}
        for path in ("/api/ask", "/api/ask/stream"):
            r = client.post(path, headers=auth, json={"question": "Wer leitete die Delegation nach Japan?", "backend": "llamacpp"})
            assert r.status_code == 403 and "server.request_backends" in r.json()["detail"]
        same = client.post("/api/ask", headers=auth, json={"question": "Wer leitete die Delegation nach Japan?",
                                                          "backend": "extractive"})
        assert same.status_code == 200  # the configured one may always be named
    with TestClient(_app(assistant, request_backends=["ollama"])) as client:
        r = client.post("/api/ask", json={"question": "Wer leitete die Delegation nach Japan?", "backend": "ollama"})
        assert r.status_code != 403  # allowed (the host is not there: the fallback or a 503, never a refusal)


# --- bad input gets 400/413/422, never 500 ---------------------------------------------------------------

def test_bad_names_offsets_and_unreadable_files_get_their_status_not_500(tmp_path):
    from assistant.service import Assistant
    from conftest import make_workspace

    ws = make_workspace(tmp_path / "data")
    app = _app(Assistant(ws), max_upload_articles=3)
    with TestClient(app) as client:
        long_name = "a" * 300 + ".txt"
        r = client.post("/api/documents", files={"files": (long_name, b"Titel\n\nText.", "text/plain")})
        assert r.status_code == 400 and "file name" in r.json()["detail"]
        for query in ("offset=99999999999999999999999", "limit=0", "offset=-1", "limit=abc"):
            assert client.get(f"/api/documents?{query}").status_code == 400, query
        junk = b"\n".join(b"{not json %d" % i for i in range(3))
        r = client.post("/api/documents", files={"files": ("junk.jsonl", junk, "application/json")})
        assert r.status_code == 422 and len(r.content) < 1000 and "Nothing was indexed" in r.json()["detail"]
        many = b"\n".join(b'{"id": "a%d", "text": "Die Delegation reiste nach Lima."}' % i for i in range(4))
        r = client.post("/api/documents", files={"files": ("many.jsonl", many, "application/json")})
        assert r.status_code == 413 and "max_upload_articles" in r.json()["detail"]
        assert client.get("/api/documents").json()["total"] == 0


def test_the_chats_upload_limit_is_the_apis(assistant):
    """The chat took 2 MB while its tab said 20: now both take server.max_upload_mb, and no more."""
    with TestClient(_app(assistant, max_upload_mb=4)) as client:
        three = {"files": ("drei.txt", b"Die Delegation reiste nach Lima. " * 95_000, "text/plain")}
        assert client.post("/gradio_api/upload", files=three).status_code == 200
        five = {"files": ("fuenf.txt", b"Die Delegation reiste nach Lima. " * 160_000, "text/plain")}
        assert client.post("/gradio_api/upload", files=five).status_code == 413


def test_without_a_credential_the_server_listens_on_loopback_only_and_says_it_is_open(caplog):
    from settings import load_settings
    from web.server import bind_host

    with caplog.at_level("WARNING", logger="delegations.serve"):
        assert bind_host(load_settings(env={}, server={"host": "0.0.0.0"})) == "127.0.0.1"
    assert "open to anyone on this machine" in caplog.text and "instead of 0.0.0.0" in caplog.text
    configured = load_settings(env={"DELEGATIONS_API_TOKEN": "t" * 32}, server={"host": "0.0.0.0"})
    assert bind_host(configured) == "0.0.0.0"
