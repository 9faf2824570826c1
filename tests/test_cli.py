"""The CLI contract integrators rely on, run as a user runs it (a subprocess)."""

import json
import os
import subprocess
import sys

from conftest import ROOT, SAMPLE

CLI = [sys.executable, "-m", "cli"]


def run(*args, env=None, cwd=ROOT):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=300)


def test_ingest_twice_then_ask_and_status(tmp_path):
    data = str(tmp_path / "data")
    first = run("ingest", str(SAMPLE), "--data-dir", data, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) == {"added", "updated", "unchanged", "removed", "failed", "documents", "chunks", "trips"}
    assert report["added"] == 5
    second = json.loads(run("ingest", str(SAMPLE), "--data-dir", data, "--json").stdout)
    assert (second["unchanged"], second["added"], second["updated"]) == (5, 0, 0)

    asked = run("ask", "Wer leitete die Wirtschaftsdelegation nach Japan?", "--json", env={"DELEGATIONS_DATA_DIR": data})
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert {"question", "answer", "refused", "backend", "citations", "contexts", "timings_ms"} <= set(answer)
    assert set(answer["timings_ms"]) == {"retrieve", "generate"}
    assert {"n", "doc_id", "title", "date", "source", "text", "score"} <= set(answer["citations"][0])
    assert "Uwe Albrecht" in answer["answer"] and answer["backend"] == "extractive"

    questions = tmp_path / "q.txt"
    questions.write_text("Wer leitete die Wirtschaftsdelegation nach Japan?\nWer reiste mit der Leipziger Delegation nach Brasilien?\n")
    lines = run("ask", "-f", str(questions), "--data-dir", data).stdout.strip().splitlines()
    assert [json.loads(l)["refused"] for l in lines] == [False, True]

    status = json.loads(run("status", "--data-dir", data, "--json").stdout)
    assert (status["documents"], status["chunks"]) == (5, report["chunks"])
    assert status["backend"] == "extractive" and status["backend_reachable"] is True


def test_ingest_with_a_bad_file_exits_1_and_keeps_the_good_ones(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "gut.txt").write_text("Reise\n\nDie Delegation reiste nach Japan.", encoding="utf-8")
    (folder / "leer.txt").write_text("")
    done = run("ingest", str(folder), "--data-dir", str(tmp_path / "d"), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["documents"] == 1 and [f["path"].endswith("leer.txt") for f in report["failed"]] == [True]


def test_user_mistakes_get_one_line_not_a_traceback(tmp_path):
    empty = run("ask", "Wer?", "--data-dir", str(tmp_path / "nothing"))
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr
    assert len(empty.stderr.strip().splitlines()) == 1
    bad_backend = run("ask", "Wer?", "--backend", "nope", "--data-dir", str(tmp_path / "nothing"))
    assert bad_backend.returncode == 2 and "Traceback" not in bad_backend.stderr


def test_unreachable_ollama_is_reported_quickly(tmp_path):
    data = str(tmp_path / "data")
    run("ingest", str(SAMPLE / "leipzig-japan.txt"), "--data-dir", data)
    done = run("ask", "Wer leitete die Delegation nach Japan?", "--backend", "ollama", "--data-dir", data, "--json",
               env={"OLLAMA_HOST": "http://127.0.0.1:9"})
    answer = json.loads(done.stdout)
    assert "not reachable at http://127.0.0.1:9" in answer["notices"][0]
    assert answer["backend"] == "ollama" and "Uwe Albrecht" in answer["answer"]  # extractive fallback, said so
    assert answer["generation"] == "fallback_backend_failed"
    strict = tmp_path / "strict.yaml"  # only what it changes: the bundled settings (and OLLAMA_HOST) still apply
    strict.write_text("llm:\n  fallback_to_extractive: false\n")
    failed = run("ask", "Wer leitete die Delegation nach Japan?", "--backend", "ollama", "--data-dir", data,
                 env={"OLLAMA_HOST": "http://127.0.0.1:9", "DELEGATIONS_SETTINGS": str(strict)})
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr.strip() == ("delegations: Ollama is not reachable at http://127.0.0.1:9; "
                                     "start it with `ollama serve` or set OLLAMA_HOST.")
