"""The chat's feedback as eval cases of the suite's schema: a 👍 becomes a case expecting the articles it
cited, a 👎 a case marked `todo: true` with the comment, which `delegations eval` lists but does not score
until someone writes down what the answer should contain.
"""

from __future__ import annotations

from dataclasses import asdict

from assistant.feedback import Feedback


def as_case(entry: Feedback) -> dict:
    """One eval case of evals/cases.yaml's schema. A 👍 on an answer expects its cited articles (a 👍 on a
    refusal: that the articles do not say); a 👎 is `todo` until someone fills in what is expected."""
    earlier = [t["content"] for t in entry.history if t.get("role") == "user"]
    case: dict = {"id": f"feedback-{entry.id}"}
    case.update({"turns": [*earlier, entry.question]} if earlier else {"question": entry.question})
    sources = sorted({c["doc_id"] for c in entry.citations if c.get("doc_id")})
    if entry.rating == "up" and (sources or entry.refused):
        case["answerable"] = not entry.refused
        if sources:
            case["expect_sources"] = sources
    else:  # a 👎, or a 👍 on an answer that cites nothing to check against
        case["todo"] = True
        case["answerable"] = True
        case["comment"] = entry.comment or "(no comment)"
        case["answer_given"] = entry.answer
    case["category"] = "feedback"
    case["lang"] = entry.lang
    return case


def to_json(entry: Feedback) -> dict:
    return asdict(entry)
