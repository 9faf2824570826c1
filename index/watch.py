"""A watched folder: files added, changed or deleted under it are brought into the index within seconds.

Each sync is an ingest of the folder handed to `sync_folder` (the server runs it in its ingest worker
process, web/worker.py): the server keeps answering from the index while it runs and picks the new state up
as it does after any ingest (the keyword index's build id changes); a crash or a full disk during one sync
cannot take the server down. A sync that fails, or a file it cannot read, is one log line; the next change
triggers the next sync. Another ingest holding the data dir (IngestBusy) is waited for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from index.sync import IngestBusy
from ingest.readers import SUFFIXES

log = logging.getLogger("delegations.watch")

DEBOUNCE_MS = 1000  # changes arriving within this long are synced together (a copy of many files is one sync)
BUSY_RETRY_S = 5.0  # another ingest holds the data dir: try again after this long

SyncFolder = Callable[[Path], dict]  # an ingest of the folder: its report as JSON, or an exception


def sync_once(folder: Path, sync_folder: SyncFolder) -> dict | None:
    """Run one ingest of the folder; its report, or None when it failed (logged). IngestBusy goes to the caller."""
    try:
        report = sync_folder(folder)
    except IngestBusy:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of one sync is a log line; the next change tries again
        log.error("Syncing %s failed: %s", folder, exc)
        return None
    for failure in report.get("failed", []):
        log.warning("Not indexed: %s: %s", failure.get("path"), failure.get("error"))
    if report.get("added") or report.get("updated") or report.get("removed"):
        log.info("Synced %s: %d added, %d updated, %d removed; index: %d articles.", folder, report["added"],
                 report["updated"], report["removed"], report["documents"])
    return report


def _relevant(changes) -> bool:
    return any(Path(path).suffix.lower() in SUFFIXES and not Path(path).name.startswith(".") for _, path in changes)


def watch(folder: Path, sync_folder: SyncFolder, stop: threading.Event, ready: threading.Event | None = None) -> None:
    """Sync the folder once, then after every batch of changes to files ingest reads, until `stop` is set."""
    import watchfiles

    folder.mkdir(parents=True, exist_ok=True)
    _sync_until_done(folder, sync_folder, stop)
    log.info("Watching %s for added, changed and deleted articles.", folder)
    if ready:
        ready.set()
    for changes in watchfiles.watch(folder, stop_event=stop, debounce=DEBOUNCE_MS, raise_interrupt=False):
        if _relevant(changes):
            _sync_until_done(folder, sync_folder, stop)


def _sync_until_done(folder: Path, sync_folder: SyncFolder, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            sync_once(folder, sync_folder)
            return
        except IngestBusy:
            stop.wait(BUSY_RETRY_S)


def start(folder: Path, sync_folder: SyncFolder) -> tuple[threading.Thread, threading.Event]:
    """The watcher in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(folder, sync_folder, stop), name="folder-watch", daemon=True)
    thread.start()
    return thread, stop
