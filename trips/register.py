"""The trip register: the trips of every indexed article, in SQLite beside the index (`DATA_DIR/trips.sqlite`),
or in the PostgreSQL database several instances share (`database_url`, index/database.py).

Schema:
    extracted(doc_id PRIMARY KEY, version, extractor, trips, dropped)
        which version of each article was read, by which extractor, how many trips it gave and how many
        proposed values were dropped for not standing in the article (the model's, for the llm extractor)
    trips(doc_id, n, record)  PRIMARY KEY (doc_id, n)
        the n-th trip an article reports, as the JSON of trips.model.Trip (every value with its evidence)

An article's trips and its `extracted` row are written in one transaction, after its chunks are indexed;
`update` reads every article whose version or extractor differs from what `extracted` says, so a run
killed half-way is finished by the next one and a removed article's trips go with it. One trip reported by
several articles is one record when listed (`trips()` merges them: same destination countries, dates that
agree), with evidence from each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, delete, func, insert, select

from index.database import engine as database, shared, upsert
from index.places import place_matches
from trips.model import Trip

metadata = MetaData()
extracted = Table("extracted", metadata,
                  Column("doc_id", Text, primary_key=True), Column("version", Text, nullable=False),
                  Column("extractor", Text, nullable=False), Column("trips", Integer, nullable=False),
                  Column("dropped", Integer, nullable=False))
records = Table("trips", metadata,
                Column("doc_id", Text, primary_key=True), Column("n", Integer, primary_key=True),
                Column("record", Text, nullable=False))


@dataclass
class TripFilter:
    """What `delegations trips`, the API and the chat's table filter by; empty fields filter nothing."""

    to: str | None = None  # a city, country or continent, German or English
    who: str | None = None  # a leader's or participant's name, or part of it
    year: int | None = None
    date_from: str | None = None  # YYYY[-MM[-DD]]
    date_to: str | None = None
    doc: str | None = None
    to_any: tuple[str, ...] = ()  # several places: a trip to any of them ("nach China oder Japan")
    docs: tuple[str, ...] = ()  # reported in any of these articles (the chat's and the API's article filter)
    status: str | None = None  # made | announced | postponed | cancelled

    def admits(self, trip: Trip) -> bool:
        if self.doc and self.doc not in trip.doc_ids:
            return False
        if self.status and trip.status != self.status:
            return False
        if self.docs and not set(self.docs) & set(trip.doc_ids):
            return False
        for names in ([self.to] if self.to else [], list(self.to_any)):  # `to`, and any one of `to_any`
            if names and not any(place_matches(name, m.value.get("country"), m.value.get("id")) or
                                 _same_place(name, m.value.get("place", "")) for name in names for m in trip.destinations):
                return False
        if self.who:
            wanted = self.who.lower()
            if not any(wanted in m.value.get("name", "").lower() for m in trip.leaders + trip.participants):
                return False
        start, end = dates_of(trip)
        if self.year and not (start and start[:4] <= str(self.year) <= (end or start)[:4]):
            return False
        if self.date_from and not (end and end >= self.date_from[: len(end)]):
            return False
        if self.date_to and not (start and start[: len(self.date_to)] <= self.date_to):
            return False
        return True


def _same_place(wanted: str, place: str) -> bool:
    return wanted.strip().lower() == place.strip().lower()


def dates_of(trip: Trip) -> tuple[str | None, str | None]:
    """The trip's dates, or, when its articles give none, the date of the article that reports it."""
    if trip.start:
        return trip.start, trip.end or trip.start
    return trip.published, trip.published


class TripRegister:
    def __init__(self, made: Engine):
        self.engine = made
        metadata.create_all(made)

    @classmethod
    def of(cls, where) -> TripRegister:
        """The register of a data dir (a Path: its SQLite file) or of the settings (their shared database when
        `database_url` is set)."""
        if isinstance(where, Path):
            return cls(database("", where / "trips.sqlite"))
        return cls(database(where.database_url, where.data_dir / "trips.sqlite"))

    def close(self) -> None:
        if not shared(self.engine):
            self.engine.dispose()

    def extracted(self) -> dict[str, tuple[str, str]]:
        """doc_id -> (version, extractor) of what was read."""
        with self.engine.connect() as db:
            return {r.doc_id: (r.version, r.extractor) for r in db.execute(select(extracted))}

    def replace(self, doc_id: str, version: str, extractor: str, trips: list[Trip], dropped: int) -> None:
        with self.engine.begin() as db:
            db.execute(delete(records).where(records.c.doc_id == doc_id))
            if trips:
                db.execute(insert(records), [{"doc_id": doc_id, "n": n, "record": json.dumps(t.to_json(), ensure_ascii=False)}
                                             for n, t in enumerate(trips)])
            upsert(db, extracted, [{"doc_id": doc_id, "version": version, "extractor": extractor, "trips": len(trips),
                                    "dropped": dropped}])

    def remove(self, doc_id: str) -> int:
        """Forget an article's trips; how many there were."""
        with self.engine.begin() as db:
            gone = db.execute(select(func.count()).select_from(records).where(records.c.doc_id == doc_id)).scalar_one()
            db.execute(delete(records).where(records.c.doc_id == doc_id))
            db.execute(delete(extracted).where(extracted.c.doc_id == doc_id))
        return gone

    def count_of(self, doc_id: str) -> int:
        """The trips stored for one article."""
        with self.engine.connect() as db:
            return db.execute(select(func.count()).select_from(records).where(records.c.doc_id == doc_id)).scalar_one()

    def forget_all(self) -> None:
        """Mark every article as unread, so the next update extracts all of them again (`trips --rebuild`)."""
        with self.engine.begin() as db:
            db.execute(delete(extracted))

    def per_article(self) -> list[Trip]:
        with self.engine.connect() as db:
            rows = db.execute(select(records.c.record).order_by(records.c.doc_id, records.c.n))
            return [Trip.from_json(json.loads(r)) for (r,) in rows]

    def trips(self, where: TripFilter | None = None) -> list[Trip]:
        """Every trip, one record per trip however many articles report it, earliest first."""
        merged = merge(self.per_article())
        if where:
            merged = [t for t in merged if where.admits(t)]
        return sorted(merged, key=lambda t: (dates_of(t)[0] or "9999", t.id))

    def counts(self) -> tuple[int, int]:
        """(articles read, trips) as stored per article."""
        with self.engine.connect() as db:
            return tuple(db.execute(select(func.count(), func.coalesce(func.sum(extracted.c.trips), 0))).first())


def merge(trips: list[Trip]) -> list[Trip]:
    """Trips of different articles that are one trip (the same destination countries, dates that agree to
    the month, the same origin if both name one) become one record with the evidence of each."""
    out: list[Trip] = []
    for trip in trips:
        same = next((t for t in out if _same_trip(t, trip)), None)
        if same is None:
            out.append(trip)
            continue
        same.doc_ids = sorted(set(same.doc_ids) | set(trip.doc_ids))
        for name in ("leaders", "participants", "destinations", "purpose", "outcomes"):
            have = {m.key() for m in getattr(same, name)}
            getattr(same, name).extend(m for m in getattr(trip, name) if m.key() not in have)
        for name in ("delegation", "origin", "when"):
            if getattr(same, name) is None:
                setattr(same, name, getattr(trip, name))
        if trip.precision != "unknown" and (same.precision == "unknown" or _finer(trip.precision, same.precision)):
            same.start, same.end, same.precision = trip.start, trip.end, trip.precision
    return out


def _finer(a: str, b: str) -> bool:
    order = {"day": 0, "month": 1, "year": 2, "unknown": 3}
    return order[a] < order[b]


def _same_trip(a: Trip, b: Trip) -> bool:
    if set(a.doc_ids) & set(b.doc_ids) or not a.countries or a.countries != b.countries:
        return False
    if a.origin and b.origin and a.origin.value.get("country") != b.origin.value.get("country"):
        return False
    (a_start, _), (b_start, _) = dates_of(a), dates_of(b)
    return bool(a_start and b_start and a_start[:7] == b_start[:7])
