"""Each input format is read into clean articles; broken files become one-line failures."""

import json
import os

from ingest.readers import load

SCRIPTED_HTML = """<html><head><title>Seite</title><meta property="og:title" content="Delegation in Kobe">
<meta property="article:published_time" content="2023-05-04T10:00:00Z"><style>p{color:red}</style>
<script>alert('x')</script></head><body><nav>Menü Start Kontakt</nav><article><h1>Delegation in Kobe</h1>
<p>Die Delegation besuchte Kobe.</p><p>Dr. Randy Kurz war dabei.</p></article><footer>Impressum</footer></body></html>"""


def test_txt_md_html_jsonl_are_read(tmp_path):
    (tmp_path / "a.txt").write_text("Titel der Reise\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Reise nach Kobe\n\nDie **Delegation** besuchte [Kobe](http://x).", encoding="utf-8")
    (tmp_path / "c.html").write_text(SCRIPTED_HTML, encoding="utf-8")
    rows = [{"id": "n-1", "title": "Minister in Paris", "date": "2011-03-02", "text": "Der Minister reiste nach Paris.", "source": "wiki"}]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    articles, failures = load([tmp_path])
    by_id = {a.doc_id: a for a in articles}
    assert set(by_id) == {"a", "b", "c", "n-1"}
    assert by_id["a"].title == "Titel der Reise"
    assert "Delegation besuchte Kobe" in by_id["b"].text and "**" not in by_id["b"].text
    html = by_id["c"]
    assert html.title == "Delegation in Kobe" and html.date.iso == "2023-05-04"
    assert "alert" not in html.text and "color" not in html.text and "Menü" not in html.text and "Impressum" not in html.text
    assert "Dr. Randy Kurz war dabei." in html.text
    assert by_id["n-1"].date.iso == "2011-03-02" and by_id["n-1"].source == "wiki"
    assert [f.path for f in failures] == [f"{tmp_path / 'd.jsonl'}:2"]


def test_pdf_text_is_read_without_page_furniture(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    stops = ["Boston", "New York", "Los Angeles"]
    for page in range(1, 4):
        pdf.add_page()
        pdf.cell(0, 8, "Berliner Wirtschaft - Delegationsreise", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, f"Hier berichtet der Artikel von der Reise nach {stops[page - 1]} und den Gesprächen dort.")
        pdf.cell(0, 8, "Foto: IHK Berlin", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 8, str(page), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "heft.pdf"))
    articles, failures = load([tmp_path])
    assert not failures
    text = articles[0].text
    for stop in ("Boston", "New York", "Los Angeles"):
        assert f"berichtet der Artikel von der Reise nach {stop} und den Gesprächen dort." in text
    assert "Berliner Wirtschaft - Delegationsreise" not in text and "Foto:" not in text


def test_latin1_text_keeps_its_umlauts(tmp_path):
    (tmp_path / "alt.txt").write_bytes("Überschrift\n\nDie Gäste aus Köln aßen Grünkohl.".encode("latin-1"))
    articles, failures = load([tmp_path])
    assert not failures and "Die Gäste aus Köln aßen Grünkohl." in articles[0].text


def test_bad_files_fail_one_line_each_and_good_ones_survive(tmp_path):
    (tmp_path / "good.txt").write_text("Gute Nachricht\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "noise.txt").write_bytes(os.urandom(4000))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    articles, failures = load([tmp_path])
    assert [a.doc_id for a in articles] == ["good"]
    reasons = {os.path.basename(f.path): f.error for f in failures}
    assert set(reasons) == {"empty.txt", "noise.txt", "broken.pdf"}
    assert all("\n" not in r and r.endswith(".") for r in reasons.values())


def test_sample_corpus_is_cleaned_and_dated():
    from conftest import SAMPLE

    articles, failures = load([SAMPLE])
    by_id = {a.doc_id: a for a in articles}
    assert not failures and len(by_id) == 5
    assert by_id["hamburg-israel-2019"].date.iso == "2019-08"
    assert by_id["hamburg-cluster-jahresbericht-2020"].date.iso == "2020-09-17"
    assert by_id["berlin-senat-usa-2024"].date.iso == "2024-12"
    berlin = by_id["berlin-senat-usa-2024"].text
    assert "RkJQdWJsaXNoZXIy" not in berlin and "■" not in berlin and "FOTOS:" not in berlin
    assert "Kai Wegner" in berlin
    assert "×" not in by_id["ruhr-innovation-bridges-israel-china-2019"].text
    assert not by_id["hamburg-israel-2019"].text.startswith("date")
