"""The state databases: what the product keeps besides the vectors (the manifest of the index, the trip
register, chat sessions, failed logins), through SQLAlchemy, so the same tables live in SQLite files in the
data dir by default and in one PostgreSQL database when several instances share a corpus (`database_url`).
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite

_SERVERS: dict[str, Engine] = {}  # one pool per database server in a process
_MAKING = threading.Lock()


def engine(database_url: str, sqlite_file: Path) -> Engine:
    """The shared database when `database_url` is set (postgresql+psycopg://user:pass@host/db): one engine, and
    so one connection pool, per process. Else a new engine on the SQLite file (WAL: readers never wait for
    the one writer), owned by the caller, who disposes of it when done."""
    if not database_url:
        return _sqlite(sqlite_file)
    with _MAKING:
        if database_url not in _SERVERS:
            _SERVERS[database_url] = _server(database_url)
        return _SERVERS[database_url]


def shared(made: Engine) -> bool:
    """Whether the engine is a database server's, shared by this process's users (not to be disposed of)."""
    return made.dialect.name != "sqlite"


def state_engine(data_dir: Path, database_url: str = "") -> Engine:
    """The database of the server's own state (sessions, failed logins): DATA_DIR/state.sqlite by default."""
    return engine(database_url, data_dir / "state.sqlite")


def _server(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


def _sqlite(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    made = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(made, "connect")
    def _wal(connection, _record) -> None:
        connection.execute("PRAGMA journal_mode=WAL")

    return made


def upsert(conn, table, rows: list[dict]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE, in the dialect of the connection."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    others = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=others) if others else
                 statement.on_conflict_do_nothing(index_elements=keys), rows)
