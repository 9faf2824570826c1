"""Scoring the trip register against gold trips (evals/trips.yaml): trip precision and recall, per-field F1
(leaders, participants, destinations, dates) and grounding validity. Pure functions over plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from evals.metrics import normalise

GOLD = Path(__file__).with_name("trips.yaml")


@dataclass
class GoldTrip:
    countries: set[str]
    destinations: list[list[str]]
    leaders: list[str]
    participants: list[str]
    start: str | None
    end: str | None
    precision: str


@dataclass
class GoldDoc:
    doc: str
    trips: list[GoldTrip]
    news: bool = False


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def f1(self) -> float:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return round(2 * p * r / (p + r), 4) if p + r else 0.0


@dataclass
class TripScores:
    trips: Counts = field(default_factory=Counts)
    fields: dict[str, Counts] = field(default_factory=lambda: {f: Counts() for f in ("leaders", "participants", "destinations", "dates")})
    mentions: int = 0
    grounded: int = 0

    def to_json(self) -> dict:
        t = self.trips
        return {"trip_precision": round(t.tp / (t.tp + t.fp), 4) if t.tp + t.fp else 1.0,
                "trip_recall": round(t.tp / (t.tp + t.fn), 4) if t.tp + t.fn else 1.0,
                **{f"{name}_f1": c.f1() for name, c in self.fields.items()},
                "grounding_validity": round(self.grounded / self.mentions, 4) if self.mentions else 1.0}


def load_gold(path: Path = GOLD) -> list[GoldDoc]:
    docs = []
    for row in yaml.safe_load(path.read_text(encoding="utf-8")):
        trips = [GoldTrip(set(t.get("countries", [])), [list(map(str, d)) for d in t.get("destinations", [])],
                          [str(x) for x in t.get("leaders", [])], [str(x) for x in t.get("participants", [])],
                          str(t["start"]) if t.get("start") else None, str(t["end"]) if t.get("end") else None,
                          t.get("precision", "unknown")) for t in row.get("trips") or []]
        docs.append(GoldDoc(row["doc"], trips, bool(row.get("news"))))
    return docs


def same_name(gold: str, found: str) -> bool:
    """A person or organisation named alike: one name inside the other, inflections aside ("Elisabeth-Krankenhaus"
    and "Elisabeth-Krankenhauses", "Guttenberg" and "Karl-Theodor zu Guttenberg")."""
    g, f = normalise(gold), normalise(found)
    if not g or not f:
        return False
    return g in f or f in g or (len(g) > 6 and f.startswith(g[:-2])) or g.split()[-1] == f.split()[-1]


def _match(gold: list[str], found: list[str]) -> Counts:
    counts = Counts()
    left = list(found)
    for g in gold:
        hit = next((f for f in left if same_name(g, f)), None)
        if hit is not None:
            left.remove(hit)
            counts.tp += 1
        else:
            counts.fn += 1
    counts.fp += len(left)
    return counts


def _add(total: Counts, part: Counts) -> None:
    total.tp += part.tp
    total.fp += part.fp
    total.fn += part.fn


def score(gold_docs: list[GoldDoc], predicted: dict[str, list[dict]], texts: dict[str, str]) -> TripScores:
    """`predicted`: doc_id -> the trips the register holds for it (Trip.to_json, per article); `texts`: doc_id ->
    the article's text as indexed, for checking every quote against its offsets."""
    scores = TripScores()
    for doc in gold_docs:
        found = list(predicted.get(doc.doc, []))
        for trip in found:
            for mention in _mentions(trip):
                scores.mentions += 1
                text = texts.get(mention["doc_id"], "")
                scores.grounded += text[mention["start"]:mention["end"]] == mention["quote"] and bool(mention["quote"])
        pairs = []
        for g in doc.trips:
            hit = next((p for p in found if g.countries & {d.get("country") for d in p["destinations"]}), None)
            if hit is None:
                scores.trips.fn += 1
                pairs.append((g, None))
            else:
                found.remove(hit)
                scores.trips.tp += 1
                pairs.append((g, hit))
        scores.trips.fp += len(found)
        for g, p in pairs:
            _add(scores.fields["leaders"], _match(g.leaders, [m["name"] for m in (p or {}).get("leaders", [])]))
            _add(scores.fields["participants"], _match(g.participants, [m["name"] for m in (p or {}).get("participants", [])]))
            dest = Counts()
            places = [m["place"] for m in (p or {}).get("destinations", [])]
            for spellings in g.destinations:
                hit = next((x for x in places if any(same_name(s, x) for s in spellings)), None)
                if hit is not None:
                    places.remove(hit)
                    dest.tp += 1
                else:
                    dest.fn += 1
            dest.fp += len(places)
            _add(scores.fields["destinations"], dest)
            dates = scores.fields["dates"]
            got = (p["start"], p["end"], p["precision"]) if p and p.get("start") else None
            want = (g.start, g.end or g.start, g.precision) if g.start else None
            if want and got == want:
                dates.tp += 1
            else:
                dates.fn += want is not None
                dates.fp += got is not None
        for p in found:  # trips no gold trip wants: every field they fill is a false positive
            for name in ("leaders", "participants", "destinations"):
                scores.fields[name].fp += len(p.get(name, []))
            scores.fields["dates"].fp += p.get("start") is not None
    return scores


def _mentions(trip: dict) -> list[dict]:
    out = [trip[k] for k in ("delegation", "origin", "when") if trip.get(k)]
    for k in ("leaders", "participants", "destinations", "purpose", "outcomes"):
        out += trip.get(k, [])
    return out


def format_scores(scores: dict) -> str:
    return "\n".join(f"{name:<24} {value:>8}" for name, value in scores.items())

