"""Run the eval cases through the assistant and score them: `delegations eval`.

Per case it records the answer, its citations and which slots were missed; overall it reports the metrics
of evals/metrics.py per category and in total, compares with a baseline, and writes JSON and a Markdown
report with charts.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from evals import metrics as m

DEFAULT_CASES = Path(__file__).with_name("cases.yaml")
NEWS_CASES = Path(__file__).with_name("cases_news.yaml")  # about the distractor articles; run with them
METRICS = ("hit_at_1", "hit_at_3", "hit_at_5", "mrr", "answer_accuracy", "slot_recall", "citation_validity",
           "citation_support", "citation_precision", "refusal_accuracy", "false_refusal_rate",
           "latency_ms_p50", "latency_ms_p95")
# How far a metric may move against its baseline before the eval fails (latency is machine-dependent).
TOLERANCE = {name: 0.02 for name in METRICS} | {"false_refusal_rate": 0.02, "latency_ms_p50": None,
                                                  "latency_ms_p95": None}
LOWER_IS_BETTER = {"false_refusal_rate", "latency_ms_p50", "latency_ms_p95"}


class CaseError(ValueError):
    pass


@dataclass
class Case:
    id: str
    turns: list[str]
    answerable: bool
    expect: list[list[str]]
    expect_sources: list[str]
    category: str
    lang: str
    source: str = "cases"  # the case file's name: the report gives each file's figures apart


def load_cases(path: Path) -> list[Case]:
    try:
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseError(f"Cannot read cases from {path}: {exc}") from None
    if not isinstance(rows, list):
        raise CaseError(f"{path} must hold a list of cases.")
    cases, seen = [], set()
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict) or "id" not in row:
            raise CaseError(f"Case {i} in {path} has no id.")
        turns = row.get("turns") or ([row["question"]] if row.get("question") else [])
        if not turns:
            raise CaseError(f"Case {row['id']} has neither question nor turns.")
        if row["id"] in seen:
            raise CaseError(f"Case id {row['id']} appears twice.")
        seen.add(row["id"])
        expect = [[str(s) for s in slot] for slot in row.get("expect") or []]
        answerable = bool(row.get("answerable", True))
        if answerable and not expect:
            raise CaseError(f"Case {row['id']} is answerable but expects nothing.")
        cases.append(Case(str(row["id"]), [str(t) for t in turns], answerable, expect,
                          [str(s) for s in row.get("expect_sources") or []],
                          str(row.get("category") or ("followup" if len(turns) > 1 else "general")),
                          str(row.get("lang") or "de"), path.stem))
    return cases


def run_case(assistant, case: Case, backend: str | None) -> dict:
    from assistant.service import Turn

    history: list[Turn] = []
    for turn in case.turns[:-1]:
        earlier = assistant.answer(turn, history=history, backend=backend)
        history += [Turn("user", turn), Turn("assistant", earlier.answer)]
    start = time.perf_counter()
    answer = assistant.answer(case.turns[-1], history=history, backend=backend).to_json()
    latency = (time.perf_counter() - start) * 1000
    return score_case(case, answer, latency)


def score_case(case: Case, answer: dict, latency_ms: float) -> dict:
    """Per-case results: what was asked, what came back, and every metric's value for this case."""
    ctx = answer["contexts"]
    result = {
        "id": case.id, "category": case.category, "lang": case.lang, "source": case.source, "question": case.turns[-1],
        "turns": case.turns, "answerable": case.answerable, "answer": answer["answer"],
        "refused": answer["refused"], "citations": answer["citations"],
        "contexts": [c["chunk_id"] for c in ctx], "latency_ms": round(latency_ms, 1),
        "citation_validity": m.citation_validity(answer),
    }
    if case.answerable:
        result.update({
            "hit_at_1": m.hit_at(ctx, case.expect_sources, 1), "hit_at_3": m.hit_at(ctx, case.expect_sources, 3),
            "hit_at_5": m.hit_at(ctx, case.expect_sources, 5), "mrr": m.reciprocal_rank(ctx, case.expect_sources),
            "correct": (not answer["refused"]) and m.answer_correct(answer["answer"], case.expect),
            "slot_recall": 0.0 if answer["refused"] else m.slot_recall(answer["answer"], case.expect),
            "missing_slots": case.expect if answer["refused"] else m.missing_slots(answer["answer"], case.expect),
            "citation_support": None if answer["refused"] else m.citation_support(answer, case.expect),
            "citation_precision": m.citation_precision(answer, case.expect, case.expect_sources),
        })
    else:
        result["correct"] = answer["refused"]
    result["passed"] = bool(result["correct"])
    return result


def aggregate(results: list[dict]) -> dict:
    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    answered = [r for r in answerable if not r["refused"]]
    latencies = [r["latency_ms"] for r in results]

    def avg(key, rows):
        return round(m.mean([float(r[key]) for r in rows if r.get(key) is not None]), 4)

    return {
        "hit_at_1": avg("hit_at_1", answerable), "hit_at_3": avg("hit_at_3", answerable),
        "hit_at_5": avg("hit_at_5", answerable), "mrr": avg("mrr", answerable),
        "answer_accuracy": avg("correct", answerable), "slot_recall": avg("slot_recall", answerable),
        "citation_validity": avg("citation_validity", results),
        "citation_support": avg("citation_support", answered) if answered else 0.0,
        "citation_precision": avg("citation_precision", answered) if answered else 0.0,
        "refusal_accuracy": avg("correct", unanswerable) if unanswerable else 1.0,
        "false_refusal_rate": round(m.mean([float(r["refused"]) for r in answerable]), 4),
        "latency_ms_p50": round(m.percentile(latencies, 0.5), 1),
        "latency_ms_p95": round(m.percentile(latencies, 0.95), 1),
    }


def by_category(results: list[dict]) -> dict[str, dict]:
    cats: dict[str, list[dict]] = {}
    for r in results:
        cats.setdefault(r["category"], []).append(r)
    return {c: {"cases": len(rows), "passed": sum(r["passed"] for r in rows),
                "pass_rate": round(sum(r["passed"] for r in rows) / len(rows), 4)} for c, rows in sorted(cats.items())}


def compare(current: dict, baseline: dict) -> list[dict]:
    """Each metric against the baseline; `regressed` when it fell by more than its tolerance."""
    rows = []
    for name in METRICS:
        if name not in baseline:
            continue
        now, then, tol = current[name], baseline[name], TOLERANCE[name]
        delta = round(now - then, 4)
        worse = -delta if name not in LOWER_IS_BETTER else delta
        rows.append({"metric": name, "baseline": then, "current": now, "delta": delta,
                     "regressed": tol is not None and worse > tol})
    return rows


def evaluate(assistant, cases: list[Case], backend: str | None = None, progress: bool = False) -> dict:
    results = []
    start = time.monotonic()
    for i, case in enumerate(cases, 1):
        results.append(run_case(assistant, case, backend))
        if progress:
            rate = i / max(time.monotonic() - start, 1e-9)
            bar = "#" * int(30 * i / len(cases))
            sys.stderr.write(f"\r[{bar:<30}] {i}/{len(cases)} cases  {rate:.1f}/s ")
            sys.stderr.flush()
    if progress:
        sys.stderr.write("\n")
    report = {"metrics": aggregate(results), "categories": by_category(results), "cases": results}
    sources = list(dict.fromkeys(r["source"] for r in results))
    if len(sources) > 1:  # e.g. the sample cases and the distractor articles' cases in one run
        report["by_file"] = {src: aggregate([r for r in results if r["source"] == src]) for src in sources}
    return report


def evaluate_retrieval(retriever, cases: list[Case]) -> dict[str, dict]:
    """hit@k and MRR of each retrieval method (dense, keyword/BM25, hybrid) on the answerable cases, each
    searched with the standalone question the assistant would search with."""
    from assistant.service import condense
    from index.retrieve import METHODS

    rows: dict[str, list[dict]] = {method: [] for method in METHODS}
    for case in cases:
        if not case.answerable:
            continue
        question = condense(case.turns[-1], case.turns[:-1])
        for method in METHODS:
            found = retriever.retrieve(question, method=method)
            ctx = [{"doc_id": p.doc_id} for p in found.passages]
            rows[method].append({"hit_at_1": m.hit_at(ctx, case.expect_sources, 1),
                                 "hit_at_3": m.hit_at(ctx, case.expect_sources, 3),
                                 "hit_at_5": m.hit_at(ctx, case.expect_sources, 5),
                                 "mrr": m.reciprocal_rank(ctx, case.expect_sources), "ms": found.ms, "id": case.id})
    out = {}
    for method, results in rows.items():
        out[method] = {key: round(m.mean([r[key] for r in results]), 4) for key in ("hit_at_1", "hit_at_3", "hit_at_5", "mrr")}
        out[method]["latency_ms_p50"] = round(m.percentile([r["ms"] for r in results], 0.5), 1)
        out[method]["latency_ms_p95"] = round(m.percentile([r["ms"] for r in results], 0.95), 1)
        out[method]["missed_at_5"] = [r["id"] for r in results if not r["hit_at_5"]]
    return out


def format_retrieval(table: dict[str, dict]) -> str:
    keys = ("hit_at_1", "hit_at_3", "hit_at_5", "mrr", "latency_ms_p50", "latency_ms_p95")
    lines = [f"{'retrieval':<10}" + "".join(f"{k:>16}" for k in keys)]
    for method, row in table.items():
        lines.append(f"{method:<10}" + "".join(f"{row[k]:>16}" for k in keys))
    for method, row in table.items():
        if row["missed_at_5"]:
            lines.append(f"{method} missed at 5: {', '.join(row['missed_at_5'])}")
    return "\n".join(lines)


def format_table(report: dict) -> str:
    lines = [f"{'category':<16} {'cases':>5} {'passed':>6} {'rate':>6}"]
    for cat, row in report["categories"].items():
        lines.append(f"{cat:<16} {row['cases']:>5} {row['passed']:>6} {row['pass_rate']:>6.2f}")
    lines.append("")
    files = report.get("by_file", {})
    lines.append(f"{'':<20} {'all':>8}" + "".join(f"{src:>14}" for src in files))
    for name, value in report["metrics"].items():
        lines.append(f"{name:<20} {value:>8}" + "".join(f"{row[name]:>14}" for row in files.values()))
    failed = [r for r in report["cases"] if not r["passed"]]
    if failed:
        lines.append("")
        lines.append("failed cases: " + ", ".join(r["id"] for r in failed))
    return "\n".join(lines)


def run_cli(args, workspace) -> int:
    from assistant.service import Assistant
    from cli import UserError

    if args.distractors:
        _ingest_with_distractors(workspace, Path(args.distractors))
    try:
        cases = load_cases(Path(args.cases) if args.cases else DEFAULT_CASES)
        if args.distractors and not args.cases:
            cases += load_cases(NEWS_CASES)
    except CaseError as exc:
        raise UserError(str(exc)) from None
    if workspace.manifest.counts()[0] == 0:
        raise UserError(f"The index in {workspace.settings.data_dir} is empty; run `delegations ingest` first.")
    if args.retrieval_only:
        from index.retrieve import Retriever

        table = evaluate_retrieval(Retriever(workspace), cases)
        print(format_retrieval(table))
        _write(args, {"retrieval": table, "documents": workspace.manifest.counts()[0]})
        return 0
    if args.backend == "naive":  # the reference pipeline, to see what the real one adds
        from evals.naive import NaiveAssistant

        subject = NaiveAssistant(workspace)
    else:
        subject = Assistant(workspace)
    report = evaluate(subject, cases, args.backend, progress=sys.stderr.isatty())
    report["backend"] = args.backend or workspace.settings.llm.backend
    report["documents"] = workspace.manifest.counts()[0]
    print(format_table(report))
    if args.backend != "naive":
        report["retrieval"] = evaluate_retrieval(subject.retriever, cases)
        print()
        print(format_retrieval(report["retrieval"]))
    code = 0
    if args.baseline:
        try:
            baseline = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"Cannot read the baseline {args.baseline}: {exc}") from None
        # The baseline is a run of the sample cases: with the distractors' cases added, their figures compare.
        compared = report.get("by_file", {}).get(DEFAULT_CASES.stem, report["metrics"])
        report["comparison"] = compare(compared, baseline.get("metrics", baseline))
        print(f"\nagainst the baseline ({DEFAULT_CASES.name if 'by_file' in report else 'all cases'}):")
        for row in report["comparison"]:
            flag = "  REGRESSED" if row["regressed"] else ""
            print(f"{row['metric']:<20} {row['baseline']:>8} -> {row['current']:>8} ({row['delta']:+}){flag}")
        code = 1 if any(r["regressed"] for r in report["comparison"]) else 0
    _write(args, report)
    return code


def _write(args, report: dict) -> None:
    """The JSON results and the Markdown report, where the command line asked for them."""
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.report:
        from evals.report import write_report

        write_report(report, Path(args.report))


def _ingest_with_distractors(workspace, distractors: Path) -> None:
    """The sample corpus and the distractor articles in one index (incremental: a second run embeds nothing)."""
    from cli import UserError
    from index.sync import sync

    if not distractors.exists():
        raise UserError(f"No distractor file at {distractors}.")
    corpus = workspace.settings.corpus_dir

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\ringesting {done}/{total} files ")

    report = sync([corpus, distractors], workspace, progress)
    sys.stderr.write(f"index: {report.documents} articles, {report.chunks} chunks "
                     f"({report.added} added, {report.unchanged} unchanged)\n")
