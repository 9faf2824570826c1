"""People and organisations named in a sentence or a question: who-questions are answered by sentences that
name someone, and a person a question names must be named by the article that answers it.

German capitalises every noun, so two capitalised words side by side say nothing ("Die Delegation",
"Marconis Funkdemonstration"). A person is a known first name followed by a family name (Olaf Scholz,
Rasmus C. Beck, Hans Carl Freiherr von Werthern), or a title or role before a name (Dr. Kurz,
Wirtschaftssenator Westhagemann); an organisation is a name ending in a legal form or an institution word
(Beagle Systems GmbH, Universität Kobe) or an acronym (IHK, NASA). The first names are Faker's lists for the
languages the articles' people come from (MIT licence, shipped inside the package: nothing is downloaded).
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

from index.terms import STOPWORDS, words
from ingest.clean import fold

_LOCALES = ("de_DE", "de_AT", "de_CH", "en_US", "en_GB", "fr_FR", "it_IT", "es_ES", "pl_PL", "nl_NL", "tr_TR",
            "sv_SE", "da_DK", "cs_CZ", "pt_BR")
_PARTICLES = {"von", "van", "de", "der", "zu", "da", "di", "del", "le", "la", "ten", "ter", "bin", "al"}
_TITLES = {"dr", "prof", "herr", "frau", "mr", "mrs", "ms", "sir", "freiherr", "graf", "dame"}
ROLE_WORDS = ("buergermeister", "senator", "minister", "praesident", "geschaeftsfuehr", "direktor", "vorstand",
              "staatssekretaer", "botschafter", "chef", "leiter", "manager", "vertreter", "teilnehmer", "beigeordnet",
              "mayor", "president", "ceo", "preistraeger", "unternehmerin", "gruender", "kanzler", "koenig", "kommissar",
              "premier", "machthaber", "papst")
_ORG_WORDS = {"gmbh", "ag", "se", "kg", "ev", "e.v", "inc", "ltd", "llc", "corp", "group", "gruppe", "systems", "universitaet",
              "university", "hochschule", "institut", "institute", "kammer", "verband", "agentur", "bank", "stiftung",
              "gesellschaft", "hub", "center", "centre", "campus", "college", "museum", "orchester", "festival"}


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Folded first names (Latin script) that are not also everyday words."""
    names: set[str] = set()
    for locale in _LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            listed = getattr(provider, attr, None) or ()
            for name in (listed.keys() if isinstance(listed, dict) else listed):
                for part in name.split("-"):
                    if part[:1].isupper() and part.isalpha() and all(ord(c) < 0x250 for c in part):
                        names.add(fold(part))
    return frozenset(n for n in names if n not in STOPWORDS and len(n) >= 2)


def is_first_name(word: str) -> bool:
    return word[:1].isupper() and fold(word) in first_names()


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in STOPWORDS


def _name_word(word: str) -> bool:
    """A word that can be part of a name: capitalised, not an acronym, not a role, an institution or a place
    ("Vertreter Libyens" names no person)."""
    from index.places import place_of

    key = fold(word.rstrip("."))
    return _capitalised(word) and not word.rstrip(".").isupper() and \
        not any(r in key for r in ROLE_WORDS) and key not in _ORG_WORDS and (is_first_name(word) or not place_of(word.rstrip(".")))


def people_in(text: str) -> list[str]:
    """The people a text names, as written: "Uwe Albrecht", "Dr. Randy Kurz", "Westhagemann" after a role."""
    tokens = re.findall(r"[A-Za-zÀ-ÖØ-öø-ɏ][\w'’-]*\.?|\S", text)
    found: list[str] = []
    i = 0
    while i < len(tokens):
        word = tokens[i].rstrip(".")
        titled = fold(word) in _TITLES or any(fold(word).endswith(r) or fold(word).startswith(r) for r in ROLE_WORDS)
        if is_first_name(word) or (titled and i + 1 < len(tokens) and _name_word(tokens[i + 1])):
            j = i + 1
            while j < len(tokens) and (_name_word(tokens[j]) or (tokens[j] in _PARTICLES and j + 1 < len(tokens) and
                                                                 _name_word(tokens[j + 1])) or re.fullmatch(r"[A-Z]\.", tokens[j])):
                j += 1
            name = [t for t in tokens[i if is_first_name(word) else i + 1:j] if fold(t.rstrip(".")) not in _TITLES]
            if len(name) >= (1 if titled else 2):
                name[-1] = name[-1] if re.fullmatch(r"[A-Z]\.", name[-1]) else name[-1].rstrip(".")
                found.append(" ".join(name))
                i = j
                continue
        i += 1
    return found


def organisations_in(text: str) -> list[str]:
    """Organisations a text names: acronyms (IHK, NASA) and names ending in a legal form or institution word."""
    tokens = words(text)
    found = [t for t in tokens if len(t) >= 2 and t.isupper() and t.isalpha()]
    for i, t in enumerate(tokens):
        if fold(t) in _ORG_WORDS and i > 0 and tokens[i - 1][:1].isupper():
            found.append(f"{tokens[i - 1]} {t}")
    return found
