"""The issue's acceptance, as a user runs it: a folder with the sample corpus and every kind of bad file
beside it. Each failure is one line with path and reason, every good article is indexed, the exit code is 1,
and the Windows-1252 article answers questions with its umlauts intact."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE, make_workspace

pytestmark = pytest.mark.slow


def _bad_folder(path):
    from fpdf import FPDF

    shutil.copytree(SAMPLE, path / "sample")
    (path / "empty.txt").write_text("")
    (path / "noise.txt").write_bytes(os.urandom(5000))
    (path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\ntrailer<<>>\n%%EOF")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Geheime Reise. Die Delegation reiste nach Oslo.")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.output(str(path / "encrypted.pdf"))
    (path / "muenchen.txt").write_bytes(
        "Münchner Delegation in Südkorea\n\ndate 2022-10\n\nOberbürgermeister Dieter Reiter führte die Münchner "
        "Delegation nach Seoul. Die Gäste besprachen dort Elektromobilität und Städtepartnerschaften.\n".encode("cp1252"))
    (path / "koeln.html").write_text(
        "<html><head><title>Kölner Delegation in Kanada</title><style>body{color:red}</style>"
        "<script>var geheim = 'Skriptinhalt';</script></head><body><h1>Kölner Delegation in Kanada</h1>"
        "<p>Die Kölner Delegation reiste im Mai nach Toronto.</p><script>document.write('Skriptinhalt')</script></body></html>",
        encoding="utf-8")
    lines = [json.dumps({"id": "dresden-taiwan", "title": "Dresdner Delegation in Taiwan", "date": "2021-05",
                         "text": "Die Dresdner Delegation reiste nach Taipeh."}),
             '{"id": "kaputt", "title": ',
             json.dumps({"id": "kiel-norwegen", "title": "Kieler Delegation in Norwegen", "date": "2021-06",
                         "text": "Die Kieler Delegation reiste nach Bergen."})]
    (path / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path / "loop").mkdir()
    os.symlink("..", path / "loop" / "up")
    return path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_a_folder_of_bad_files_beside_good_articles(tmp_path):
    folder = _bad_folder(tmp_path / "in")
    data = tmp_path / "data"
    done = _cli("ingest", str(folder), "--data-dir", str(data), "--json")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    failed = {os.path.relpath(f["path"], folder): f["error"] for f in report["failed"]}
    assert set(failed) == {"empty.txt", "noise.txt", "broken.pdf", "encrypted.pdf", "mixed.jsonl:2", "loop/up"}
    assert all("\n" not in e and e.endswith(".") for e in failed.values())
    assert "password" in failed["encrypted.pdf"] and "Line 2" in failed["mixed.jsonl:2"]
    assert report["documents"] == 5 + 4  # the sample, München, Köln, and both good JSONL lines

    ws = make_workspace(data)
    assert {"muenchen", "koeln", "dresden-taiwan", "kiel-norwegen"} <= ws.store.doc_ids()
    html = " ".join(c.text for c in ws.store.chunks_of("koeln"))
    assert "Toronto" in html and "Skriptinhalt" not in html and "color:red" not in html

    answer = json.loads(_cli("ask", "Wer führte die Münchner Delegation nach Seoul?", "--data-dir", str(data), "--json").stdout)
    assert answer["answer"].startswith("Oberbürgermeister Dieter Reiter führte die Münchner Delegation nach Seoul.")
    assert answer["citations"][0]["doc_id"] == "muenchen" and "Städtepartnerschaften" in answer["citations"][0]["text"]


def test_a_file_that_vanishes_mid_run_is_one_failure(tmp_path, monkeypatch):
    """Deleted after the folder was listed and before it was read, as when a sync job removes it."""
    import index.sync as sync_module
    import ingest.readers as readers

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bleibt.txt").write_text("Reise\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    (folder / "weg.txt").write_text("Weg\n\nDie Delegation reiste nach Peru.", encoding="utf-8")
    listed = readers.discover

    def discover_then_delete(paths):
        found = listed(paths)
        (folder / "weg.txt").unlink()
        return found

    monkeypatch.setattr(readers, "discover", discover_then_delete)
    report = sync_module.sync([folder], make_workspace(tmp_path / "data"))
    assert report.documents == 1 and [os.path.basename(f.path) for f in report.failed] == ["weg.txt"]
    assert report.failed[0].error.startswith("Cannot read the file: No such file")


def test_oversized_files_are_refused_unread(tmp_path, monkeypatch):
    """A 50 MB text file (a dump, not an article) is one failure line and is never read into memory; so is a
    file over ingest.max_file_mb, and an over-long article inside a JSONL file."""
    from pathlib import Path

    from index.sync import sync

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "gut.txt").write_text("Reise\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    with open(folder / "dump.txt", "w", encoding="utf-8") as f:
        for _ in range(50):
            f.write("Die Delegation reiste weiter. " * 34_000 + "\n")  # about 1 MB a round
    (folder / "lang.jsonl").write_text(json.dumps({"id": "buch", "title": "Buch", "text": "Ein Satz. " * 60_000}) + "\n"
                                       + json.dumps({"id": "kurz", "title": "Kurz", "text": "Die Delegation reiste nach Peru."}) + "\n")
    read = []
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real_read(self))
    report = sync([folder], make_workspace(tmp_path / "data", ingest={"max_file_mb": 60}))
    reasons = {os.path.basename(f.path): f.error for f in report.failed}
    assert set(reasons) == {"dump.txt", "lang.jsonl:buch"} and report.documents == 2
    assert reasons["dump.txt"].startswith("The file is 51.") and reasons["dump.txt"].endswith("not read.")
    assert "ingest.max_article_chars" in reasons["lang.jsonl:buch"]
    assert "dump.txt" not in read and "gut.txt" in read  # refused by its size, never read into memory
    small = sync([folder], make_workspace(tmp_path / "data2", ingest={"max_file_mb": 0.5}))
    assert any(f.error.startswith("The file is 0.6 MB; the limit is 0.5 MB") for f in small.failed)


LOSE_PERMISSION = """
import os, sys
from pathlib import Path
import index.sync as sync_module
import ingest.readers as readers
from conftest import make_workspace

folder, data = Path(sys.argv[1]), Path(sys.argv[2])
listed = readers.discover

def discover_then_lock(paths):
    found = listed(paths)
    os.chmod(folder / "gesperrt.txt", 0)  # listed while readable, unreadable when its turn comes
    return found

readers.discover = discover_then_lock
report = sync_module.sync([folder], make_workspace(data))
print(report.documents, *[f"{os.path.basename(f.path)}|{f.error}" for f in report.failed], sep="\\n")
"""


def test_a_file_that_loses_read_permission_mid_run_is_one_failure(tmp_path):
    """Root reads any file, so as root the run drops the capabilities that let it (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH) and is held to the permission bits like any user."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "offen.txt").write_text("Reise\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    (folder / "gesperrt.txt").write_text("Gesperrt\n\nDie Delegation reiste nach Peru.", encoding="utf-8")
    unprivileged = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv (util-linux) to drop the capability to read any file")
        unprivileged = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    run = subprocess.run([*unprivileged, sys.executable, "-c", LOSE_PERMISSION, str(folder), str(tmp_path / "data")],
                         cwd=ROOT / "tests", env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    documents, *failed = run.stdout.strip().splitlines()
    assert documents == "1" and failed == ["gesperrt.txt|Cannot read the file: Permission denied."]
