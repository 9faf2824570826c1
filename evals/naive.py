"""The naive reference answerer the eval compares against: dense retrieval only, then the two sentences
most similar to the question by embedding, always answered (it cannot tell when the articles do not say).
Run it with `delegations eval --backend naive`."""

from __future__ import annotations

import time

import numpy as np

from assistant.answer import Answer, Citation
from index.retrieve import Retriever
from ingest.sentences import split_sentences


class NaiveAssistant:
    def __init__(self, workspace):
        self.ws = workspace
        self.retriever = Retriever(workspace)

    def answer(self, question: str, history=None, backend=None, **_) -> Answer:
        retrieval = self.retriever.retrieve(question, method="dense")
        start = time.perf_counter()
        pairs = [(s, p) for p in retrieval.passages for s in split_sentences(p.text)]
        q = np.array(self.ws.embed_model.get_query_embedding(question))
        vectors = np.array(self.ws.embed_model.get_text_embedding_batch([s for s, _ in pairs]))
        best = sorted(np.argsort(-(vectors @ q))[:2])
        citations: dict[str, Citation] = {}
        parts = []
        for i in best:
            sentence, passage = pairs[i]
            cite = citations.setdefault(passage.chunk_id, Citation(len(citations) + 1, passage, []))
            cite.quotes.append(sentence)
            parts.append(f"{sentence} [{cite.n}]")
        return Answer(question, " ".join(parts), False, "naive", list(citations.values()), retrieval.passages,
                      {"retrieve": retrieval.ms, "generate": (time.perf_counter() - start) * 1000})
