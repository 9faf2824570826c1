"""A watched folder: files added, changed or deleted under it are brought into the index within seconds.

Each sync is a `delegations ingest FOLDER` run in a child process, one at a time: the server that watches keeps
answering from the index while it runs and picks the new state up as it does after any ingest (the keyword
index's build id changes); a crash or a full disk during one sync cannot take the server down. A sync that
fails, or a file it cannot read, is one log line; the next change triggers the next sync.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from ingest.readers import SUFFIXES

log = logging.getLogger("delegations.watch")

DEBOUNCE_MS = 1000  # changes arriving within this long are synced together (a copy of many files is one sync)
BUSY_RETRY_S = 5.0  # another ingest holds the data dir: try again after this long


def run_cli(*args: str) -> tuple[dict | None, str]:
    """`delegations ARGS --json` in a child process with this process's settings (environment and working
    directory): its JSON report, or None and the one line it failed with."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH", "")]))}
    done = subprocess.run([sys.executable, "-m", "cli", *args, "--json"], capture_output=True, text=True, env=env)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line), ""
            except json.JSONDecodeError:
                break
    reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    return None, reason.removeprefix("delegations: ")


def sync_once(folder: Path, data_dir: Path) -> dict | None:
    """Run one ingest of the folder; its report, or None when it failed (logged)."""
    report, failure = run_cli("ingest", str(folder), "--data-dir", str(data_dir))
    if report is None:
        log.error("Syncing %s failed: %s", folder, failure)
        return None
    for failure in report.get("failed", []):
        log.warning("Not indexed: %s: %s", failure.get("path"), failure.get("error"))
    if report.get("added") or report.get("updated") or report.get("removed"):
        log.info("Synced %s: %d added, %d updated, %d removed; index: %d articles.", folder, report["added"],
                 report["updated"], report["removed"], report["documents"])
    return report


def _relevant(changes) -> bool:
    return any(Path(path).suffix.lower() in SUFFIXES and not Path(path).name.startswith(".") for _, path in changes)


def watch(folder: Path, data_dir: Path, stop: threading.Event, ready: threading.Event | None = None) -> None:
    """Sync the folder once, then after every batch of changes to files ingest reads, until `stop` is set."""
    import watchfiles

    folder.mkdir(parents=True, exist_ok=True)
    _sync_until_done(folder, data_dir, stop)
    log.info("Watching %s for added, changed and deleted articles.", folder)
    if ready:
        ready.set()
    for changes in watchfiles.watch(folder, stop_event=stop, debounce=DEBOUNCE_MS, raise_interrupt=False):
        if _relevant(changes):
            _sync_until_done(folder, data_dir, stop)


def _sync_until_done(folder: Path, data_dir: Path, stop: threading.Event) -> None:
    while not stop.is_set():
        report = sync_once(folder, data_dir)
        if report is not None or not _busy(data_dir):
            return
        stop.wait(BUSY_RETRY_S)


def _busy(data_dir: Path) -> bool:
    """Whether another ingest holds the data dir's lock right now."""
    import fcntl

    lock = data_dir / "ingest.lock"
    if not lock.exists():
        return False
    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def start(folder: Path, data_dir: Path) -> tuple[threading.Thread, threading.Event]:
    """The watcher in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(folder, data_dir, stop), name="folder-watch", daemon=True)
    thread.start()
    return thread, stop
