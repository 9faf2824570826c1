"""Re-ingest embeds only what changed, replaces changed articles, removes deleted ones."""

import shutil

from conftest import SAMPLE, make_workspace
from index.sync import sync


def test_add_change_delete_and_idempotence(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    ws = make_workspace(tmp_path / "data")
    first = sync([corpus], ws)
    assert (first.added, first.unchanged, first.documents) == (5, 0, 5)
    chunks = ws.store.count()
    assert chunks == first.chunks

    again = sync([corpus], ws)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 5, 0)
    assert ws.store.count() == chunks

    leipzig = corpus / "leipzig-japan.txt"
    leipzig.write_text(leipzig.read_text(encoding="utf-8").replace("Roy Richter", "Roy Richter (Vorsitz)"), encoding="utf-8")
    (corpus / "hamburg-israel-2019.txt").unlink()
    (corpus / "neu.txt").write_text("Neue Reise\n\nDie Delegation aus Köln reiste nach Seoul.", encoding="utf-8")
    third = sync([corpus], ws)
    assert (third.added, third.updated, third.unchanged, third.removed) == (1, 1, 3, 1)
    assert ws.store.doc_ids() == {"leipzig-japan", "neu", "berlin-senat-usa-2024",
                                  "hamburg-cluster-jahresbericht-2020", "ruhr-innovation-bridges-israel-china-2019"}
    assert any("(Vorsitz)" in c.text for c in ws.store.chunks_of("leipzig-japan"))
    assert ws.store.count() == third.chunks


def test_ingesting_one_folder_does_not_remove_articles_of_another(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "eins.txt").write_text("Eins\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    (b / "zwei.txt").write_text("Zwei\n\nDie Delegation reiste nach China.", encoding="utf-8")
    ws = make_workspace(tmp_path / "data")
    sync([a], ws)
    report = sync([b], ws)
    assert (report.added, report.removed, report.documents) == (1, 0, 2)


def test_articles_with_one_id_in_two_files_of_one_run_are_both_kept(tmp_path):
    """Embedding is batched across files, so ids are claimed for the whole run, not only by what is indexed."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "bericht.txt").write_text(f"Bericht {name}\n\nDie Delegation {name} reiste nach Seoul.", encoding="utf-8")
    ws = make_workspace(tmp_path / "data")
    report = sync([tmp_path / "a", tmp_path / "b"], ws)
    assert (report.added, report.documents) == (2, 2)
    ids = ws.store.doc_ids()
    assert "bericht" in ids and len(ids) == 2 and all(i.startswith("bericht") for i in ids)
    texts = sorted(c.text for i in ids for c in ws.store.chunks_of(i))
    assert len(texts) == 2 and "Delegation a reiste" in texts[0] and "Delegation b reiste" in texts[1]
    assert sync([tmp_path / "a", tmp_path / "b"], ws).unchanged == 2


def test_a_running_assistant_sees_vectors_an_ingest_in_another_process_wrote(tmp_path):
    """An embedded Chroma keeps its vectors in memory; the retriever reopens it when an ingest changed the index."""
    import subprocess
    import sys

    from assistant.service import Assistant
    from conftest import ROOT

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    ws = make_workspace(tmp_path / "data")
    sync([corpus], ws)
    assistant = Assistant(ws)
    question = "Wohin reiste die Lübecker Delegation?"
    assert assistant.answer(question).refused
    (corpus / "luebeck.txt").write_text("Lübecker Delegation in Schweden\n\ndate 2023-07\n\nDie Lübecker Delegation unter "
                                        "Bürgermeister Jan Lindenau reiste im Juli nach Malmö.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cli", "ingest", str(corpus), "--data-dir", str(tmp_path / "data")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert assistant.retriever.retrieve(question, method="dense").passages[0].doc_id == "luebeck"
    assert "Malmö" in assistant.answer(question).answer
