"""How well the HTML reader finds a page's article: saved pages with gold snippets (`gold.json` beside a
`pages/` folder, as in trafilatura's evaluation data), scored as trafilatura's own evaluation scores them.

A `with` snippet found in the extracted text is a true positive, one missing a false negative; a `without`
snippet (navigation, teasers, footers) found is a false positive. Whitespace is normalised on both sides. A
page the reader refuses misses all its `with` snippets. Each page is read through the whole file reader
(encoding, extraction, cleaning), as `delegations ingest` reads it; the times are those of a second pass
(the first, which loads the libraries once, is reported as a whole)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.measure import ms_percentile


class HtmlBenchError(Exception):
    """The folder is not a set of pages with gold snippets."""


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def score_pages(folder: Path, log=lambda line: None) -> dict:
    from ingest.readers import IngestError, read_file

    gold_file = folder / "gold.json"
    if not gold_file.is_file():
        raise HtmlBenchError(f"{folder} has no gold.json (snippets that must and must not be in each page's text).")
    try:
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HtmlBenchError(f"{gold_file} is not valid JSON ({exc}).") from None
    pages = folder / "pages" if (folder / "pages").is_dir() else folder
    # Every page is read once untimed first: a process pays once for loading trafilatura, lxml, charset-normalizer
    # and the date parser's locales (about 1 s, on whichever page first needs it), not per page.
    started = time.perf_counter()
    for name in sorted(gold):
        if (pages / name).is_file():
            try:
                read_file(pages / name, (pages / name).read_bytes())
            except IngestError:
                pass
    first_pass_s = time.perf_counter() - started
    tp = fn = fp = 0
    refused: list[str] = []
    times: list[float] = []
    slowest = ("", 0.0)
    for name, expected in sorted(gold.items()):
        path = pages / name
        if not path.is_file():
            raise HtmlBenchError(f"{path} is named in gold.json but missing.")
        data = path.read_bytes()
        started = time.perf_counter()
        try:
            articles, _ = read_file(path, data)
            text = _squeeze(" ".join(f"{a.title} {a.text}" for a in articles))
        except IngestError as exc:
            text = ""
            refused.append(f"{name}: {exc}")
        took = time.perf_counter() - started
        times.append(took)
        slowest = max(slowest, (name, took), key=lambda x: x[1])
        for snippet in expected.get("with", []):
            if _squeeze(snippet) in text:
                tp += 1
            else:
                fn += 1
        fp += sum(_squeeze(snippet) in text for snippet in expected.get("without", []))
        log(f"{name}: {took * 1000:.0f} ms")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "pages": len(gold), "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "true_positives": tp, "false_negatives": fn, "false_positives": fp,
        "refused": len(refused), "refused_pages": refused,
        "page_ms_p50": ms_percentile([t * 1000 for t in times], 0.5),
        "page_ms_p95": ms_percentile([t * 1000 for t in times], 0.95),
        "slowest_page": slowest[0], "slowest_page_ms": round(slowest[1] * 1000, 1),
        "first_pass_s": round(first_pass_s, 2),
    }
