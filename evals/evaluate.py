"""Run eval cases through the assistant and score them (`delegations eval`).

Per case it records the answer, its citations and which slots were missed; overall it reports the metrics
of evals/metrics.py per category, per case file and in total, and compares them with a baseline.
"""

from __future__ import annotations

import time

from tqdm import tqdm

from evals import metrics as m
from evals.cases import Case

METRICS = ("hit_at_1", "hit_at_3", "hit_at_5", "mrr", "answer_accuracy", "slot_recall", "answer_first", "citation_validity",
           "citation_support", "citation_precision", "refusal_accuracy", "false_refusal_rate",
           "latency_ms_p50", "latency_ms_p95")
# How far a metric may move against its baseline before the eval fails (latency is machine-dependent).
TOLERANCE = {name: 0.02 for name in METRICS} | {"false_refusal_rate": 0.02, "latency_ms_p50": None,
                                                  "latency_ms_p95": None}
LOWER_IS_BETTER = {"false_refusal_rate", "latency_ms_p50", "latency_ms_p95"}


def run_case(assistant, case: Case, backend: str | None) -> dict:
    from assistant.service import Turn

    history: list[Turn] = []
    for turn in case.turns[:-1]:
        earlier = assistant.answer(turn, history=history, backend=backend)
        history += [Turn("user", turn), Turn("assistant", earlier.answer)]
    start = time.perf_counter()
    first = None
    if hasattr(assistant, "stream"):  # as the chat sees it: when the first checked sentence arrives
        answer = None
        for event in assistant.stream(case.turns[-1], history=history, backend=backend):
            if event["type"] == "delta" and first is None:
                first = (time.perf_counter() - start) * 1000
            elif event["type"] == "answer":
                answer = event["answer"]
    else:
        answer = assistant.answer(case.turns[-1], history=history, backend=backend).to_json()
    latency = (time.perf_counter() - start) * 1000
    result = score_case(case, answer, latency)
    result["first_sentence_ms"] = round(first if first is not None else latency, 1)
    return result


def score_case(case: Case, answer: dict, latency_ms: float) -> dict:
    """Per-case results: what was asked, what came back, and every metric's value for this case."""
    ctx = answer["contexts"]
    result = {
        "id": case.id, "category": case.category, "lang": case.lang, "source": case.source, "question": case.turns[-1],
        "turns": case.turns, "answerable": case.answerable, "answer": answer["answer"],
        "refused": answer["refused"], "citations": answer["citations"],
        "contexts": [c["chunk_id"] for c in ctx], "latency_ms": round(latency_ms, 1),
        "citation_validity": m.citation_validity(answer),
        "generation": answer.get("generation", ""),
    }
    if case.answerable:
        result.update({
            "hit_at_1": m.hit_at(ctx, case.expect_sources, 1), "hit_at_3": m.hit_at(ctx, case.expect_sources, 3),
            "hit_at_5": m.hit_at(ctx, case.expect_sources, 5), "mrr": m.reciprocal_rank(ctx, case.expect_sources),
            "correct": (not answer["refused"]) and (m.answer_correct(answer["answer"], case.expect) if case.expect
                                                    else _cites(answer, case.expect_sources)),
            "slot_recall": 0.0 if answer["refused"] else m.slot_recall(answer["answer"], case.expect),
            "answer_first": m.answer_first(answer["answer"], case.expect) if case.expect and not answer["refused"]
            and m.answer_correct(answer["answer"], case.expect) else None,
            "missing_slots": case.expect if answer["refused"] else m.missing_slots(answer["answer"], case.expect),
            "citation_support": None if answer["refused"] else m.citation_support(answer, case.expect),
            "citation_precision": m.citation_precision(answer, case.expect, case.expect_sources),
        })
    else:
        result["correct"] = answer["refused"]
    result["passed"] = bool(result["correct"])
    return result


def _cites(answer: dict, sources: list[str]) -> bool:
    """A case that expects only its sources (a 👍 from the chat): the answer cites one of those articles."""
    return any(c["doc_id"] in sources for c in answer["citations"])


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
        "answer_first": avg("answer_first", answerable),  # of the right answers: the first sentence holds it
        "citation_validity": avg("citation_validity", results),
        "citation_support": avg("citation_support", answered) if answered else 0.0,
        "citation_precision": avg("citation_precision", answered) if answered else 0.0,
        "refusal_accuracy": avg("correct", unanswerable) if unanswerable else 1.0,
        "false_refusal_rate": round(m.mean([float(r["refused"]) for r in answerable]), 4),
        "latency_ms_p50": round(m.percentile(latencies, 0.5), 1),
        "latency_ms_p95": round(m.percentile(latencies, 0.95), 1),
    }


# With `llm.fallback_to_extractive: false` these outcomes would have been the model's refusal (or its error).
_FALLBACKS = {"fallback_model_refused", "fallback_no_valid_citation", "fallback_unanswered", "fallback_backend_failed"}


def model_figures(results: list[dict]) -> dict:
    """For a generative backend: the model's own figures (a fallback counted as the refusal it replaced), the
    share of each generation outcome, and when the first checked sentence arrived."""
    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    own = [r["correct"] and r.get("generation") not in _FALLBACKS for r in answerable]
    own_refused = [r["refused"] or r.get("generation") in _FALLBACKS for r in answerable]
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r.get("generation", "")] = outcomes.get(r.get("generation", ""), 0) + 1
    first = [r["first_sentence_ms"] for r in results if r.get("first_sentence_ms") is not None]
    return {
        "model_own_accuracy": round(m.mean([float(x) for x in own]), 4),
        "model_own_refusal_rate": round(m.mean([float(x) for x in own_refused]), 4),
        "model_own_refusal_accuracy": round(m.mean([float(r["refused"] or r.get("generation") in _FALLBACKS)
                                                    for r in unanswerable]), 4) if unanswerable else 1.0,
        "generation": {k: round(v / len(results), 4) for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1])},
        "first_sentence_ms_p50": round(m.percentile(first, 0.5), 1),
        "first_sentence_ms_p95": round(m.percentile(first, 0.95), 1),
    }


def by_category(results: list[dict]) -> dict[str, dict]:
    cats: dict[str, list[dict]] = {}
    for r in results:
        cats.setdefault(r["category"], []).append(r)
    return {c: {"cases": len(rows), "passed": sum(r["passed"] for r in rows),
                "pass_rate": round(sum(r["passed"] for r in rows) / len(rows), 4)} for c, rows in sorted(cats.items())}


def baseline_metrics(baseline: dict, scored: set[str]) -> dict:
    """The baseline's figures over the cases this run scored too (a run beside distractors leaves some out);
    a baseline without its cases gives its figures as they are."""
    rows = [c for c in baseline.get("cases", []) if c["id"] in scored]
    if not rows:
        return baseline.get("metrics", baseline)
    return aggregate(rows)


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
    """Every case through the assistant (anything with `answer(question, history=, backend=)`), scored."""
    results = [run_case(assistant, case, backend) for case in tqdm(cases, unit="case", disable=not progress)]
    report = {"metrics": aggregate(results), "categories": by_category(results), "cases": results,
              "model": model_figures(results)}
    sources = list(dict.fromkeys(r["source"] for r in results))
    if len(sources) > 1:  # e.g. the sample cases and the distractor articles' cases in one run
        report["by_file"] = {src: aggregate([r for r in results if r["source"] == src]) for src in sources}
    return report


def evaluate_retrieval(retriever, cases: list[Case]) -> dict[str, dict]:
    """hit@k and MRR of each retrieval method (dense, keyword/BM25, hybrid) on the answerable cases, each
    searched with the standalone question the assistant would search with."""
    from assistant.question import analyse
    from index.retrieve import METHODS

    rows: dict[str, list[dict]] = {method: [] for method in METHODS}
    for case in cases:
        if not case.answerable:
            continue
        q = analyse(case.turns[-1], case.turns[:-1])
        for method in METHODS:
            found = retriever.retrieve(q.search, method=method, period=q.period)
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
