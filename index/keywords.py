"""The keyword half of hybrid retrieval: BM25 (bm25s) over German Snowball stems, with compounds split.

German glues words together: "Wirtschaftsdelegation", "Japanreise". Each stem is split against the
index's own vocabulary (a head and a modifier that both occur as words of at least four letters, with the
linking -s/-es/-n/-en/-e dropped), and its parts are indexed and searched beside it. So a question about
the "Wirtschaftsdelegation" finds passages that say "Delegation", and one about "Japan" finds "Japanreise".

The index lives in `<data dir>/keywords/`. Ingest stores every chunk's stems in the manifest and, when
anything changed, rebuilds this index from them (no text is re-read or re-tokenised) and swaps it in
atomically; a running server notices the new build on its next query. Queries never rebuild it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import Stemmer

from index.manifest import ChunkTerms, Manifest
from index.terms import content_stems

_snowball = Stemmer.Stemmer("german")

log = logging.getLogger(__name__)

DIR_NAME = "keywords"
BUILD_ID = "build_id"  # written last into a new build: its presence marks the build complete
MIN_PART = 4
LINKS = ("es", "en", "s", "n", "e")


def decompound(word_stem: str, vocabulary, depth: int = 2) -> list[str]:
    """The parts of a compound stem that are words of the vocabulary, longest head first:
    wirtschaftsdelegation -> [wirtschaft, delegation]; leipzig -> []."""
    if depth == 0 or len(word_stem) < 2 * MIN_PART or word_stem.isdigit():
        return []
    for i in range(MIN_PART, len(word_stem) - MIN_PART + 1):
        head = word_stem[i:]
        if head not in vocabulary:
            continue
        modifier = word_stem[:i]
        variants = [modifier] + [modifier[: -len(link)] for link in LINKS if modifier.endswith(link)]
        variants += [_snowball.stemWord(v) for v in variants]  # "burger" (of Bürgermeister) -> burg
        found = next((v for v in variants if len(v) >= MIN_PART and v in vocabulary), None)
        if found:
            parts = [found, head]
            for p in (found, head):
                parts += decompound(p, vocabulary, depth - 1)
            return list(dict.fromkeys(parts))
    return []


def expand(stems: list[str], vocabulary, cache: dict[str, list[str]] | None = None) -> list[str]:
    """Stems plus the compound parts of each."""
    out = list(stems)
    for s in stems:
        if cache is not None and s in cache:
            out += cache[s]
        else:
            parts = decompound(s, vocabulary)
            if cache is not None:
                cache[s] = parts
            out += parts
    return out


def past_tense_base(word_stem: str, vocabulary) -> str | None:
    """Snowball keeps the -t of a weak verb's past tense: "besuchte" -> besucht, "reisten" -> reist,
    "leitete" -> leitet, while the noun and the present stem without it: "Besuch", "Reise", "leiten". A
    question asks in the past about articles that say "Besuch" and "Delegationsreise"; the stem without
    the -t is searched as well when the index has it as a word."""
    if len(word_stem) >= 5 and word_stem.endswith("t") and word_stem[:-1] in vocabulary:
        return word_stem[:-1]
    return None


@dataclass
class KeywordHit:
    chunk_id: str
    score: float


class KeywordIndex:
    """A built BM25 index over the chunks, with each chunk's article and publication days for filtering."""

    def __init__(self, bm25, vocabulary: set[str], chunk_ids: np.ndarray, doc_ids: np.ndarray,
                 date_first: np.ndarray, date_last: np.ndarray, build_id: str):
        self.bm25 = bm25
        self.vocabulary = vocabulary
        self.chunk_ids = chunk_ids
        self.doc_ids = doc_ids
        self.date_first = date_first
        self.date_last = date_last
        self.build_id = build_id
        self._parts: dict[str, list[str]] = {}
        # Article of each chunk as a small integer, for per-article sums without comparing strings.
        self._articles, self._article_of = np.unique(np.asarray(doc_ids, dtype=str), return_inverse=True)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    # -- building
    @classmethod
    def build(cls, terms: list[ChunkTerms], data_dir: Path, build_id: str | None = None, clean: bool = True) -> None:
        """Build from the chunks' stored stems and swap the new index in place of the old one. `clean`: remove
        what builds that were killed left (only under the ingest lock: another build may be under way)."""
        import bm25s

        target = data_dir / DIR_NAME
        for stale in [*data_dir.glob(f"{DIR_NAME}.new-*"), *data_dir.glob(f"{DIR_NAME}.old-*")] if clean else []:
            shutil.rmtree(stale, ignore_errors=True)  # left by a build that was killed (the ingest lock is ours)
        fresh = data_dir / f"{DIR_NAME}.new-{uuid.uuid4().hex[:8]}"
        fresh.mkdir(parents=True)
        try:
            vocabulary = {s for t in terms for s in t.stems if len(s) >= MIN_PART and not s.isdigit()}
            cache: dict[str, list[str]] = {}
            corpus = [expand(t.stems, vocabulary, cache) or [""] for t in terms]
            build_id = build_id or uuid.uuid4().hex[:12]
            if terms:
                bm25 = bm25s.BM25()  # Lucene's BM25 variant, k1=1.5, b=0.75
                bm25.index(corpus, show_progress=False)
                bm25.save(str(fresh / "bm25"), show_progress=False)
            meta = {
                "chunk_ids": [t.chunk_id for t in terms],
                "doc_ids": [t.doc_id for t in terms],
                "date_first": [t.date_first for t in terms],
                "date_last": [t.date_last for t in terms],
                "vocabulary": sorted(vocabulary),
            }
            (fresh / "chunks.json").write_text(json.dumps(meta), encoding="utf-8")
            (fresh / BUILD_ID).write_text(build_id, encoding="utf-8")
            old = data_dir / f"{DIR_NAME}.old-{uuid.uuid4().hex[:8]}"
            if target.exists():
                os.rename(target, old)
            os.rename(fresh, target)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)

    @classmethod
    def publish(cls, manifest: Manifest, data_dir: Path) -> None:
        """After the corpus changed: the keyword index rebuilt from the manifest's stems under a new corpus
        version (manifest meta `corpus_version`). Instances that share the manifest (database_url) see the
        version change and rebuild their own (index/retrieve.py `Retriever.refresh`)."""
        version = uuid.uuid4().hex[:12]
        manifest.set_meta("keywords_built", "0")
        cls.build(manifest.all_terms(), data_dir, version)
        manifest.set_meta("corpus_version", version)
        manifest.set_meta("keywords_built", "1")

    @classmethod
    def build_id_on_disk(cls, data_dir: Path) -> str | None:
        """The id of the build in the data dir (one tiny file, read on every query), None when there is none."""
        try:
            return (data_dir / DIR_NAME / BUILD_ID).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    @classmethod
    def open(cls, data_dir: Path) -> KeywordIndex | None:
        import bm25s

        directory = data_dir / DIR_NAME
        try:
            meta = json.loads((directory / "chunks.json").read_text(encoding="utf-8"))
            build_id = (directory / BUILD_ID).read_text(encoding="utf-8").strip()
            bm25 = bm25s.BM25.load(str(directory / "bm25"), mmap=True, show_progress=False) if meta["chunk_ids"] else None
        except (OSError, ValueError, KeyError) as exc:
            log.warning("No usable keyword index in %s (%s); retrieval is dense only until the next ingest.", directory, exc)
            return None
        return cls(bm25, set(meta["vocabulary"]), np.array(meta["chunk_ids"], dtype=object),
                   np.array(meta["doc_ids"], dtype=object), np.array(meta["date_first"], dtype=np.int64),
                   np.array(meta["date_last"], dtype=np.int64), build_id)

    # -- searching
    def _variants(self, word_stem: str) -> list[str]:
        """What one question word searches: its stem, its compound parts, and the base of any past tense."""
        forms = [word_stem] + expand([word_stem], self.vocabulary, self._parts)[1:]
        return list(dict.fromkeys(forms + [b for f in forms if (b := past_tense_base(f, self.vocabulary))]))

    def query_terms(self, question: str) -> list[str]:
        return list(dict.fromkeys(v for s in content_stems(question) for v in self._variants(s)))

    def coverage(self, question: str, doc_ids: list[str]) -> dict[str, float]:
        """How much of what the question says each article mentions: the IDF-weighted share of the
        question's words (a compound counts when it or its parts occur, a past-tense verb also by its base)
        that occur anywhere in the article. Words the index has never seen (an English question's "headed")
        weigh nothing either way. Lucene's classic scoring multiplied by this share ("coord"); here it lets an
        article that has both "Delegation" and "Israel" outrank one that only has "Israel"."""
        if self.bm25 is None or not doc_ids:
            return {}
        vocab, postings = self.bm25.vocab_dict, self.bm25.scores
        n = max(len(self), 1)
        names = np.array(list(dict.fromkeys(doc_ids)), dtype=str)
        codes = np.searchsorted(self._articles, names)
        known = (codes < len(self._articles)) & (self._articles[np.minimum(codes, len(self._articles) - 1)] == names)
        wanted = np.zeros(len(self._articles), dtype=bool)
        wanted[codes[known]] = True
        weight = np.zeros(len(self._articles))
        total = 0.0
        for s in dict.fromkeys(content_stems(question)):
            ids = [vocab[v] for v in self._variants(s) if v in vocab]
            if not ids:
                continue
            chunks = np.unique(np.concatenate([postings["indices"][postings["indptr"][i]:postings["indptr"][i + 1]] for i in ids]))
            idf = float(np.log(1 + (n - len(chunks) + 0.5) / (len(chunks) + 0.5)))
            articles = np.unique(self._article_of[chunks])
            weight[articles[wanted[articles]]] += idf
            total += idf
        if total <= 0:
            return {}
        return {str(name): float(weight[code]) / total if ok else 0.0 for name, code, ok in zip(names, codes, known)}

    def search(self, question: str, k: int, doc_ids: list[str] | None = None,
               days: tuple[int | None, int | None] = (None, None)) -> list[KeywordHit]:
        """The k best chunks by BM25, restricted to the given articles and to publication days that overlap
        [first, last] (day numbers YYYYMMDD, either side open)."""
        if self.bm25 is None or not len(self):
            return []
        tokens = [t for t in self.query_terms(question) if t in self.bm25.vocab_dict]
        if not tokens:
            return []
        mask = np.ones(len(self), dtype=np.float32)
        if doc_ids:
            mask *= np.isin(self.doc_ids, list(doc_ids))
        first, last = days
        if first is not None:
            mask *= self.date_last >= first
        if last is not None:
            mask *= (self.date_first <= last) & (self.date_first > 0)
        if not mask.any():
            return []
        scores = self.bm25.get_scores(tokens, weight_mask=mask)
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [KeywordHit(str(self.chunk_ids[i]), float(scores[i])) for i in top]


def chunk_terms(chunks) -> list[ChunkTerms]:
    """The stems to index for each chunk (title and date included, as in the embedded text)."""
    out = []
    for c in chunks:
        date = c.date
        out.append(ChunkTerms(c.chunk_id, c.doc_id, date.first_day if date else 0, date.last_day if date else 0,
                              content_stems(c.embed_text)))
    return out
