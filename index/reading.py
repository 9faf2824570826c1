"""Embedding and annotating articles in one pass: what ingest stores for every article besides its chunks.

The chunks are embedded by their sentences (index/vectors.py). With the in-process e5 embedder, the same
forward pass gives every token's hidden states, and the annotator (ingest/annotate.py) reads persons, places and
organisations from them: each sentence goes through the model once, for its vector and for its entities. With
another embedder (Ollama), the sentences are read by the in-process encoder for the annotation on their own.

An article's annotation is stored in the manifest with its annotator version (ingest.annotate.ANNOTATOR);
`annotate_stale` re-reads the articles an older annotator read (run by every ingest and by `delegations
reindex`), so a new annotator never leaves old readings behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from index.vectors import SentenceVectors, sentence_vectors, texts_to_embed
from ingest import annotate as annotator
from ingest.annotate import Annotation, Entity, annotate
from ingest.model import Chunk

ANNOTATE_GROUP = 16  # articles read per encoder call when annotating stored articles


@dataclass
class Read:
    """A group of articles' chunks as ingest stores them."""

    embeddings: list[list[float]]  # each chunk's vector, for Chroma
    sentences: list[SentenceVectors]  # each chunk's sentence vectors, for the manifest
    annotations: dict[str, Annotation]  # doc id -> the article's annotation


def embed_and_annotate(articles: list[tuple[str, str, str | None, list[Chunk]]], embed_model) -> Read:
    """(doc id, text, date, chunks) of some articles -> their chunks' vectors and the articles' annotations."""
    chunks = [c for *_, cs in articles for c in cs]
    if not chunks:
        return Read([], [], {doc_id: annotate_article(text, date, []) for doc_id, text, date, _ in articles})
    texts = texts_to_embed(chunks)
    if hasattr(embed_model, "encode_passages"):  # the in-process e5: vectors and token states in one pass
        encoded = dict(zip(texts, embed_model.encode_passages(list(texts))))
        vectors = [encoded[t].vector for t in texts]
        annotations = {doc_id: annotate_article(text, date, cs, encoded) for doc_id, text, date, cs in articles}
    else:  # a remote embedder: its batches are out while this process reads the articles for the annotation
        with ThreadPoolExecutor(1) as pool:
            remote = pool.submit(embed_model.get_text_embedding_batch, list(texts))
            annotations = {doc_id: annotate_article(text, date, cs) for doc_id, text, date, cs in articles}
            vectors = remote.result()
    sentences = sentence_vectors(chunks, texts, vectors)
    return Read([v.mean().tolist() for v in sentences], sentences, annotations)


def annotate_article(text: str, date: str | None, chunks: list[Chunk], encoded: dict | None = None) -> Annotation:
    """One article's annotation over the sentences its chunks were cut into (each read by the encoder once:
    the states of the ingest's pass when it has them)."""
    from ingest.encoder import encoder

    spans = sorted({(c.offset + a, c.offset + b) for c in chunks for a, b in c.spans})
    if not spans:
        from ingest.sentences import sentence_spans

        spans = sentence_spans(text)
    sentence_texts = [text[a:b] for a, b in spans]
    missing = [t for t in dict.fromkeys(sentence_texts) if encoded is None or t not in encoded]
    known = dict(encoded or {})
    if missing:
        known.update(zip(missing, encoder().encode(missing)))
    annotation, _ = annotate(text, date, [known[t] for t in sentence_texts], spans)
    return annotation


def annotate_stale(ws, progress: Callable[[int, int], None] | None = None) -> int:
    """Annotate the indexed articles that have no annotation of the current annotator (over the sentences
    of their chunks, as the settings chunk them); returns how many."""
    from ingest.chunking import chunk_article
    from ingest.model import Article, PubDate

    cfg = ws.settings.ingest
    todo = ws.manifest.docs_to_annotate(annotator.ANNOTATOR)
    for n, doc_id in enumerate(todo, 1):
        record, text = ws.manifest.doc(doc_id), ws.manifest.text(doc_id)
        if record is None or text is None:
            continue
        date = PubDate(record.date, record.date_precision) if record.date else None
        chunks = chunk_article(Article(doc_id, record.title, text, record.source, date), cfg.chunk_chars,
                               cfg.chunk_overlap_sentences)
        ws.manifest.put_annotation(doc_id, annotate_article(text, record.date, chunks))
        if progress:
            progress(n, len(todo))
    return len(todo)


# -- what question time reads: an article with its annotation

@dataclass
class ArticleReading:
    """An indexed article's text and its annotation: what the evidence check and the answerers read persons,
    places and dates from (never detecting them again)."""

    text: str
    annotation: Annotation

    def __post_init__(self):
        self._offsets: dict[str, int | None] = {}

    def offset_of(self, passage_text: str) -> int | None:
        """Where a passage (a chunk: a slice of the article) starts in the article's text."""
        if passage_text not in self._offsets:
            at = self.text.find(passage_text)
            self._offsets[passage_text] = at if at >= 0 else None
        return self._offsets[passage_text]

    def entities_in(self, passage_text: str, start: int = 0, end: int | None = None) -> list[Entity]:
        """The entities inside [start, end) of a passage's text."""
        at = self.offset_of(passage_text)
        if at is None:
            return []
        a, b = at + start, at + (len(passage_text) if end is None else end)
        return [e for e in self.annotation.entities if a <= e.start and e.end <= b]

    def place_ids(self) -> set[str]:
        """Every place the article names, and what it lies in (a city's country, a country's continent): an
        article about Peking speaks of China, one about Japan of Asia; and the countries its adjectives name
        ("US-amerikanisch", "die polnischen Gastgeber"), as the annotator reads them (ingest.gazetteer)."""
        if not hasattr(self, "_places"):
            from ingest import gazetteer

            codes = {gazetteer.adjective_country(w) for w in re.findall(r"\b[\w-]+\b", self.text)
                     if w[:1].islower() or "-" in w}
            self._places = places_with_containers(self.annotation.of_kind("place")) | \
                places_with_containers([Entity("place", 0, 0, "", 0, {"country": c}) for c in codes if c])
        return self._places


def places_with_containers(places: list[Entity]) -> set[str]:
    from index.places import continent_of

    ids: set[str] = set()
    for e in places:
        ids.add(e.attrs.get("id") or "")
        country = e.attrs.get("country")
        if country:
            ids.add(f"country:{country}")
            continent = continent_of(country)
            if continent:
                ids.add(f"continent:{continent}")
    ids.discard("")
    return ids


def read_article(ws, doc_id: str) -> ArticleReading | None:
    """The article as indexed with its stored annotation (read now, and not stored, for an index that has
    none yet: `annotate_stale` fills those in at the next ingest or start)."""
    text = ws.manifest.text(doc_id)
    if text is None:  # older indexes kept no text: joined from its chunks
        chunks = ws.store.chunks_of(doc_id)
        if not chunks:
            return None
        text = "\n".join(c.text for c in chunks)
    annotation = ws.manifest.annotation(doc_id)
    if annotation is None:
        record = ws.manifest.doc(doc_id)
        annotation = annotate_article(text, record.date if record else None, [])
    return ArticleReading(text, annotation)
