"""Metric functions, the case file's schema, and the eval against the committed baseline (a regression gate)."""

import json
from pathlib import Path

from evals import metrics as m
from evals.cases import DEFAULT_CASES, load_cases
from evals.evaluate import compare, evaluate

BASELINE = Path(__file__).resolve().parent.parent / "evals" / "baseline.json"


def test_normalising_folds_case_umlauts_and_punctuation():
    assert m.slot_present("Die Helmut-Schmidt-Universitaet.", ["Helmut-Schmidt-Universität"])
    assert m.slot_present("„Digital. Health. Now.“", ["Digital. Health. Now."])
    assert not m.slot_present("Bochumer", ["Bochum"])
    assert abs(m.slot_recall("New York und Boston", [["New York"], ["Boston"], ["Los Angeles"]]) - 2 / 3) < 1e-9


def test_retrieval_and_citation_metrics():
    ctx = [{"doc_id": "x"}, {"doc_id": "y"}]
    assert (m.hit_at(ctx, ["y"], 1), m.hit_at(ctx, ["y"], 3), m.reciprocal_rank(ctx, ["y"])) == (0.0, 1.0, 0.5)
    answer = {"answer": "Uwe Albrecht [1] und X [3].", "citations": [{"n": 1, "doc_id": "y", "title": "", "text": "Uwe Albrecht"}]}
    assert m.citation_validity(answer) == 0.5
    assert m.citation_support(answer, [["Uwe Albrecht"]]) == 1.0
    assert m.citation_precision(answer, [["Uwe Albrecht"]], ["y"]) == 1.0
    assert m.percentile([1, 2, 3, 4], 0.5) == 2.5


def test_case_file_meets_its_own_schema():
    cases = load_cases(DEFAULT_CASES)
    assert len(cases) >= 40
    assert sum(not c.answerable for c in cases) >= 8
    assert sum(len(c.turns) > 1 for c in cases) >= 5
    assert sum(c.lang == "en" for c in cases) >= 5
    assert {s for c in cases for s in c.expect_sources} == {
        "leipzig-japan", "hamburg-israel-2019", "hamburg-cluster-jahresbericht-2020",
        "ruhr-innovation-bridges-israel-china-2019", "berlin-senat-usa-2024"}


def test_baseline_regression_is_detected():
    rows = compare({"answer_accuracy": 0.70, "hit_at_5": 1.0}, {"answer_accuracy": 0.80, "hit_at_5": 1.0})
    assert [r["metric"] for r in rows if r["regressed"]] == ["answer_accuracy"]


def test_extractive_backend_holds_its_baseline(assistant):
    report = evaluate(assistant, load_cases(DEFAULT_CASES))
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["metrics"]
    regressed = [r for r in compare(report["metrics"], baseline) if r["regressed"]]
    assert not regressed, regressed
    metrics = report["metrics"]
    assert metrics["hit_at_5"] >= 0.95 and metrics["answer_accuracy"] >= 0.80
    assert metrics["citation_support"] >= 0.95 and metrics["refusal_accuracy"] >= 0.85
    assert metrics["false_refusal_rate"] <= 0.05 and metrics["citation_validity"] == 1.0


def test_a_run_over_two_case_files_reports_each_apart(tmp_path):
    """With the distractors' cases added, the sample cases' own figures are what the baseline compares."""
    (tmp_path / "news.yaml").write_text(
        "- id: n1\n  question: Wer?\n  expect: [[Nobody]]\n  expect_sources: [x]\n", encoding="utf-8")
    cases = load_cases(DEFAULT_CASES)[:2] + load_cases(tmp_path / "news.yaml")

    class Quoting:  # answers every question with the first case's expected name, cited from article x
        def answer(self, question, history=None, backend=None):
            class Reply:
                def to_json(self):
                    text = "Uwe Albrecht [1]" if "Japan" in question else "Niemand [1]"
                    return {"answer": text, "refused": False, "contexts": [{"chunk_id": "x#0", "doc_id": "x"}],
                            "citations": [{"n": 1, "doc_id": "x", "title": "", "text": text}]}
            return Reply()

    report = evaluate(Quoting(), cases)
    assert set(report["by_file"]) == {"cases", "news"}
    assert report["by_file"]["cases"]["answer_accuracy"] == 0.5 and report["by_file"]["news"]["answer_accuracy"] == 0.0
    assert report["metrics"]["answer_accuracy"] == round(1 / 3, 4)


def test_the_baseline_compares_over_the_cases_both_runs_scored():
    from evals.evaluate import baseline_metrics

    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    whole = {c.id for c in load_cases(DEFAULT_CASES) if c.scope == "sample"}
    assert whole and all(i.startswith(("trips-", "no-trips-")) for i in whole)  # lists and counts of the sample's trips
    kept = {c["id"] for c in baseline["cases"]} - whole
    narrowed = baseline_metrics(baseline, kept)
    unanswerable = [c for c in baseline["cases"] if c["id"] in kept and not c["answerable"]]
    assert narrowed["refusal_accuracy"] == round(sum(c["correct"] for c in unanswerable) / len(unanswerable), 4)
    assert baseline_metrics({"metrics": {"answer_accuracy": 0.9}}, kept) == {"answer_accuracy": 0.9}


def test_reading_comprehension_sets_load_as_cases_with_several_accepted_answers(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text('{"id": "q1", "question": "Wie viele Sacks?", "answers": ["136", "hundertsechsunddreißig"], "doc_id": "p1"}\n'
                    '{"id": "q2", "question": "Wer gewann?", "answerable": false}\n', encoding="utf-8")
    first, second = load_cases(path)
    assert (first.expect, first.expect_sources, first.answerable) == ([["136", "hundertsechsunddreißig"]], ["p1"], True)
    assert not second.answerable and second.expect == []
    assert m.answer_correct("Jared Allen erzielte hundertsechsunddreißig Sacks.", first.expect)


def test_the_asked_detail_not_stated_cases_are_refusals_with_a_held_out_part():
    from evals.cases import NOT_STATED_CASES

    cases = load_cases(NOT_STATED_CASES)
    assert len(cases) >= 20 and not any(c.answerable for c in cases)
    assert {c.source for c in cases} == {"cases_not_stated", "cases_not_stated-heldout"}
    assert all(c.slot and c.category == "not_stated" and c.expect_sources for c in cases)
