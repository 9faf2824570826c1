"""The Markdown eval report with PNG charts (pass rate per category; pass/fail per case)."""

from __future__ import annotations

from pathlib import Path


def _charts(report: dict, folder: Path, stem: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    names = []
    cats = report["categories"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(list(cats), [c["pass_rate"] for c in cats.values()], color="#3b6ea5")
    ax.set_ylim(0, 1)
    ax.set_ylabel("pass rate")
    ax.set_title("Pass rate per category")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    names.append(f"{stem}-categories.png")
    fig.savefig(folder / names[-1], dpi=110)
    plt.close(fig)

    cases = report["cases"]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.18 * len(cases))))
    ax.barh([c["id"] for c in cases], [1] * len(cases),
            color=["#4c9a5f" if c["passed"] else "#c0504d" for c in cases])
    ax.set_xticks([])
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=6)
    ax.set_title("Cases: green passed, red failed")
    fig.tight_layout()
    names.append(f"{stem}-cases.png")
    fig.savefig(folder / names[-1], dpi=110)
    plt.close(fig)
    return names


def _retrieval_chart(table: dict, folder: Path, stem: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ("hit_at_1", "hit_at_5", "mrr")
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / len(table)
    for i, (method, row) in enumerate(table.items()):
        ax.bar([k + i * width for k in range(len(keys))], [row[k] for k in keys], width, label=method)
    ax.set_xticks([k + width * (len(table) - 1) / 2 for k in range(len(keys))], keys)
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right")
    ax.set_title("Retrieval by method")
    fig.tight_layout()
    name = f"{stem}-retrieval.png"
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def _retrieval_lines(report: dict, folder: Path, stem: str) -> list[str]:
    table = report.get("retrieval")
    if not table:
        return []
    keys = ("hit_at_1", "hit_at_3", "hit_at_5", "mrr", "latency_ms_p50", "latency_ms_p95")
    lines = ["", f"## Retrieval by method ({report.get('documents', '?')} articles indexed)", "",
             "| method | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {method} | " + " | ".join(str(row[k]) for k in keys) + " |" for method, row in table.items()]
    lines += ["", f"![retrieval]({_retrieval_chart(table, folder, stem)})"]
    return lines


def write_report(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if "metrics" not in report:  # --retrieval-only
        lines = ["# Retrieval eval", *_retrieval_lines(report, path.parent, path.stem)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    charts = _charts(report, path.parent, path.stem)
    files = report.get("by_file", {})  # with the distractors' cases: each case file's figures too
    lines = [f"# Eval report ({report.get('backend', '')}, {report.get('documents', '?')} articles)", "",
             "| " + " | ".join(["metric", "all", *files]) + " |", "|---" * (2 + len(files)) + "|"]
    lines += ["| " + " | ".join([k, str(v), *(str(row[k]) for row in files.values())]) + " |"
              for k, v in report["metrics"].items()]
    if report.get("comparison"):
        lines += ["", "## Against the baseline", "", "| metric | baseline | current | delta | |", "|---|---|---|---|---|"]
        lines += [f"| {r['metric']} | {r['baseline']} | {r['current']} | {r['delta']:+} | {'**regressed**' if r['regressed'] else ''} |"
                  for r in report["comparison"]]
    lines += ["", "## Per category", "", "| category | cases | passed | rate |", "|---|---|---|---|"]
    lines += [f"| {c} | {r['cases']} | {r['passed']} | {r['pass_rate']} |" for c, r in report["categories"].items()]
    lines += ["", *[f"![{name}]({name})" for name in charts]]
    lines += _retrieval_lines(report, path.parent, path.stem)
    lines += ["", "## Cases", ""]
    for c in report["cases"]:
        mark = "pass" if c["passed"] else "FAIL"
        lines.append(f"- **{c['id']}** ({mark}) — {c['question']}")
        lines.append(f"  - answer: {c['answer'][:400]}")
        if c.get("missing_slots"):
            lines.append(f"  - missing: {c['missing_slots']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
