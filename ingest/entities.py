"""Persons, places and organisations in a text, as character spans: the annotator's entity tagger.

No German NER model can be installed here, so this one is ours, small and trained on GermEval 2014's
development sentences (ingest/train_entities.py; the data is read from ../shared, never shipped; the weights
are, in ingest/models/). It reads what multilingual-e5-small already computes for every sentence at ingest
(ingest/encoder.py): each word's hidden states in layers 6 to 9 (the middle of the network carries more of a
word's role in its sentence than the output, which is tuned to sentence similarity: on held-back GermEval
sentences a linear read-out of layer 8 scores 0.75 F1, of the output layer 0.54). Two stages:

1. a small neural network (one hidden layer; five of them, trained from different starting weights, averaged;
   their first layers stored as one product of two thin matrices) turns each word's states and shape into
   probabilities of the tags B-/I-PER, B-/I-LOC, B-/I-ORG, O;
2. a linear-chain CRF (python-crfsuite) decides the tag sequence from those probabilities, the neighbours',
   and what the word is: its form, affixes, shape, and whether the gazetteers know it as a first name, a place
   (ingest/gazetteer.py) or an organisation word (ingest/lexicon/de/organisations.yaml).

Measured on GermEval's last third (never trained on): see `delegations eval --entities` and the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.clean import fold

MODELS = Path(__file__).with_name("models")
LAYERS = (6, 7, 8, 9)  # the encoder layers the tagger reads
TYPES = ("PER", "LOC", "ORG")
CLASSES = ("O",) + tuple(f"{b}-{t}" for t in TYPES for b in "BI")
# Words as GermEval counts them: letters and digits with inner hyphens, apostrophes, periods or ampersands
# ("EU-Kommission", "D'Alema", "U.S", "H&M"), or one other character.
WORD = re.compile(r"\w+(?:[-'’.&]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # PER | LOC | ORG


def words(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in WORD.finditer(text)]


def word_states(token_spans: list[tuple[int, int]], states: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Each word's states: the mean of the tokens that overlap it (a word the tokenizer dropped gets zeros)."""
    if not token_spans or not spans:
        return np.zeros((len(spans), states.shape[1]), dtype=np.float32)
    tokens, word = np.array(token_spans), np.array(spans)
    overlap = (tokens[None, :, 0] < word[:, None, 1]) & (tokens[None, :, 1] > word[:, None, 0])  # word, token
    counts = overlap.sum(axis=1, keepdims=True)
    return (overlap.astype(np.float32) @ states.astype(np.float32, copy=False)) / np.maximum(counts, 1).astype(np.float32)


def shape(word: str, first: bool) -> list[float]:
    return [word[:1].isupper(), word.isupper() and len(word) > 1, any(c.isdigit() for c in word), len(word) <= 2,
            not word[:1].isalnum(), first]


@lru_cache(maxsize=1)
def _organisation_words() -> frozenset[str]:
    import yaml

    entries = yaml.safe_load((Path(__file__).with_name("lexicon") / "de" / "organisations.yaml").read_text(encoding="utf-8"))
    return frozenset(fold(w.rstrip(".")) for e in entries for w in e["words"])


@lru_cache(maxsize=1)
def _pronominal_adverbs() -> re.Pattern:
    # read here, not through ingest.annotate.lexicon: annotate imports this module (no cycle, tests/test_layout.py)
    import yaml

    entry, = yaml.safe_load((Path(__file__).with_name("lexicon") / "de" / "pronominal_adverbs.yaml").read_text(encoding="utf-8"))
    vowel = "|".join(p for p in entry["prepositions"] if p[0] in "aeiouäöü")
    consonant = "|".join(p for p in entry["prepositions"] if p[0] not in "aeiouäöü")
    return re.compile(rf"(?:da|wo)(?:{consonant})|(?:dar|wor)(?:{vowel})|hier(?:{'|'.join(entry['prepositions'])})",
                      re.IGNORECASE)


def pronominal_adverb(word: str) -> bool:
    """"Davor", "Danach", "Worauf": a pronominal adverb (ingest/lexicon/de/pronominal_adverbs.yaml), capitalised at
    a sentence's start, is no name however much it looks like one ("Davor fand … statt")."""
    return bool(_pronominal_adverbs().fullmatch(word))


@lru_cache(maxsize=65536)
def lexical(word: str, first: bool) -> dict:
    """What a word is, apart from its context: form, affixes, shape, and what the gazetteers know it as (yes/no
    as 1.0/0.0, as the CRF reads them). Shared between calls: never change the dict returned."""
    from ingest import gazetteer

    f = fold(word)
    return {"lower": word.lower(), "suf3": f[-3:], "pre3": f[:3], "title": float(word[:1].isupper()),
            "upper": float(word.isupper() and len(word) > 1), "digit": float(any(c.isdigit() for c in word)),
            "short": float(len(word) <= 2), "punct": float(not word[:1].isalnum()), "first": float(first),
            "firstname": float(gazetteer.is_first_name(word)),
            "place": float(bool(gazetteer.places_named(word)) and word[:1].isupper()),
            "demonym": float(gazetteer.demonym_place(word) is not None or gazetteer.adjective_country(word) is not None),
            "orgword": float(f.rstrip(".") in _organisation_words())}


_OWN_PROBABILITIES = tuple(f"p:{c}" for c in CLASSES)
_NEIGHBOUR_WORD = ("lower", "title", "upper", "firstname", "place", "orgword", "punct")  # what a neighbour shows
_NEIGHBOURS = {off: (tuple((k, f"{off}:{k}") for k in _NEIGHBOUR_WORD), tuple(f"{off}p:{c}" for c in CLASSES))
               for off in (-1, 1)}


def crf_features(tokens: list[str], probs: np.ndarray) -> list[dict]:
    """The CRF's view of each word: its own lexical features and tag probabilities, and its neighbours'."""
    own = [lexical(w, i == 0) for i, w in enumerate(tokens)]
    rows = probs.tolist()
    out = []
    for i in range(len(tokens)):
        f = {"bias": 1.0, **own[i]}
        f.update(zip(_OWN_PROBABILITIES, rows[i]))
        for off, (word_keys, probability_keys) in _NEIGHBOURS.items():
            j = i + off
            if 0 <= j < len(tokens):
                f.update((name, own[j][k]) for k, name in word_keys)
                f.update(zip(probability_keys, rows[j]))
            else:
                f[f"{off}:edge"] = 1.0
        out.append(f)
    return out


def mlp_inputs(tokens: list[str], states: np.ndarray) -> np.ndarray:
    return np.hstack([states, np.array([shape(w, i == 0) for i, w in enumerate(tokens)], dtype=np.float32).reshape(len(tokens), -1)])


def spans_of(tags: list[str], word_spans: list[tuple[int, int]]) -> list[Span]:
    """BIO tags to character spans (an I- tag after another type or after O starts a span)."""
    out, current = [], None
    for (a, b), tag in zip(word_spans + [(0, 0)], tags + ["O"]):
        kind = tag[2:] if tag != "O" else None
        if current and (tag == "O" or tag.startswith("B-") or kind != current[2]):
            out.append(Span(*current))
            current = None
        if kind and current is None:
            current = [a, b, kind]
        elif kind:
            current[1] = b
    return out


class Tagger:
    """The trained tagger: the networks' weights (ingest/models/entities-mlp.npz) and the CRF's
    (ingest/models/entities.crfsuite)."""

    def __init__(self, models: Path = MODELS):
        import pycrfsuite

        weights = np.load(models / "entities-mlp.npz")  # one row per network of the ensemble
        # the networks' first layers side by side, factorised through RANK dimensions (ingest/train_entities.py):
        # two thin matrix products for all five networks
        self.into, self.out_of = weights["w1_in"].astype(np.float32), weights["w1_out"].astype(np.float32)
        b1 = weights["b1"].astype(np.float32)
        self.networks = b1.shape[0]
        self.hidden_b = b1.reshape(-1)
        self.out_w, self.out_b = weights["w2"].astype(np.float32), weights["b2"].astype(np.float32)
        self.crf = pycrfsuite.Tagger()
        self.crf.open(str(models / "entities.crfsuite"))

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """The networks' tag probabilities for each word, averaged."""
        hidden = np.maximum((inputs @ self.into) @ self.out_of + self.hidden_b, 0.0)
        hidden = hidden.reshape(len(inputs), self.networks, -1).transpose(1, 0, 2)  # network, word, hidden
        logits = hidden @ self.out_w + self.out_b[:, None, :]
        logits -= logits.max(axis=2, keepdims=True)
        exp = np.exp(logits)
        return (exp / exp.sum(axis=2, keepdims=True)).mean(axis=0)

    def tag(self, text: str, token_spans: list[tuple[int, int]], states: np.ndarray) -> list[Span]:
        """The entities of one sentence, from its encoder token spans and states (layers LAYERS)."""
        spans = words(text)
        if not spans:
            return []
        tokens = [text[a:b] for a, b in spans]
        probs = self.probabilities(mlp_inputs(tokens, word_states(token_spans, states, spans)))
        tags = self.crf.tag(crf_features(tokens, probs))
        return [s for s in spans_of(list(tags), spans) if not pronominal_adverb(text[s.start:s.end])]


@lru_cache(maxsize=1)
def tagger() -> Tagger:
    return Tagger()
