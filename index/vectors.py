"""Sentence vectors: how the chunks are embedded, and what answers are chosen by.

Each sentence of a chunk is embedded on its own (e5's passage encoding), and each article's heading (title and
date) once; a chunk's vector in Chroma is the normalised mean of its heading's and its sentences' vectors.
Retrieval takes candidates from Chroma by that mean, then scores each candidate by the mean's similarity
plus its best sentence's (MaxSim), and the extractive answerer compares the question with each sentence.

Why: on the 1,041 XQuAD-de questions, ranking the 475 chunks of its 240 paragraphs by the best sentence
found the right paragraph first for 0.94 of them, by an e5 embedding of the whole chunk for 0.91; and a
sentence-level similarity is what lets a paraphrased or English question find the German sentence that
answers it. Embedding the sentences instead of the chunks costs about the same (the same tokens go through
the model), so ingest does not get slower.

The vectors are kept in the manifest (float16, with the sentence spans they belong to), written in the same
transaction that records their article: they follow the chunks' incremental and crash-safe rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ingest.model import Chunk, indexed_text


@dataclass
class SentenceVectors:
    """A chunk's sentences (offsets into its text) with their vectors, and its article's heading vector."""

    spans: list[tuple[int, int]]
    vectors: np.ndarray  # (sentences, dim), unit length
    heading: np.ndarray  # (dim,), unit length

    def mean(self) -> np.ndarray:
        """The chunk's vector: the normalised mean of the heading's and the sentences' vectors."""
        total = self.heading + self.vectors.sum(axis=0)
        return total / max(float(np.linalg.norm(total)), 1e-12)

    def best(self, query: np.ndarray) -> float:
        """The similarity of the sentence closest to the query (the heading when there is none)."""
        return float((self.vectors @ query).max()) if len(self.vectors) else float(self.heading @ query)

    def to_row(self) -> tuple[str, bytes]:
        stacked = np.vstack([self.heading[None, :], self.vectors]).astype(np.float16)
        return json.dumps(self.spans), stacked.tobytes()

    @classmethod
    def from_row(cls, spans: str, blob: bytes, dim: int | None = None) -> SentenceVectors:
        pairs = [tuple(p) for p in json.loads(spans)]
        stacked = np.frombuffer(blob, dtype=np.float16).astype(np.float32).reshape(len(pairs) + 1, -1)
        return cls(pairs, stacked[1:], stacked[0])


def heading(chunk: Chunk) -> str:
    """What stands for the article as a whole: its title and date, as the keyword index sees them."""
    return indexed_text(chunk.title, chunk.date.iso if chunk.date else "", "").strip()


def texts_to_embed(chunks: list[Chunk]) -> dict[str, int]:
    """Every text the chunks are embedded by, once each (a sentence two overlapping chunks share, an
    article's heading), with its position in the embedder call."""
    texts: dict[str, int] = {}
    for c in chunks:
        texts.setdefault(heading(c), len(texts))
        for sentence in c.sentences:
            texts.setdefault(sentence, len(texts))
    return texts


def embed_chunks(chunks: list[Chunk], embed_model) -> tuple[list[list[float]], list[SentenceVectors]]:
    """The chunks' vectors for Chroma and their sentence vectors, from one embedder call."""
    texts = texts_to_embed(chunks)
    if not chunks:
        return [], []
    out = sentence_vectors(chunks, texts, embed_model.get_text_embedding_batch(list(texts)))
    return [v.mean().tolist() for v in out], out


def sentence_vectors(chunks: list[Chunk], texts: dict[str, int], embedded) -> list[SentenceVectors]:
    """Each chunk's sentence vectors, from the embeddings of `texts_to_embed(chunks)` in its order."""
    matrix = np.asarray(embedded, dtype=np.float32)
    matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return [SentenceVectors(list(c.spans), matrix[[texts[s] for s in c.sentences]].reshape(len(c.spans), -1),
                            matrix[texts[heading(c)]]) for c in chunks]
