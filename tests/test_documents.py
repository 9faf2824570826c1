"""What the index holds, article by article, for real (embedded Chroma, the real embedder, the CLI in a
subprocess): `delegations docs list/show/remove/export`, `delegations reindex` (atomic, and a kill -9 mid-way
leaves the old index answering), and `serve --watch` keeping a folder in sync while the server runs."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, SAMPLE, make_workspace, serve

pytestmark = pytest.mark.slow


def _cli(*args, timeout=300):
    done = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """The sample corpus ingested into its own data dir (tests that change it copy nothing: they use their own)."""
    data = tmp_path_factory.mktemp("docs")
    rc, _, err = _cli("ingest", str(SAMPLE), "--data-dir", str(data), "--json")
    assert rc == 0, err
    return data


def test_docs_list_pages_and_searches_the_manifest(indexed):
    rc, out, _ = _cli("docs", "list", "--json", "--data-dir", str(indexed))
    listed = json.loads(out)
    everything = {d["id"] for d in listed["documents"]}
    assert rc == 0 and listed["total"] == len(everything) == len(list(SAMPLE.glob("*.txt")))
    assert all(d["chunks"] > 0 and d["title"] and d["source"] for d in listed["documents"])
    first = json.loads(_cli("docs", "list", "--json", "--limit", "2", "--data-dir", str(indexed))[1])
    second = json.loads(_cli("docs", "list", "--json", "--limit", "2", "--offset", "2", "--data-dir", str(indexed))[1])
    assert len(first["documents"]) == len(second["documents"]) == 2 and first["total"] == listed["total"]
    assert not {d["id"] for d in first["documents"]} & {d["id"] for d in second["documents"]}
    japan = json.loads(_cli("docs", "list", "--json", "--query", "japan", "--data-dir", str(indexed))[1])
    assert [d["id"] for d in japan["documents"]] == ["leipzig-japan"]
    rc, out, err = _cli("docs", "list", "--data-dir", str(indexed))
    assert rc == 0 and "leipzig-japan\t" in out and f"of {listed['total']} articles" in err


def test_docs_show_gives_the_text_as_indexed_and_an_unknown_id_is_one_line(indexed):
    rc, out, _ = _cli("docs", "show", "leipzig-japan", "--json", "--data-dir", str(indexed))
    doc = json.loads(out)
    assert rc == 0 and "Uwe Albrecht" in doc["text"] and doc["source"].endswith("leipzig-japan.txt")
    rc, out, err = _cli("docs", "show", "no-such-article", "--data-dir", str(indexed))
    assert rc == 2 and not out and len(err.strip().splitlines()) == 1 and "no-such-article" in err


def test_export_then_ingest_into_an_empty_data_dir_gives_the_same_articles_and_chunks(indexed, tmp_path):
    exported = tmp_path / "export.jsonl"
    rc, _, err = _cli("docs", "export", "--out", str(exported), "--data-dir", str(indexed))
    assert rc == 0, err
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert rows and all(set(r) == {"id", "title", "date", "text", "source"} for r in rows)
    again = tmp_path / "again"
    rc, _, err = _cli("ingest", str(exported), "--data-dir", str(again), "--json")
    assert rc == 0, err
    before, after = make_workspace(indexed), make_workspace(again)
    want = {r.doc_id: (r.title, r.date, r.date_precision, r.source, r.chunks) for r in before.manifest.all_docs()}
    got = {r.doc_id: (r.title, r.date, r.date_precision, r.source, r.chunks) for r in after.manifest.all_docs()}
    assert got == want
    for doc_id in want:
        assert after.manifest.text(doc_id) == before.manifest.text(doc_id)
        assert [c.text for c in after.store.chunks_of(doc_id)] == [c.text for c in before.store.chunks_of(doc_id)]
    stdout_export = _cli("docs", "export", "--data-dir", str(indexed))[1]
    assert stdout_export == exported.read_text(encoding="utf-8")


def test_docs_remove_takes_an_article_out_of_every_part_of_the_index(tmp_path):
    data = tmp_path / "data"
    assert _cli("ingest", str(SAMPLE), "--data-dir", str(data))[0] == 0
    rc, out, err = _cli("docs", "remove", "leipzig-japan", "no-such-article", "--data-dir", str(data))
    assert rc == 2 and "no-such-article" in err and "nothing was removed" in err
    assert make_workspace(data).manifest.doc("leipzig-japan") is not None
    rc, out, err = _cli("docs", "remove", "leipzig-japan", "--data-dir", str(data))
    assert rc == 0 and "Removed 1 article" in out, err
    ws = make_workspace(data)
    from index.keywords import KeywordIndex
    from trips.register import TripRegister

    assert ws.manifest.doc("leipzig-japan") is None and not ws.store.chunks_of("leipzig-japan")
    assert not [c for c in KeywordIndex.open(data).chunk_ids if c.startswith("leipzig-japan")]
    assert not [t for t in TripRegister.of(data).per_article() if "leipzig-japan" in t.doc_ids]
    assert TripRegister.of(data).per_article()  # the other articles keep theirs
    rc, out, _ = _cli("ask", "Wer leitete die Wirtschaftsdelegation nach Japan?", "--json", "--backend", "extractive",
                      "--data-dir", str(data))
    answer = json.loads(out)
    assert not any(c["doc_id"] == "leipzig-japan" for c in answer["citations"])
    assert "Uwe Albrecht" not in answer["answer"]
    # its file is unchanged, so a re-ingest does not bring it back; a changed file does
    again = json.loads(_cli("ingest", str(SAMPLE), "--data-dir", str(data), "--json")[1])
    assert again["added"] == 0 and make_workspace(data).manifest.doc("leipzig-japan") is None


REINDEX_DIES = """
import os, signal, sys
from pathlib import Path
from conftest import make_workspace
import index.manifest
from index.documents import reindex

stage, calls = index.manifest.Manifest.stage_vectors, []
def dying_stage(self, *args):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return stage(self, *args)
index.manifest.Manifest.stage_vectors = dying_stage
reindex(make_workspace(Path(sys.argv[1])))
"""


def test_reindex_switches_at_the_end_and_a_kill_9_mid_way_leaves_the_old_index_answering(tmp_path):
    data = tmp_path / "data"
    assert _cli("ingest", str(SAMPLE), "--data-dir", str(data))[0] == 0
    ws = make_workspace(data)
    old_collection = ws.collection
    want_chunks = sorted(ws.store.collection.get()["ids"])
    question = ["ask", "Wer leitete die Wirtschaftsdelegation nach Japan?", "--json", "--backend", "extractive",
                "--data-dir", str(data)]
    before = json.loads(_cli(*question)[1])

    died = subprocess.run([sys.executable, "-c", REINDEX_DIES, str(data)], cwd=ROOT / "tests",
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600)
    assert died.returncode == -signal.SIGKILL, died.stderr
    ws = make_workspace(data)
    assert ws.collection == old_collection and ws.manifest.get_meta("reindex_target")  # still the old index
    assert json.loads(_cli(*question)[1])["answer"] == before["answer"]

    rc, out, err = _cli("reindex", "--json", "--data-dir", str(data))
    assert rc == 0, err
    report = json.loads(out)
    ws = make_workspace(data)
    assert ws.collection == report["collection"] != old_collection and report["documents"] == before_docs(ws)
    assert sorted(ws.store.collection.get()["ids"]) == want_chunks
    names = {c.name for c in ws.store._client.list_collections()}
    assert names == {report["collection"]}  # the old one and the one the killed run left are gone
    after = json.loads(_cli(*question)[1])
    assert after["answer"] == before["answer"] and after["citations"] == before["citations"]


def before_docs(ws) -> int:
    return ws.manifest.counts()[0]


def _wait_for(check, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def test_serve_watch_keeps_the_index_in_step_with_the_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("watched")
    (folder / "leipzig-japan.txt").write_text((SAMPLE / "leipzig-japan.txt").read_text(encoding="utf-8"), encoding="utf-8")
    url, proc, log = serve(tmp_path_factory, folder, "", "--watch", str(folder))
    data = log.parent
    try:
        docs = lambda: {r.doc_id for r in make_workspace(data).manifest.all_docs()}  # noqa: E731
        assert _wait_for(lambda: docs() == {"leipzig-japan"})
        (folder / "neu.txt").write_text("Delegation nach Lyon\n\nEine Delegation aus Dresden reiste im Mai 2024 nach "
                                        "Lyon. Geleitet wurde sie von Oberbürgermeister Dirk Hilbert.\n", encoding="utf-8")
        assert _wait_for(lambda: "neu" in docs(), 30), log.read_text()
        import urllib.request

        request = urllib.request.Request(f"{url}/api/ask", method="POST", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"question": "Wer leitete die Delegation nach Lyon?",
                                                          "backend": "extractive"}).encode())
        with urllib.request.urlopen(request, timeout=60) as r:
            assert "Dirk Hilbert" in json.loads(r.read())["answer"]  # the running server answers from it
        (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
        (folder / "neu.txt").unlink()
        assert _wait_for(lambda: docs() == {"leipzig-japan"}, 30), log.read_text()
        assert _wait_for(lambda: "broken.pdf" in log.read_text(), 30)
        failure_lines = [line for line in log.read_text().splitlines() if "broken.pdf" in line]
        assert len(failure_lines) >= 1 and "Traceback" not in log.read_text()
        assert proc.poll() is None  # a file it cannot read does not stop the server
    finally:
        proc.terminate()
        proc.wait(timeout=30)
