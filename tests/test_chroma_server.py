"""The same ingest and retrieval against a real Chroma server started with `chroma run`."""

import pytest

from conftest import SAMPLE, make_workspace
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
