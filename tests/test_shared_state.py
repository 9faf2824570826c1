"""Several instances on one corpus: the manifest, the trip register and the sessions in a real PostgreSQL
(started by the test with initdb/pg_ctl), the chunks in a real `chroma run` server; what one instance
ingests or removes the other answers from, and one ingest at a time among all of them."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from conftest import LYON_ARTICLE, LYON_QUESTION, SAMPLE, make_workspace, serve


def _records():
    from index.manifest import ChunkTerms, DocRecord
    from index.vectors import SentenceVectors

    rec = DocRecord("oslo-2024", "/corpus/oslo.txt", "h1", "Kammer in Oslo", "2024-05", "month", "oslo.txt", 1)
    terms = [ChunkTerms("oslo-2024#0", "oslo-2024", 20240501, 20240531, ["kammer", "oslo"])]
    vectors = {"oslo-2024#0": SentenceVectors([(0, 10), (11, 30)], np.ones((2, 4), np.float32), np.zeros(4, np.float32))}
    return rec, terms, vectors


@pytest.mark.parametrize("where", ["sqlite", "postgresql"])
def test_the_manifest_and_the_register_keep_the_same_records_in_sqlite_and_postgresql(where, tmp_path, postgres):
    from index.database import engine
    from index.manifest import Manifest
    from trips.model import Trip
    from trips.register import TripRegister

    made = engine(postgres() if where == "postgresql" else "", tmp_path / "state.sqlite")
    manifest, register = Manifest(made), TripRegister(made)
    rec, terms, vectors = _records()
    manifest.put_doc(rec, terms, vectors, "Die Kammer reiste nach Oslo.")
    manifest.put_doc(rec, terms, vectors, "Die Kammer reiste nach Oslo.")  # again: replaced, not doubled
    manifest.set_file("/corpus/oslo.txt", "raw1")
    assert manifest.counts() == (1, 1) and manifest.doc("oslo-2024") == rec and manifest.docs_of(rec.file) == [rec]
    assert manifest.page("OSLO")[0] == 1 and manifest.page("50%_")[0] == 0  # case-blind; % and _ are literal
    got = manifest.vectors(["oslo-2024#0", "missing#0"])["oslo-2024#0"]
    assert got.spans == [(0, 10), (11, 30)] and np.allclose(got.vectors, 1.0)
    assert [t.stems for t in manifest.all_terms()] == [["kammer", "oslo"]] and manifest.newest_date() == "2024-05"
    assert manifest.docs_to_annotate("4") == ["oslo-2024"] and manifest.text("oslo-2024").endswith("Oslo.")
    manifest.start_staging()
    manifest.stage_vectors("oslo-2024", vectors)
    manifest.switch_to_staged("delegations-2")
    assert manifest.get_meta("collection") == "delegations-2" and manifest.vectors(["oslo-2024#0"])

    trip = Trip(["oslo-2024"], "reader", published="2024-05")
    register.replace("oslo-2024", "h1", "reader", [trip, trip], 0)
    register.replace("oslo-2024", "h1", "reader", [trip], 0)
    assert register.counts() == (1, 1) and register.count_of("oslo-2024") == 1
    assert register.extracted() == {"oslo-2024": ("h1", "reader")}
    assert register.remove("oslo-2024") == 1 and register.counts() == (0, 0)
    manifest.drop_doc("oslo-2024")
    assert manifest.counts() == (0, 0) and manifest.vectors(["oslo-2024#0"]) == {} and manifest.file_hashes()


@pytest.mark.parametrize("where", ["sqlite", "postgresql"])
def test_feedback_is_kept_in_sqlite_and_postgresql(where, tmp_path, postgres):
    from assistant.feedback import Feedback, FeedbackStore

    store = FeedbackStore(tmp_path, postgres() if where == "postgresql" else "")
    first = store.add(Feedback("down", "Wer leitete die Reise?", "Eva Kron [1].", [{"n": 1, "doc_id": "a"}], user="eva"))
    second = store.add(Feedback("up", "Wohin?", "Nach Oslo [1]."))
    assert second == first + 1 and store.set_comment(first, "falsche Person") and not store.set_comment(999, "x")
    entries = store.all()
    assert [(e.rating, e.comment, e.user) for e in entries] == [("down", "falsche Person", "eva"), ("up", "", "")]
    assert entries[0].citations[0]["doc_id"] == "a"


def test_settings_refuse_a_shared_database_without_a_chroma_server():
    from settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="chroma.url"):
        load_settings(database_url="postgresql+psycopg://db/delegations")
    with pytest.raises(SettingsError, match="PostgreSQL URL"):
        load_settings(database_url="mysql://db/delegations", chroma={"url": "http://chroma:8000"})


def test_one_ingest_at_a_time_among_instances(tmp_path, postgres):
    from index.sync import IngestBusy, ingest_lock

    url = postgres()
    with ingest_lock(tmp_path / "a", url):
        with pytest.raises(IngestBusy, match="Another instance"):
            with ingest_lock(tmp_path / "b", url):
                pass
    with ingest_lock(tmp_path / "b", url):  # released when the first finished
        pass


def test_what_one_instance_ingests_and_removes_the_other_answers_from(tmp_path, postgres, chroma_server):
    from assistant.service import Assistant
    from index.documents import remove
    from index.sync import sync

    shared = {"database_url": postgres(), "chroma": {"url": chroma_server, "collection": "shared-inprocess"}}
    one, other = make_workspace(tmp_path / "one", **shared), make_workspace(tmp_path / "two", **shared)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lyon.txt").write_text(LYON_ARTICLE, encoding="utf-8")
    asking = Assistant(other)
    assert asking.answer(LYON_QUESTION).generation == "empty_index"
    sync([corpus], one)
    answer = asking.answer(LYON_QUESTION)
    assert not answer.refused and "Dirk Hilbert" in answer.answer and {c.passage.doc_id for c in answer.citations} == {"lyon"}
    assert asking.retriever.keywords() is not None and len(asking.retriever.keywords()) == other.manifest.counts()[1]
    remove(one, ["lyon"])
    assert asking.answer(LYON_QUESTION).generation == "empty_index"


def _call(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.loads(exc.read() or b"null")


def _upload(url: str, name: str, text: str):
    boundary = "delegations-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
    return _call(f"{url}/api/documents", "POST", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def _ask(url: str, question: str) -> dict:
    return _call(f"{url}/api/ask", "POST", json.dumps({"question": question}).encode(),
                 {"Content-Type": "application/json"})[2]


def test_two_servers_share_one_corpus(tmp_path_factory, postgres, chroma_server):
    """Two `delegations serve` against one Chroma server and one PostgreSQL: an upload on one is answered by the
    other within 10 s, a delete on one is gone on both, and an upload while another instance ingests gets 409."""
    from index.sync import ingest_lock

    database = postgres()
    shared = f"database_url: {database}\nchroma:\n  url: {chroma_server}\n  collection: shared-servers\n"
    empty = tmp_path_factory.mktemp("no-corpus")
    first, first_proc, _ = serve(tmp_path_factory, empty / "none", shared)
    second, second_proc, _ = serve(tmp_path_factory, empty / "none", shared)
    try:
        status, _, body = _upload(first, "lyon.txt", LYON_ARTICLE)
        assert status == 200, body
        uploaded = time.monotonic()
        while True:
            answer = _ask(second, LYON_QUESTION)
            if not answer["refused"]:
                break
            assert time.monotonic() - uploaded < 10, answer
            time.sleep(0.5)
        seen_after = time.monotonic() - uploaded
        assert "Dirk Hilbert" in answer["answer"] and seen_after < 10
        doc_id = answer["citations"][0]["doc_id"]

        status, _, _ = _call(f"{first}/api/documents/{doc_id}", "DELETE")
        assert status == 200
        for url in (first, second):
            assert _ask(url, LYON_QUESTION)["refused"]
            assert _call(f"{url}/api/documents/{doc_id}")[0] == 404

        with ingest_lock(tmp_path_factory.mktemp("third"), database):  # a third instance ingesting
            status, headers, body = _upload(second, "lyon.txt", LYON_ARTICLE)
        assert status == 409 and "retry-after" in headers, body
    finally:
        for proc in (first_proc, second_proc):
            proc.terminate()
            proc.wait(timeout=30)


def test_the_deployment_file_wires_every_instance_to_the_shared_engines():
    """deploy/compose.yaml (not run here: no Docker daemon on this machine): each `delegations` service reads
    its database, Chroma server and model host from variables the settings read, and the proxy sends to each."""
    import re

    import yaml

    from conftest import ROOT
    from settings import load_settings

    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    instances = [name for name in services if name.startswith("delegations-")]
    assert len(instances) >= 2 and {"postgres", "chroma", "ollama", "proxy"} <= set(services)
    read = set(re.findall(r"\$\{(\w+)", (ROOT / "settings.yaml").read_text(encoding="utf-8")))
    upstream = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    for name in instances:
        env = services[name]["environment"]
        assert set(env) <= read, set(env) - read  # every variable set is one the settings take
        assert f"server {name}:7860;" in upstream
        assert [services[n]["volumes"] for n in instances].count(services[name]["volumes"]) == 1  # a data dir each
        # as compose fills them in: ${VAR:-default} the default, ${VAR:?message} a value the operator must give
        values = {k: re.sub(r"\$\{\w+:\?[^}]*\}", "x", re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(v))) for k, v in env.items()}
        settings = load_settings(env=values)
        assert settings.database_url.startswith("postgresql+psycopg://delegations:x@postgres/")
        assert settings.chroma.url == "http://chroma:8000" and settings.llm.ollama.host == "http://ollama:11434"
