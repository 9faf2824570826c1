"""Scoring the trip reader against trips labelled by hand in news articles (evals/trips_news.yaml).

A trip read matches a labelled one of the same article when one of its stops is one of the label's (the same
place, or one inside the other: Bagdad in Irak) and its traveller shares a word with the label's (surname,
or the group's noun: "EU-Außenminister"; inflected or compounded: "Präsidenten", "Nationalmannschaft"). Each label is matched at most once.

- recall: labelled trips matched / labelled trips; precision: trips read that match / trips read (in trip and
  no-trip articles alike); false trips in no-trip articles: trips read there.
- stops: of the matched labels' stops, those among the matched trip's destinations (a tour's every stop);
- companions: of the matched labels' companions, those among the trip's participants;
- status: matched trips whose status (made, announced, postponed, cancelled) is the label's;
- evidence verbatim: every value's quote is the article's text at its offsets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ingest.clean import fold_accents

LABELS = Path(__file__).with_name("trips_news.yaml")
STOPWORDS = {"der", "die", "das", "des", "den", "dem", "und", "von", "mit", "aus", "in", "im", "bis", "zu", "ein", "eine",
             "the", "of"}


@dataclass
class Labelled:
    doc: str
    split: str
    trips: list[dict]


def load_labels(path: Path = LABELS) -> list[Labelled]:
    return [Labelled(e["doc"], e["split"], e["trips"]) for e in yaml.safe_load(path.read_text(encoding="utf-8"))]


def load_articles(news: Path, docs: set[str]) -> dict[str, dict]:
    out = {}
    for line in news.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] in docs:
            out[row["id"]] = row
    return out


def _words(text: str, shortest: int = 3) -> set[str]:
    return {w for w in (fold_accents(x) for x in re.findall(r"[\w]+", text or "")) if len(w) >= shortest and w not in STOPWORDS}


def _place_match(gold: str, predicted: dict) -> bool:
    from ingest import gazetteer

    if _words(gold) & _words(predicted.get("place", "")):
        return True
    g = gazetteer.place(gold)
    pid = predicted.get("id")
    p = gazetteer.by_id(pid) if pid else None
    if g is None or p is None:
        return False
    return g.id == p.id or gazetteer.within(p, g) or gazetteer.within(g, p)


def _same_word(x: str, y: str) -> bool:
    """One word inflected or compounded: "Präsident"/"Präsidenten", "Mannschaft"/"Nationalmannschaft"."""
    if x == y:
        return True
    short, long_ = sorted((x, y), key=len)
    return (len(short) >= 5 and long_.endswith(short)) or (len(short) >= 6 and long_[:len(short) - 1] == short[:-1])


def _traveller_match(gold: str, trip: dict) -> bool:
    names = " ".join(f"{m.get('name', '')} {m.get('role') or ''}" for m in trip["leaders"]) + \
        " " + ((trip.get("delegation") or {}).get("name") or "")
    if not _words(gold):  # "G8": a label of short words matches one of the same words
        return bool(_words(gold, shortest=1) & _words(names, shortest=1))
    return any(_same_word(g, n) for g in _words(gold) for n in _words(names))


def score(labels: list[Labelled], read: dict[str, list[dict]], texts: dict[str, str]) -> dict:
    """Figures over the given labelled articles; `read`: doc id -> the trips read (Trip.to_json())."""
    gold_trips = matched = predicted = matched_predicted = false_trips = 0
    stops = stops_found = companions = companions_found = status_right = 0
    quotes = quotes_right = 0
    misses, extras, wrong_status = [], [], []
    for article in labels:
        trips = read.get(article.doc, [])
        predicted += len(trips)
        for t in trips:
            for m in t["leaders"] + t["participants"] + t["destinations"] + ([t["when"]] if t.get("when") else []):
                quotes += 1
                quotes_right += texts[article.doc][m["start"]:m["end"]] == m["quote"]
        if not article.trips:
            false_trips += len(trips)
            extras += [(article.doc, t) for t in trips]
            continue
        used: set[int] = set()
        for g in article.trips:
            gold_trips += 1
            best = None
            for k, t in enumerate(trips):
                if k in used or not _traveller_match(g["traveller"], t):
                    continue
                hits = sum(any(_place_match(s, d) for d in t["destinations"]) for s in g["stops"])
                if hits and (best is None or hits > best[1]):
                    best = (k, hits)
            if best is None:
                misses.append((article.doc, g))
                continue
            k, hits = best
            used.add(k)
            matched += 1
            t = trips[k]
            stops += len(g["stops"])
            stops_found += hits
            for c in g.get("companions", []):
                companions += 1
                companions_found += any(_words(c) & _words(p.get("name", "")) for p in t["participants"])
            status_right += t.get("status", "made") == g["status"]
            if t.get("status", "made") != g["status"]:
                wrong_status.append({"doc": article.doc, "traveller": g["traveller"], "label": g["status"],
                                     "read": t.get("status", "made")})
        matched_predicted += len(used)
        extras += [(article.doc, t) for k, t in enumerate(trips) if k not in used]

    def ratio(a, b):
        return round(a / b, 3) if b else None

    return {"articles": len(labels), "labelled_trips": gold_trips, "trips_read": predicted,
            "recall": ratio(matched, gold_trips), "precision": ratio(matched_predicted, predicted),
            "stops": ratio(stops_found, stops), "companions": ratio(companions_found, companions),
            "companions_labelled": companions, "status": ratio(status_right, matched),
            "false_trips_in_no_trip_articles": false_trips,
            "no_trip_articles": sum(1 for a in labels if not a.trips),
            "evidence_verbatim": ratio(quotes_right, quotes),
            "missed": [{"doc": d, **g} for d, g in misses], "wrong_status": wrong_status,
            "extra": [{"doc": d, "traveller": [m["name"] for m in t["leaders"]],
                       "destinations": [m["place"] for m in t["destinations"]], "status": t.get("status")} for d, t in extras]}


def read_trips(articles: dict[str, dict], extractors: dict) -> dict[str, dict[str, list[dict]]]:
    """Annotate each article once (as ingest does, without an index) and read its trips with each extractor:
    name -> doc id -> the trips read."""
    from index.reading import annotate_article
    from ingest.chunking import chunk_article
    from ingest.dates import parse_date
    from ingest.model import Article
    from trips.model import Source

    out: dict[str, dict[str, list[dict]]] = {name: {} for name in extractors}
    for doc, row in articles.items():
        date = parse_date(row.get("date") or "") if row.get("date") else None
        article = Article(doc, row.get("title") or doc, row["text"], doc, date)
        chunks = chunk_article(article)
        source = Source(doc, article.title, row["text"], date.iso if date else None, chunks,
                        annotate_article(row["text"], date.iso if date else None, chunks))
        for name, extractor in extractors.items():
            got = extractor.extract(source)
            out[name][doc] = [t.to_json() for t in (got[0] if isinstance(got, tuple) else got)]
    return out


def evaluate(news: Path, splits: tuple[str, ...] = ("dev", "heldout")) -> dict:
    """The reader (trips/reader.py) and, as the figures before it, the sentence rules (trips/rules.py), on
    each part of the labels: {split: {extractor: figures}}."""
    from trips.reader import AnnotationReader
    from trips.rules import RuleExtractor

    labels = [a for a in load_labels() if a.split in splits]
    articles = load_articles(news, {a.doc for a in labels})
    missing = sorted({a.doc for a in labels} - set(articles))
    if missing:
        raise ValueError(f"{news} lacks {len(missing)} labelled articles (the first: {missing[0]}); "
                         "give ../shared/data/news_de.jsonl.")
    read = read_trips(articles, {"reader": AnnotationReader(), "rules (before)": RuleExtractor()})
    texts = {doc: row["text"] for doc, row in articles.items()}
    return {split: {name: score([a for a in labels if a.split == split], trips, texts) for name, trips in read.items()}
            for split in splits}


FIGURES = ("recall", "precision", "stops", "companions", "status", "false_trips_in_no_trip_articles", "evidence_verbatim")


def format_report(report: dict) -> str:
    """The figures side by side: one column per (part, extractor)."""
    columns = [(split, name) for split, by in report.items() for name in by]
    some = next(iter(next(iter(report.values())).values()))

    def row(label: str, cell) -> str:
        return f"{label:34}" + "".join(f"{cell(report[s][n]):>24}" for s, n in columns)

    lines = [f"{'':34}" + "".join(f"{s + ': ' + n:>24}" for s, n in columns),
             row("articles (labelled trips)", lambda f: f"{f['articles']} ({f['labelled_trips']})")]
    lines += [row(key.replace("_", " "), lambda f, key=key: str(f[key])) for key in FIGURES if key in some]
    return "\n".join(lines)
