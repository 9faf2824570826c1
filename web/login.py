"""The chat's sign-in: a page at /login, the form's POST, and /logout.

The password is checked in a worker thread (PBKDF2 takes a tenth of a second: never on the event loop), an
unknown user as slowly as a known one, and only after the brake on guessing (web/sessions.py) lets the try
through; every refusal is logged with the user name and address. A right password opens a session whose id
goes into an HttpOnly, SameSite=Lax cookie with an expiry, Secure when the request came over https (behind a
proxy: X-Forwarded-Proto from `server.forwarded_allow_ips`).
"""

from __future__ import annotations

import html
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web.auth import SESSION_COOKIE, session_from

log = logging.getLogger("delegations.auth")
router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Anmeldung – Delegations-Assistent</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f5f5f7; display: flex; justify-content: center; margin-top: 12vh; }}
form {{ background: white; padding: 28px 32px; border-radius: 10px; box-shadow: 0 2px 12px #0002; width: 320px; }}
h1 {{ font-size: 1.2em; margin: 0 0 16px; }}
label {{ display: block; margin: 12px 0 4px; font-size: 0.9em; }}
input {{ width: 100%; box-sizing: border-box; padding: 8px; font-size: 1em; }}
button {{ margin-top: 18px; width: 100%; padding: 9px; font-size: 1em; background: #f97316; color: white; border: 0; border-radius: 6px; }}
.problem {{ color: #b42318; font-size: 0.9em; }}
.hint {{ color: #555; font-size: 0.85em; }}
</style></head>
<body><form method="post" action="{action}">
<h1>Delegations-Assistent</h1>
{problem}
<label for="username">Benutzername</label><input id="username" name="username" type="text" autocomplete="username" required value="{username}">
<label for="password">Passwort</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
<button type="submit">Anmelden</button>
{hint}
</form></body></html>
"""


def _page(request: Request, status: int = 200, problem: str = "", username: str = "", next_path: str = "/",
          headers: dict | None = None) -> HTMLResponse:
    credentials = request.app.state.credentials
    hint = "" if credentials.users else ('<p class="hint">Für den Chat sind keine Anmeldungen eingerichtet; die API '
                                         'nimmt ein Token (Authorization: Bearer …).</p>')
    body = PAGE.format(action=html.escape(f"{request.scope.get('root_path', '')}/login"), username=html.escape(username),
                       next=html.escape(next_path), hint=hint,
                       problem=f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else "")
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _local(next_path: str) -> str:
    """Where to go after signing in: a path of this site only (no open redirect to another host)."""
    parts = urlsplit(next_path or "/")
    if parts.scheme or parts.netloc or not (parts.path or "/").startswith("/") or next_path.startswith("//"):
        return "/"
    return next_path


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, next_path=_local(next))


@router.post("/login")
def login(request: Request, username: str = Form("", max_length=200), password: str = Form("", max_length=1000),
          next: str = Form("/", max_length=2000)):
    """A sync route: FastAPI runs it in a worker thread, so the slow hash never blocks the event loop."""
    credentials, sessions = request.app.state.credentials, request.app.state.sessions
    user, address = username.strip(), request.client.host if request.client else "unknown"
    keys = [f"user:{user.lower()}", f"addr:{address}"]
    wait = sessions.retry_after(keys)
    if wait:
        log.warning("Login as %r from %s refused: too many wrong passwords in the last minute", user, address)
        return _page(request, 429, f"Zu viele Fehlversuche; bitte in {wait} s erneut versuchen.", user, _local(next),
                     {"Retry-After": str(wait)})
    if not credentials.password_ok(user, password):
        sessions.failed(keys)
        log.warning("Wrong user name or password for %r from %s", user, address)
        return _page(request, 401, "Benutzername oder Passwort ist falsch.", user, _local(next))
    sessions.succeeded(keys[0])
    log.info("%s signed in from %s", user, address)
    response = RedirectResponse(f"{request.scope.get('root_path', '')}{_local(next)}", status_code=303)
    response.set_cookie(SESSION_COOKIE, sessions.open(user), max_age=int(sessions.seconds),
                        path=request.scope.get("root_path") or "/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> RedirectResponse:
    session_id = session_from(request.headers)
    if session_id:
        request.app.state.sessions.close(session_id)
    response = RedirectResponse(f"{request.scope.get('root_path', '')}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=request.scope.get("root_path") or "/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response
