"""The eval cases as data: the schema is documented at the top of evals/cases.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_CASES = Path(__file__).with_name("cases.yaml")
NEWS_CASES = Path(__file__).with_name("cases_news.yaml")  # about the distractor articles; run with them


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
