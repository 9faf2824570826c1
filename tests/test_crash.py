"""Crash safety for real: SIGKILL in the middle of an ingest (at a chosen point, not at a moment), then a
re-run, leaves exactly the index a clean ingest makes (same articles and chunks, no duplicates, no orphans in
Chroma, the keyword index or the manifest); and a second ingest on a data dir that one is using is refused
in one line."""

import json
import os
import signal
import sqlite3
import subprocess
import sys

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


# An ingest that kills itself with SIGKILL at a chosen point, so where it dies does not depend on timing:
# "store": the 20th article's chunks are in Chroma, its manifest record is not yet written;
# "keywords": every article is recorded, the new keyword index is half built and not yet swapped in.
DIES = """
import os, signal, sys
from pathlib import Path
from conftest import make_workspace
import index.keywords, index.manifest
from index.sync import sync

corpus, data, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if where == "store":
    put_doc, calls = index.manifest.Manifest.put_doc, []
    def dying_put_doc(self, *args):
        calls.append(1)
        if len(calls) == 20:
            os.kill(os.getpid(), signal.SIGKILL)
        return put_doc(self, *args)
    index.manifest.Manifest.put_doc = dying_put_doc
else:
    index.keywords.os.rename = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
sync([corpus], make_workspace(data))
"""


@pytest.fixture(scope="module")
def clean_ingest(tmp_path_factory):
    """60 trip articles and the index a clean ingest makes of them."""
    corpus = write_trips(tmp_path_factory.mktemp("trips") / "corpus")
    clean = tmp_path_factory.mktemp("clean")
    assert _cli("ingest", str(corpus), "--data-dir", str(clean), "--json").wait(timeout=600) == 0
    return corpus, clean


@pytest.mark.parametrize("where, recorded", [("store", 19), ("keywords", 60)])
def test_kill_9_mid_ingest_then_rerun_equals_a_clean_ingest(clean_ingest, tmp_path, where, recorded):
    corpus, clean = clean_ingest
    crashed = tmp_path / "crashed"

    died = subprocess.run([sys.executable, "-c", DIES, str(corpus), str(crashed), where], cwd=ROOT / "tests",
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert _indexed(crashed) == recorded

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
    from index.sync import ingest_lock

    corpus = write_trips(tmp_path / "corpus", n=5)
    with ingest_lock(tmp_path / "data"):  # what a running ingest holds
        second = _cli("ingest", str(corpus), "--data-dir", str(tmp_path / "data"))
        out, err = second.communicate(timeout=120)
    assert second.returncode == 2 and err.strip().startswith("delegations: Another ingest is running on")
    assert len(err.strip().splitlines()) == 1
    assert _cli("ingest", str(corpus), "--data-dir", str(tmp_path / "data")).wait(timeout=600) == 0  # once it is done
