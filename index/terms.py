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

WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:[-'’][^\W\d_]+)*")

STOPWORDS = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN) | frozenset(
    "wer wen wem wessen was wann wo wohin woher wie welche welcher welches welchen welchem warum wieso "
    "weshalb wieviel wieviele viele gab gibt eigentlich noch genau bitte dort dabei damals denn "
    "who whom whose what when where which why how many much did does do was were is are the of to "
    "und oder sowie also".split()
)

_de = Stemmer.Stemmer("german")
_en = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lowercase with umlauts and ß spelled out, as matching compares them."""
    text = text.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("é", "e"), ("è", "e")):
        text = text.replace(a, b)
    return text


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


def stem_matches(query_stem: str, text_stem: str) -> bool:
    """Same stem, or one is a compound part (>= 4 letters) at the start or end of the other."""
    if query_stem == text_stem:
        return True
    short, long = sorted((query_stem, text_stem), key=len)
    return len(short) >= 4 and (long.startswith(short) or long.endswith(short))
