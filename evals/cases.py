"""The eval cases as data: the schema is documented at the top of evals/cases.yaml.

Reading-comprehension sets in the SQuAD/XQuAD manner load too, as JSONL: one question a line,
`{"id", "question", "answers": [accepted answers], "doc_id"}` (or `answerable: false` and no answers); the
accepted answers are one slot, any of them counts (`../shared/data/xquad_de/questions.jsonl`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_CASES = Path(__file__).with_name("cases.yaml")
NEWS_CASES = Path(__file__).with_name("cases_news.yaml")  # about the distractor articles; run with them
NOT_STATED_CASES = Path(__file__).with_name("cases_not_stated.yaml")  # details the distractor articles do not give


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
    todo: bool = False  # written from a 👎 (or so marked): listed by the eval, scored once its slots are filled in
    comment: str = ""
    scope: str = ""  # "sample": about the sample corpus as a whole (a list or count of its trips), see cases.yaml
    split: str = ""  # "heldout": kept apart while the answering is worked on; reported as its own file
    slot: str = ""  # what is asked (person, companion, place, date, amount, organisation, outcome), where labelled


def load_cases(path: Path) -> list[Case]:
    try:
        if path.suffix == ".jsonl":
            rows = [_reading_case(json.loads(line), n) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                    if line.strip()]
        else:
            rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError) as exc:
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
        sources = [str(s) for s in row.get("expect_sources") or []]
        answerable = bool(row.get("answerable", True))
        todo = bool(row.get("todo", False))
        if answerable and not expect and not sources and not todo:
            raise CaseError(f"Case {row['id']} is answerable but expects nothing (no expect, no expect_sources).")
        cases.append(Case(str(row["id"]), [str(t) for t in turns], answerable, expect, sources,
                          str(row.get("category") or ("followup" if len(turns) > 1 else "general")),
                          str(row.get("lang") or "de"), path.stem + ("-heldout" if row.get("split") == "heldout" else ""),
                          todo, str(row.get("comment") or ""), str(row.get("scope") or ""), str(row.get("split") or ""),
                          str(row.get("slot") or "")))
    return cases


def _reading_case(row: dict, n: int) -> dict:
    """A reading-comprehension line as a case of the YAML schema."""
    if not isinstance(row, dict) or not row.get("question"):
        raise ValueError(f"line {n} has no question")
    answers = [str(a) for a in row.get("answers") or []]
    answerable = bool(row.get("answerable", bool(answers)))
    return {"id": str(row.get("id") or n), "question": row["question"], "answerable": answerable,
            "expect": [answers] if answers else [], "expect_sources": [row["doc_id"]] if row.get("doc_id") else [],
            "category": row.get("category") or "reading", "lang": row.get("lang") or "de"}
