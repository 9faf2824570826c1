"""Who may use the server: a bearer token for the API, user:hash pairs for the chat's login."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request


def hash_password(password: str, iterations: int = 600_000) -> str:
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


def parse_users(spec: str) -> dict[str, str]:
    """'alice:pbkdf2_sha256$...,bob:...' -> {user: hash}; a malformed entry is a settings error."""
    users = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, sep, stored = entry.partition(":")
        if not sep or not name or stored.count("$") != 3:
            raise ValueError(f"DELEGATIONS_UI_USERS entry {name or entry[:20]!r} is not user:hash "
                             f"(make the hash with `delegations hash-password`).")
        users[name] = stored
    return users


def login_check(users: dict[str, str]):
    """Gradio's auth callable for these users, or None (no login) when there are none."""
    if not users:
        return None
    return lambda user, password: user in users and check_password(password, users[user])


def require_token(request: Request) -> None:
    """FastAPI dependency: with `server.api_token` set, `Authorization: Bearer <token>` (constant-time compare)."""
    token = request.app.state.server.api_token
    if not token:
        return
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise HTTPException(401, "Missing or wrong API token: send `Authorization: Bearer <token>`.",
                            headers={"WWW-Authenticate": "Bearer"})


def require_admin(request: Request) -> None:
    """FastAPI dependency of the document routes: `Authorization: Bearer <admin token>`. With no token set at
    all the API is open (loopback by default), as the rest of it; with only the reader token set, documents
    are managed in the chat or with a `DELEGATIONS_ADMIN_TOKEN`."""
    server = request.app.state.server
    if not server.admin_token and not server.api_token:
        return
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    sent = value.strip().encode() if scheme.lower() == "bearer" else b""
    if server.admin_token and hmac.compare_digest(sent, server.admin_token.encode()):
        return
    if server.api_token and hmac.compare_digest(sent, server.api_token.encode()):
        raise HTTPException(403, "This token may ask, not manage documents; that needs the admin token "
                                 "(DELEGATIONS_ADMIN_TOKEN).")
    raise HTTPException(401, "Missing or wrong admin token: send `Authorization: Bearer <admin token>`.",
                        headers={"WWW-Authenticate": "Bearer"})


def reader_or_admin(request: Request) -> None:
    """Asking is open to readers and admins alike."""
    server = request.app.state.server
    if server.admin_token:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), server.admin_token.encode()):
            return
    require_token(request)


def admins(spec: str) -> set[str]:
    return {name.strip() for name in spec.split(",") if name.strip()}
