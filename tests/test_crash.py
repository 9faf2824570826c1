"""Crash safety for real: `kill -9` in the middle of an ingest, then a re-run, leaves exactly the index a clean
ingest makes (same articles and chunks, no duplicates, no orphans in Chroma, the keyword index or the
manifest); and a second ingest on a data dir that one is using is refused in one line."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import ROOT, make_workspace, write_trips

pytestmark = pytest.mark.slow
def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _status(data):
    out, err = _cli("status", "--json", "--data-dir", str(data)).communicate(timeout=120)
    return json.loads(out)


def _indexed(data) -> int:
    try:
        with sqlite3.connect(data / "manifest.sqlite", timeout=1) as db:
            return db.execute("select count(*) from docs").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_mid_ingest_then_rerun_equals_a_clean_ingest(tmp_path):
    corpus = write_trips(tmp_path / "corpus")
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    assert _cli("ingest", str(corpus), "--data-dir", str(clean), "--json").wait(timeout=600) == 0

    proc = _cli("ingest", str(corpus), "--data-dir", str(crashed), "--json")
    deadline = time.monotonic() + 300
    while _indexed(crashed) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 10 <= _indexed(crashed) < 60

    rerun = _cli("ingest", str(corpus), "--data-dir", str(crashed), "--json")
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    want, got = _status(clean), _status(crashed)
    assert (got["documents"], got["chunks"]) == (want["documents"], want["chunks"]) == (60, want["chunks"])

    ws = make_workspace(crashed)
    from index.keywords import KeywordIndex

    stored = ws.store.collection.get(include=["metadatas"])
    assert len(stored["ids"]) == len(set(stored["ids"])) == want["chunks"]  # no duplicates, no orphans in Chroma
    assert {m["doc_id"] for m in stored["metadatas"]} == {r.doc_id for r in ws.manifest.all_docs()}
    keywords = KeywordIndex.open(crashed)
    assert sorted(keywords.chunk_ids) == sorted(stored["ids"])  # the keyword index holds exactly those chunks
    assert not list(crashed.glob("keywords.*-*"))  # no half-built keyword index left behind
    again = json.loads(_cli("ingest", str(corpus), "--data-dir", str(crashed), "--json").communicate(timeout=300)[0])
    assert (again["added"], again["updated"], again["removed"], again["unchanged"]) == (0, 0, 0, 60)


def test_a_second_ingest_on_the_same_data_dir_is_refused_in_one_line(tmp_path):
    corpus = write_trips(tmp_path / "corpus", n=20)
    first = _cli("ingest", str(corpus), "--data-dir", str(tmp_path / "data"), "--json")
    while not (tmp_path / "data" / "manifest.sqlite").exists() and first.poll() is None:
        time.sleep(0.05)
    second = _cli("ingest", str(corpus), "--data-dir", str(tmp_path / "data"))
    out, err = second.communicate(timeout=120)
    assert first.poll() is None, "the first ingest ended before the second began"
    assert second.returncode == 2 and err.strip().startswith("delegations: Another ingest is running on")
    assert len(err.strip().splitlines()) == 1
    assert first.wait(timeout=600) == 0
