"""`delegations bench` on a few sample articles: every figure present and consistent with what was ingested,
the scale run at small sizes with its plot, the report. Speed targets are read from the benchmark's output by
people, never asserted here."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE
from bench import speed as bench
from settings import load_settings


@pytest.mark.slow
def test_bench_measures_every_figure_on_the_same_articles(tmp_path):
    plot = tmp_path / "scale.png"
    lines = []
    row = bench.run(SAMPLE, load_settings(data_dir=str(tmp_path / "unused")), limit=3, scale_sizes=(40, 120),
                    plot=plot, log=lines.append)
    assert list(row) == [*bench.FIELDS, "scale"]
    assert row["articles"] == 3 and row["chunks"] >= 3 and row["chars"] > 1000 and row["cores"] >= 1
    assert row["overhead_ratio"] == pytest.approx(row["ingest_s"] / row["embed_raw_s"], rel=0.01)
    assert row["trips"] >= 1 and row["trips_s"] > 0  # the three sample articles report trips
    assert row["overhead_ratio_with_trips"] == pytest.approx((row["ingest_s"] + row["trips_s"]) / row["embed_raw_s"], rel=0.01)
    assert row["speedup_vs_naive"] == pytest.approx(row["naive_ingest_s"] / row["ingest_s"], rel=0.01)
    assert row["reingest_s"] < row["ingest_s"]  # nothing changed: nothing embedded
    assert 0 < row["retrieve_ms_p50"] <= row["retrieve_ms_p95"] and 0 < row["answer_ms_p50"] <= row["answer_ms_p95"]
    assert row["cold_start_s"] > 0 and row["peak_rss_mb"] > 0
    assert [r["chunks"] for r in row["scale"]] == [40, 120]
    assert all(r[f"{m}_ms_p95"] > 0 for r in row["scale"] for m in ("dense", "keyword", "hybrid"))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = bench.markdown(row, "delegations bench --corpus corpus/sample --limit 3", plot)
    assert all(f"| {k} |" in report for k in bench.FIELDS) and "scale.png" in report
    assert any(line.startswith("embed_raw_s") for line in lines)


def test_bench_ingest_only_measures_the_ingest_and_stops(tmp_path):
    lines = []
    row = bench.run(SAMPLE, load_settings(data_dir=str(tmp_path / "unused")), limit=2, log=lines.append, ingest_only=True)
    assert list(row) == list(bench.INGEST_FIELDS)
    assert row["overhead_ratio"] == pytest.approx(row["ingest_s"] / row["embed_raw_s"], rel=0.01)
    assert "naive_ingest_s" not in row and not any(line.startswith("naive_ingest_s") for line in lines)
    report = bench.markdown(row, "delegations bench --corpus corpus/sample --limit 2 --ingest-only", None)
    assert "| overhead_ratio |" in report and "| naive_ingest_s |" not in report
    run = subprocess.run([sys.executable, "-m", "cli", "bench", "--corpus", str(SAMPLE), "--ingest-only", "--scale"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0 and "Traceback" not in run.stderr and "--ingest-only" in run.stderr


def test_bench_on_a_missing_corpus_is_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "cli", "bench", "--corpus", str(tmp_path / "nope")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.strip() == f"delegations: {tmp_path / 'nope'} does not exist."
    assert json.loads(run.stdout or "null") is None


@pytest.mark.slow
def test_bench_instances_ingests_with_one_and_with_two_instances_into_one_shared_index(tmp_path, postgres):
    from bench import instances

    corpus = tmp_path / "news.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"n{i}", "title": f"Kammer {i}", "text": f"Die Kammer {i} reiste im Mai "
                                          f"nach Oslo. Dort traf sie Vertreter der Stadt {i}."}) + "\n" for i in range(6)),
                      encoding="utf-8")
    out = tmp_path / "rows.json"
    assert instances.main([str(corpus), "--articles", "6", "--json", str(out)]) == 0
    one, two = json.loads(out.read_text(encoding="utf-8"))
    assert (one["instances"], two["instances"]) == (1, 2)
    assert one["articles"] == two["articles"] == 6 and one["documents_in_index"] == two["documents_in_index"] == 6
    assert one["articles_per_s"] > 0 and two["articles_per_s"] > 0
