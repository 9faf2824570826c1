"""Training and measuring the entity tagger (ingest/entities.py) on GermEval 2014.

    python -m ingest.train_entities ../shared/data/germeval2014/NER-de-dev.tsv [--out ingest/models]

The file's sentences are split in order: the first two thirds train, the last third is never trained on and is
what `delegations eval --entities` reports. Training needs scikit-learn (the `dev` extra); the product only
needs the saved weights. GermEval 2014 (Benikova, Biemann, Reznicek; CC BY 4.0): the outer PER, LOC and ORG
spans are learnt (their -deriv and -part variants, and OTH, count as no entity).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.entities import CLASSES, MODELS, TYPES, Span, crf_features, mlp_inputs, spans_of, word_states, words

TRAIN_SHARE = 2 / 3
HIDDEN = 256
FOLDS = 5
# The network is trained this many times from different starting weights and their probabilities averaged:
# one network's F1 moves by one to two points with its seed alone; five averaged read 0.789 -> 0.796 in 3-fold
# cross-validation on the training part (python -m ingest.train_entities --cross-validate), never the held-out third.
SEEDS = 5
# The five networks' first layers side by side (1,542 inputs, 5 x 256 outputs) are stored as two thinner matrices
# through this many dimensions: the rank-384 approximation that best keeps what the layer computes on the training
# words (the leading right singular vectors of X W). Per word 1.1 million multiply-adds instead of 2.0 million;
# on 2,500 news sentences (unlabelled; not GermEval) its tags and the full layer's differ in 8 of 2,282 spans
# (256 dimensions: 20; 128: 39).
RANK = 384


@dataclass
class Sentence:
    text: str  # the tokens joined with single spaces, as GermEval is scored
    gold: list[Span]


def read_germeval(path: Path) -> list[Sentence]:
    sentences, tokens = [], []

    def flush():
        if not tokens:
            return
        text, gold, current = "", [], None
        for word, tag in tokens:
            start = len(text) + (1 if text else 0)
            text = f"{text} {word}" if text else word
            kind = tag.split("-", 1)[1] if tag != "O" else None
            kind = kind if kind in TYPES else None
            if current and (kind is None or tag.startswith("B-") or kind != current[2]):
                gold.append(Span(*current))
                current = None
            if kind and current is None:
                current = [start, start + len(word), kind]
            elif kind:
                current[1] = start + len(word)
        if current:
            gold.append(Span(*current))
        sentences.append(Sentence(text, gold))
        tokens.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            flush()
            continue
        fields = line.split("\t")
        tokens.append((fields[1], fields[2]))
    flush()
    return sentences


def split(sentences: list[Sentence]) -> tuple[list[Sentence], list[Sentence]]:
    cut = round(len(sentences) * TRAIN_SHARE)
    return sentences[:cut], sentences[cut:]


def labels(sentence: Sentence) -> list[str]:
    """The gold spans as BIO tags over the tagger's own words."""
    out = []
    for a, b in words(sentence.text):
        tag = "O"
        for s in sentence.gold:
            if s.start <= a and b <= s.end:
                tag = ("B-" if a == s.start else "I-") + s.kind
                break
        out.append(tag)
    return out


def _encode(sentences: list[Sentence]):
    from ingest.encoder import encoder

    out = []
    for sentence, enc in zip(sentences, encoder().encode([s.text for s in sentences])):
        spans = words(sentence.text)
        tokens = [sentence.text[a:b] for a, b in spans]
        out.append((tokens, mlp_inputs(tokens, word_states(enc.spans, enc.states, spans))))
    return out


def _networks(encoded, y, idx, seeds: int) -> list:
    from sklearn.neural_network import MLPClassifier

    x, tags = np.vstack([encoded[i][1] for i in idx]), np.concatenate([y[i] for i in idx])
    return [MLPClassifier(hidden_layer_sizes=(HIDDEN,), early_stopping=True, max_iter=200, random_state=seed,
                          alpha=1e-2).fit(x, tags) for seed in range(seeds)]


def _out_of_fold(encoded, y, seeds: int) -> list[np.ndarray]:
    """Each sentence's tag probabilities from networks not trained on it: what the CRF learns from, as at run
    time the networks read sentences they never saw."""
    from sklearn.model_selection import KFold

    out: list[np.ndarray] = [np.zeros(0)] * len(encoded)
    for fold, (train_idx, test_idx) in enumerate(KFold(FOLDS, shuffle=True, random_state=0).split(encoded), 1):
        networks = _networks(encoded, y, list(train_idx), seeds)
        for i in test_idx:
            out[i] = np.zeros((len(y[i]), len(CLASSES)), dtype=np.float32)
            for network in networks:
                out[i][:, network.classes_] += network.predict_proba(encoded[i][1]) / len(networks)
        print(f"networks, fold {fold} of {FOLDS}", file=sys.stderr)
    return out


def _crf(features: list[list[dict]], tags: list[list[str]], path: Path):
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for f, t in zip(features, tags):
        trainer.append(f, t)
    trainer.set_params({"c1": 0.05, "c2": 0.05, "max_iterations": 200, "feature.possible_transitions": True})
    trainer.train(str(path))
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    return tagger


def train(sentences: list[Sentence], out: Path) -> None:
    encoded = _encode(sentences)
    y = [[CLASSES.index(t) for t in labels(s)] for s in sentences]
    probabilities = _out_of_fold(encoded, y, SEEDS)
    out.mkdir(parents=True, exist_ok=True)
    _crf([crf_features(encoded[i][0], probabilities[i]) for i in range(len(sentences))], [labels(s) for s in sentences],
         out / "entities.crfsuite")
    models = _networks(encoded, y, list(range(len(sentences))), SEEDS)
    w2 = np.zeros((len(models), HIDDEN, len(CLASSES)), dtype=np.float32)
    b2 = np.full((len(models), len(CLASSES)), -30.0, dtype=np.float32)  # a class never seen in training is never predicted
    for k, model in enumerate(models):
        w2[k][:, model.classes_] = model.coefs_[1]
        b2[k][model.classes_] = model.intercepts_[1]
    w1 = np.stack([m.coefs_[0] for m in models]).astype(np.float16).astype(np.float32)
    into, out_of = first_layer_factors(w1, np.vstack([x for _, x in encoded]), RANK)
    # half precision: half the file; the arithmetic stays in float32 (the figures are measured with the saved weights)
    np.savez_compressed(out / "entities-mlp.npz", w1_in=into.astype(np.float16), w1_out=out_of.astype(np.float16),
                        b1=np.stack([m.intercepts_[0] for m in models]).astype(np.float16),
                        w2=w2.astype(np.float16), b2=b2)


def first_layer_factors(w1: np.ndarray, x: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """The networks' first layers (network, inputs, hidden) side by side as one (inputs, networks * hidden)
    matrix W, factorised W ~ A B through `rank` dimensions so that x A B is the best rank-`rank` approximation of
    x W on the training inputs x (Eckart-Young: B = the leading right singular vectors of x W)."""
    joined = np.ascontiguousarray(w1.transpose(1, 0, 2).reshape(w1.shape[1], -1))
    _, _, vt = np.linalg.svd(x.astype(np.float32) @ joined, full_matrices=False)
    basis = vt[:rank]
    return joined @ basis.T, basis


def cross_validate(sentences: list[Sentence], seeds: int, folds: int = 3) -> dict:
    """Exact-span micro F1 of the training part read in `folds` parts, each by a CRF trained on the others (on
    the networks' out-of-fold probabilities): how choices are made without looking at the held-out third."""
    import tempfile
    from sklearn.model_selection import KFold

    encoded = _encode(sentences)
    y = [[CLASSES.index(t) for t in labels(s)] for s in sentences]
    probabilities = _out_of_fold(encoded, y, seeds)
    features = [crf_features(encoded[i][0], probabilities[i]) for i in range(len(sentences))]
    tp = fp = fn = 0
    with tempfile.TemporaryDirectory() as tmp:
        for train_idx, test_idx in KFold(folds, shuffle=True, random_state=1).split(sentences):
            tagger = _crf([features[i] for i in train_idx], [labels(sentences[i]) for i in train_idx], Path(tmp) / "crf")
            for i in test_idx:
                predicted = set(spans_of(list(tagger.tag(features[i])), words(sentences[i].text)))
                gold = set(sentences[i].gold)
                tp, fp, fn = tp + len(predicted & gold), fp + len(predicted - gold), fn + len(gold - predicted)
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"seeds": seeds, "precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(p + r, 1e-9), 4)}


def evaluate(sentences: list[Sentence], tagger=None) -> dict:
    """Exact-span micro F1 over PER, LOC and ORG, and per type (precision, recall, F1)."""
    from ingest.encoder import encoder
    from ingest.entities import tagger as default_tagger

    tagger = tagger or default_tagger()
    counts = {t: [0, 0, 0] for t in TYPES}  # tp, fp, fn
    for sentence, enc in zip(sentences, encoder().encode([s.text for s in sentences])):
        predicted = set(tagger.tag(sentence.text, enc.spans, enc.states))
        gold = set(sentence.gold)
        for span in predicted:
            counts[span.kind][0 if span in gold else 1] += 1
        for span in gold - predicted:
            counts[span.kind][2] += 1

    def figures(tp, fp, fn):
        p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(p + r, 1e-9), 4),
                "gold": tp + fn}

    total = [sum(c[k] for c in counts.values()) for k in range(3)]
    return {"sentences": len(sentences), "micro": figures(*total), **{t: figures(*c) for t, c in counts.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("germeval", type=Path)
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument("--cross-validate", action="store_true",
                        help="only measure on the training part, with one network and with the ensemble; save nothing")
    args = parser.parse_args(argv)
    train_part, test_part = split(read_germeval(args.germeval))
    if args.cross_validate:
        for seeds in sorted({1, SEEDS}):
            print(cross_validate(train_part, seeds))
        return 0
    train(train_part, args.out)
    from ingest.entities import Tagger

    print(evaluate(test_part, Tagger(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
