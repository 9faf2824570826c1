"""The server's one door: every request — the chat page, Gradio's own API and file routes, /api/*, /docs — is
decided here, once, as anonymous, a reader or an admin.

Who is who: a Bearer token (the reader token `api_token`, the admin token `admin_token`, or a user's personal
token from `user_tokens`, which acts as that user), or a login session (the chat's sign-in at /login sets an
HttpOnly cookie; web/login.py). When any credential is configured, an anonymous request reaches nothing but
/login, /logout and a minimal /api/health. When none is, everyone is the admin, and the server binds to
loopback only (web/server.py).

Admins only: /api/documents (list, read, upload, delete) and Gradio's file upload (only the Dokumente tab
uploads); the Dokumente tab's handlers check the role again, as a hidden tab is no permission.

Cross-site requests: a state-changing request carried by a cookie (or by nothing, in open mode) must come
from this site or one of `server.cors_origins` (its Origin, else its Referer; a browser's Sec-Fetch-Site:
cross-site without either is refused). A Bearer request is not sent by a browser on its own and needs no
such check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers

from settings import ServerSettings

log = logging.getLogger("delegations.auth")

SESSION_COOKIE = "delegations_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/login", "/logout", "/api/health"})
ADMIN_PREFIXES = ("/api/documents", "/gradio_api/upload")
PASSWORD_ITERATIONS = 600_000  # PBKDF2-SHA256, OWASP's figure for 2023


@dataclass(frozen=True)
class Principal:
    """Who a request is: a user's name (or ':reader-token', ':admin-token', ':local'), its role, and how it
    was recognised."""

    name: str
    role: str  # "reader" | "admin"
    via: str  # "token" | "session" | "open"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


LOCAL = Principal(":local", "admin", "open")  # no credential configured: whoever reaches loopback


def hash_password(password: str, iterations: int = PASSWORD_ITERATIONS) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(got, digest)


def hash_token(token: str) -> str:
    """What `user_tokens` stores of a personal token: a random token needs no slow hash, only not to be kept."""
    return "sha256$" + hashlib.sha256(token.encode()).hexdigest()


def _pairs(spec: str, what: str, valid) -> dict[str, str]:
    out = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, sep, stored = entry.partition(":")
        if not sep or not name or not valid(stored):
            raise ValueError(f"{what} entry {name or entry[:20]!r} is not user:hash (make it with "
                             f"`delegations {'hash-password' if what.endswith('USERS') else 'hash-token'} USER`).")
        out[name] = stored
    return out


def parse_users(spec: str) -> dict[str, str]:
    """'alice:pbkdf2_sha256$...,bob:...' -> {user: hash}; a malformed entry is a settings error."""
    return _pairs(spec, "DELEGATIONS_UI_USERS", lambda stored: stored.count("$") == 3)


def parse_user_tokens(spec: str) -> dict[str, str]:
    """'alice:sha256$<hex>,...' -> {user: hash}."""
    return _pairs(spec, "DELEGATIONS_USER_TOKENS", lambda stored: stored.startswith("sha256$") and len(stored) == 71)


def admins(spec: str) -> set[str]:
    return {name.strip() for name in spec.split(",") if name.strip()}


class Credentials:
    """Who may use the server, as the settings say: tokens, chat users with their password hashes, admins."""

    def __init__(self, server: ServerSettings):
        self.users = parse_users(server.ui_users)
        self.admins = admins(server.ui_admins)
        self._tokens: list[tuple[bytes, Principal]] = []
        if server.api_token:
            self._tokens.append((hashlib.sha256(server.api_token.encode()).digest(), Principal(":reader-token", "reader", "token")))
        if server.admin_token:
            self._tokens.append((hashlib.sha256(server.admin_token.encode()).digest(), Principal(":admin-token", "admin", "token")))
        for user, stored in parse_user_tokens(server.user_tokens).items():
            self._tokens.append((bytes.fromhex(stored.removeprefix("sha256$")), Principal(user, self.role_of(user), "token")))
        # An unknown user's password is checked against this, so that the answer takes as long as for a known one.
        self._nobody = hash_password(secrets.token_hex(16))

    @property
    def configured(self) -> bool:
        return bool(self.users or self._tokens)

    def role_of(self, name: str) -> str:
        if name in (LOCAL.name, ":admin-token") or name in self.admins:
            return "admin"
        return "reader"

    def by_token(self, token: str) -> Principal | None:
        digest, found = hashlib.sha256(token.encode()).digest(), None
        for known, principal in self._tokens:  # each one compared: the time does not tell which matched
            if hmac.compare_digest(digest, known):
                found = principal
        return found

    def password_ok(self, user: str, password: str) -> bool:
        stored = self.users.get(user)
        right = check_password(password, stored or self._nobody)
        return right and stored is not None


def principal_of(scope_or_request) -> Principal | None:
    """Who the door let in (None: anonymous, on an open path)."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    return (scope.get("state") or {}).get("principal")


def app_path(scope) -> str:
    """The path below the app's root path (behind a proxy at /assistent, '/assistent/api/ask' is '/api/ask')."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] or "/" if root and path.startswith(root) else path


class Door:
    """ASGI middleware around the whole app (API and the mounted chat)."""

    def __init__(self, app, credentials: Credentials, sessions, cors_origins: list[str]):
        self.app = app
        self.credentials = credentials
        self.sessions = sessions
        self.cors_origins = {o.rstrip("/") for o in cors_origins}

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        path, method = app_path(scope), scope.get("method", "GET")
        if method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers:
            return await self.app(scope, receive, send)  # a CORS preflight carries no credentials: CORS answers it
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/") not in self.cors_origins:
            send = _without_cors(send)  # nothing inside may grant a foreign origin anything
        principal, wrong_token = self.identify(headers)
        scope.setdefault("state", {})["principal"] = principal
        if wrong_token and path not in ("/login", "/logout"):
            return await _refuse(scope, send, 401, "Missing or wrong API token: send `Authorization: Bearer <token>`.")
        carried_by_browser = principal is None or principal.via != "token"
        if scope["type"] == "http" and method not in SAFE_METHODS and carried_by_browser and not self.same_site(headers):
            log.warning("Refused a cross-site %s %s from %s", method, path, headers.get("origin") or headers.get("referer"))
            return await _refuse(scope, send, 403, "Cross-site request refused: this site's pages (or server.cors_origins) "
                                                  "may send it, or a client with a Bearer token.")
        if path in OPEN_PATHS:
            return await self.app(scope, receive, send)
        if principal is None:
            if method in ("GET", "HEAD") and not path.startswith(("/api/", "/gradio_api/")) and "text/html" in headers.get("accept", ""):
                return await _redirect(scope, send, f"{scope.get('root_path', '')}/login?next={quote(path)}")
            return await _refuse(scope, send, 401, "Sign in first: the chat at /login, the API with "
                                                  "`Authorization: Bearer <token>`.")
        if path.startswith(ADMIN_PREFIXES) and not principal.is_admin:
            return await _refuse(scope, send, 403, "This needs an admin (the admin token, or the login or personal "
                                                  "token of a user in DELEGATIONS_UI_ADMINS); a reader may ask, "
                                                  "not manage documents.")
        await self.app(scope, receive, send)

    def identify(self, headers: Headers) -> tuple[Principal | None, bool]:
        """The principal, and whether a Bearer token was sent that matches none."""
        if not self.credentials.configured:
            return LOCAL, False
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            found = self.credentials.by_token(value.strip()) if scheme.lower() == "bearer" else None
            return found, found is None
        session_id = session_from(headers)
        user = self.sessions.user_of(session_id) if session_id else None
        if user is None:
            return None, False
        return Principal(user, self.credentials.role_of(user), "session"), False

    def same_site(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is None and headers.get("referer"):
            parts = urlsplit(headers["referer"])
            origin = f"{parts.scheme}://{parts.netloc}"
        if origin is None:  # not a browser, or a browser's own navigation
            return headers.get("sec-fetch-site") in (None, "same-origin", "none")
        if origin.rstrip("/") in self.cors_origins:
            return True
        netloc = urlsplit(origin).netloc.lower()
        return bool(netloc) and netloc == headers.get("host", "").lower()


def _without_cors(send):
    """`send` with every Access-Control-* response header dropped."""

    async def sending(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                              if not k.lower().startswith(b"access-control-")]}
        await send(message)

    return sending


def session_from(headers: Headers) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is no session
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


async def _refuse(scope, send, status: int, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(scope, send, location: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode()), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
