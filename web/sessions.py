"""Chat logins that outlive a request, and the brake on guessing passwords.

A session is a random 256-bit id in an HttpOnly cookie; only its SHA-256 is stored, with the user and when it
ends, so a copy of the database opens no session. Failed logins are kept a minute, per user name and per
client address: past `login_failures_per_minute` of either, further tries are refused until the oldest ages
out. Both live in the state database (index/database.py), so every instance sharing it sees the same.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, func, insert, select

FAILURE_WINDOW_S = 60.0
CACHE_S = 5.0  # a session checked this recently is not looked up again (assets come in dozens per page)

metadata = MetaData()
sessions = Table("sessions", metadata,
                 Column("id_hash", String(64), primary_key=True),
                 Column("user", String(200), nullable=False),
                 Column("created", Float, nullable=False),
                 Column("expires", Float, nullable=False, index=True))
login_failures = Table("login_failures", metadata,
                       Column("id", Integer, primary_key=True, autoincrement=True),
                       Column("key", String(300), nullable=False, index=True),
                       Column("at", Float, nullable=False, index=True))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    def __init__(self, engine, hours: float, failures_per_minute: int):
        self.engine = engine
        self.seconds = hours * 3600
        self.failures_per_minute = failures_per_minute
        metadata.create_all(engine)
        self._seen: dict[str, tuple[str, float, float]] = {}  # id hash -> (user, expires, checked at)
        self._lock = threading.Lock()

    def open(self, user: str) -> str:
        """A new session for the user; the id for the cookie. Expired sessions are cleared on the way."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.expires < now))
            db.execute(insert(sessions).values(id_hash=_hash(session_id), user=user, created=now, expires=now + self.seconds))
        return session_id

    def user_of(self, session_id: str) -> str | None:
        """The user of a live session, or None."""
        if not session_id or len(session_id) > 200:
            return None
        key, now = _hash(session_id), time.time()
        with self._lock:
            seen = self._seen.get(key)
        if seen and seen[1] > now and now - seen[2] < CACHE_S:
            return seen[0]
        with self.engine.connect() as db:
            row = db.execute(select(sessions.c.user, sessions.c.expires).where(sessions.c.id_hash == key)).first()
        with self._lock:
            if row is None or row.expires <= now:
                self._seen.pop(key, None)
                return None
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (row.user, row.expires, now)
        return row.user

    def close(self, session_id: str) -> None:
        key = _hash(session_id or "")
        with self._lock:
            self._seen.pop(key, None)
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.id_hash == key))

    def retry_after(self, keys: list[str]) -> int:
        """Seconds until another try is allowed for all of these keys (user name, address); 0: now."""
        since = time.time() - FAILURE_WINDOW_S
        wait = 0.0
        with self.engine.connect() as db:
            for key in keys:
                count, oldest = db.execute(select(func.count(), func.min(login_failures.c.at))
                                           .where(login_failures.c.key == key, login_failures.c.at >= since)).one()
                if count >= self.failures_per_minute:
                    wait = max(wait, oldest - since)
        return int(wait) + 1 if wait else 0

    def failed(self, keys: list[str]) -> None:
        now = time.time()
        with self.engine.begin() as db:
            db.execute(delete(login_failures).where(login_failures.c.at < now - FAILURE_WINDOW_S))
            db.execute(insert(login_failures), [{"key": key, "at": now} for key in keys])

    def succeeded(self, user_key: str) -> None:
        """A right password clears that user's failures (not the address's: one right login does not buy
        another round of guesses at other names)."""
        with self.engine.begin() as db:
            db.execute(delete(login_failures).where(login_failures.c.key == user_key))
