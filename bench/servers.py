"""A PostgreSQL and a Chroma server started for a measurement or a test, in temp dirs on loopback ports.

The same engines a shared deployment uses (README, "When one machine is not enough"), started the way the
tests start them: Debian's `postgresql` package (`initdb` and `pg_ctl`, run as the `postgres` user when we are
root, as PostgreSQL refuses root) and chromadb's `chroma run`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class ServerMissing(RuntimeError):
    """The program that starts the server is not installed (the message says which and how to get it)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` on a loopback port, returned once it accepts connections; the caller stops it."""
    exe = shutil.which("chroma")
    if not exe:
        raise ServerMissing("the `chroma` command (from the chromadb package) is not on PATH")
    proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma run did not start within 60 s")


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class LocalPostgres:
    """A PostgreSQL cluster in a temp dir on a free loopback port (trust authentication, fsync off: for tests
    and measurements only); `database()` makes a fresh, empty database and returns its SQLAlchemy URL."""

    def __init__(self):
        debian = ":".join(str(d) for d in sorted(Path("/usr/lib/postgresql").glob("*/bin")))  # kept off PATH there
        self.initdb, self.pg_ctl = (shutil.which(name, path=f"{os.environ.get('PATH', '')}:{debian}")
                                    for name in ("initdb", "pg_ctl"))
        if not (self.initdb and self.pg_ctl):
            raise ServerMissing("PostgreSQL's initdb and pg_ctl are not on PATH (Debian: apt install postgresql)")
        self.root: Path | None = None
        self.port = 0
        self._admin = None
        self._made = 0

    def start(self) -> "LocalPostgres":
        from sqlalchemy import create_engine

        self.root = Path(tempfile.mkdtemp(prefix="delegations-postgres-"))  # not under pytest's root-only temp dirs
        data, sockets = self.root / "data", self.root / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(sockets, "postgres")
        self.port = free_port()
        subprocess.run(_as_postgres([self.initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                     "--locale=C.UTF-8"]), check=True, capture_output=True)
        options = f"-p {self.port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(data), "-o", options, "-l", str(self.root / "log"), "-w",
                                     "start"]), check=True, capture_output=True)
        self._admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
                                    isolation_level="AUTOCOMMIT")
        return self

    def database(self) -> str:
        from sqlalchemy import text

        self._made += 1
        name = f"delegations_{self._made}"
        with self._admin.connect() as db:
            db.execute(text(f"CREATE DATABASE {name}"))
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
        if self.root is not None:
            subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop"]),
                           capture_output=True)
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
