"""The state database: what the server keeps besides the index (chat sessions, failed logins), through
SQLAlchemy, so the same tables live in SQLite in the data dir by default and on a database server when
several instances share them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event


def state_engine(data_dir: Path) -> Engine:
    """SQLite in DATA_DIR/state.sqlite, in WAL mode (readers never wait for the one writer)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{data_dir / 'state.sqlite'}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _wal(connection, _record) -> None:
        connection.execute("PRAGMA journal_mode=WAL")

    return engine
