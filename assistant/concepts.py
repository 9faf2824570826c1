"""The relations questions and sentences speak of (who led, who came along, where to, signing, meeting …), read
by the beginnings of their words: "Who headed the mission?" meets "Er leitete die Delegation", "besuchte" in a
question meets "Besuch" in a sentence. The cues are data (ingest/lexicon/de/concepts.yaml, each with its source);
the question analysis (assistant/question.py), the register questions (assistant/register_question.py), the
ranking and the evidence check read them here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.terms import words
from ingest.annotate import lexicon
from ingest.clean import fold


def _concepts() -> tuple[dict[str, tuple[str, ...]], set[str]]:
    """The concepts and their cues, and those too common in this domain to decide between sentences
    (ingest/lexicon/de/concepts.yaml, each with its source)."""
    entries = lexicon("concepts")
    return ({e["concept"]: tuple(e["cues"]) for e in entries}, {e["concept"] for e in entries if e.get("generic")})


CONCEPTS, GENERIC = _concepts()  # concept -> folded word beginnings (compound parts count too, see _word_concepts)
_MULTIWORD_CUES = [(concept, cue) for concept, cues in CONCEPTS.items() for cue in cues if " " in cue]


def concepts_of(text: str) -> set[str]:
    """The concepts a text speaks of: by the beginnings of its words, and by the cues of several words ("took
    part") it contains."""
    found: set[str] = set()
    for w in words(text):
        found |= _word_concepts(fold(w))
    folded = fold(text)
    return found | {concept for concept, cue in _MULTIWORD_CUES if re.search(rf"\b{re.escape(cue)}\b", folded)}


@lru_cache(maxsize=65536)
def _word_concepts(f: str) -> frozenset[str]:
    """The concepts of one folded word: a short cue whole, a longer one as its beginning (or, from five
    letters, anywhere in a compound)."""
    return frozenset(concept for concept, starts in CONCEPTS.items()
                     if any(f == s if len(s) <= 3 else f.startswith(s) or (len(s) >= 5 and s in f) for s in starts))
