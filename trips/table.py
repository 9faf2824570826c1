"""Trips as rows: for the chat's table, the CSV download and `delegations trips` on a terminal."""

from __future__ import annotations

import csv
import io

from trips.model import Trip
from trips.register import dates_of

COLUMNS = ("date", "delegation", "leaders", "participants", "destinations", "countries", "status", "kind", "articles", "id")


def when(trip: Trip) -> str:
    """The trip's dates as written for people: "2019-11-25 – 2019-11-28", "2019-08", or "(article 2024-12)"."""
    if trip.start:
        return trip.start if trip.end in (None, trip.start) else f"{trip.start} – {trip.end}"
    start, _ = dates_of(trip)
    return f"(Artikel {start})" if start else ""


def row(trip: Trip) -> dict[str, str]:
    def names(mentions, key="name"):
        return "; ".join(dict.fromkeys(m.value.get(key, "") for m in mentions))

    return {"date": when(trip), "delegation": trip.delegation.value["name"] if trip.delegation else "",
            "leaders": names(trip.leaders), "participants": names(trip.participants),
            "destinations": names(trip.destinations, "place"), "countries": ", ".join(sorted(c for c in trip.countries if c)),
            "status": trip.status, "kind": trip.kind,
            "articles": ", ".join(trip.doc_ids), "id": trip.id}


def to_csv(trips: list[Trip]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(row(t) for t in trips)
    return out.getvalue()
