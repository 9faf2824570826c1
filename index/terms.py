"""Words, stems and stop words for German and English text: what keyword matching compares.

Stems come from Snowball (PyStemmer). Compound words are matched by their parts: a stem of four or more
letters at the start or end of another word counts as contained ("Japan" in "Japanreise", "Delegation"
in "Wirtschaftsdelegation").
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

from ingest.clean import fold

WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:[-'’][^\W\d_]+)*")

STOPWORDS = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN) | frozenset(
    "wer wen wem wessen was wann wo wohin woher wie welche welcher welches welchen welchem warum wieso "
    "weshalb wieviel wieviele viele gab gibt eigentlich noch genau bitte dort dabei damals denn "
    "who whom whose what when where which why how many much did does do was were is are the of to "
    "und oder sowie also".split()
)

_de = Stemmer.Stemmer("german")
_en = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A German Snowball stem of the folded word (English words mostly stem to themselves or close)."""
    low = word.lower()
    return fold(_de.stemWord(low))


_POSSESSIVE = re.compile(r"[’']s$")


def words(text: str) -> list[str]:
    """Words and numbers; an English possessive counts as its noun ("Leipzig's" -> Leipzig)."""
    return [_POSSESSIVE.sub("", w) if len(w) > 3 else w for w in WORD.findall(text)]


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stop words), hyphenated compounds also split."""
    out = []
    for w in words(text):
        if w.lower() in STOPWORDS:
            continue
        out.append(stem(w))
        if "-" in w:
            out.extend(stem(p) for p in w.split("-") if len(p) >= 3 and p.lower() not in STOPWORDS)
    return out


def part_of(part: str, word: str) -> bool:
    """The stem `part` is the stem `word`, or (four letters or more) its start or end: a compound's part
    ("japan" of "japanreis", "delegation" of "wirtschaftsdelegation")."""
    return part == word or len(part) >= 4 and len(word) > len(part) and (word.startswith(part) or word.endswith(part))


def stem_matches(a: str, b: str) -> bool:
    """Same stem, or either is a compound part of the other."""
    return part_of(a, b) or part_of(b, a)


def matches_any(query_stem: str, stems: set[str]) -> bool:
    """The stem, or a compound it is part of or that is part of it, is among stems."""
    return query_stem in stems or any(stem_matches(query_stem, t) for t in stems)
