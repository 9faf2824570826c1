"""The same ingest and retrieval against a real Chroma server started with `chroma run`."""

import pytest

from conftest import SAMPLE, _free_port, make_workspace, start_chroma
from index.sync import sync

pytestmark = pytest.mark.chroma_server


def test_ingest_and_answer_through_a_chroma_server(chroma_server, tmp_path):
    from assistant.service import Assistant

    ws = make_workspace(tmp_path / "data", chroma={"url": chroma_server, "collection": "server_test"})
    report = sync([SAMPLE], ws)
    assert report.documents == 5 and ws.store.count() == report.chunks
    assert sync([SAMPLE], ws).unchanged == 5
    answer = Assistant(ws).answer("Wer leitete die Wirtschaftsdelegation nach Japan?")
    assert "Uwe Albrecht" in answer.answer and answer.contexts[0].doc_id == "leipzig-japan"


def test_unreachable_chroma_server_is_one_clear_error(tmp_path):
    from index.store import StoreError

    ws = make_workspace(tmp_path / "data", chroma={"url": "http://127.0.0.1:9"})
    with pytest.raises(StoreError, match="Cannot reach the Chroma server at http://127.0.0.1:9"):
        ws.store.count()


def test_chroma_server_going_away_mid_service_and_coming_back(tmp_path):
    """Stopped between two questions: one line in the CLI's terms and a 503 from the API, no crash; started
    again on the same address: the same assistant answers, nothing restarted."""
    from fastapi.testclient import TestClient

    from assistant.service import Assistant
    from web.api import create_api
    from index.store import StoreError

    port, path = _free_port(), tmp_path / "chroma"
    server = start_chroma(path, port)
    try:
        ws = make_workspace(tmp_path / "data", chroma={"url": f"http://127.0.0.1:{port}", "collection": "away"})
        sync([SAMPLE], ws)
        assistant = Assistant(ws)
        api = TestClient(create_api(assistant, ws.settings))
        question = {"question": "Wer leitete die Wirtschaftsdelegation nach Japan?"}
        assert api.post("/api/ask", json=question).status_code == 200

        server.terminate()
        server.wait(timeout=20)
        with pytest.raises(StoreError, match=f"the Chroma server at http://127.0.0.1:{port}"):
            assistant.answer(question["question"])
        down = api.post("/api/ask", json=question)
        assert down.status_code == 503 and f"Chroma server at http://127.0.0.1:{port}" in down.json()["detail"]
        assert "\n" not in down.json()["detail"]

        server = start_chroma(path, port)
        back = api.post("/api/ask", json=question)
        assert back.status_code == 200 and "Uwe Albrecht" in back.json()["answer"]
    finally:
        server.terminate()
        server.wait(timeout=20)
