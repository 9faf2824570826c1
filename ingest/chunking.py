"""Articles to chunks of whole sentences, each knowing its article's title, date and source."""

from __future__ import annotations

from ingest.model import Article, Chunk
from ingest.sentences import sentence_spans

HARD_LIMIT_FACTOR = 2  # a single sentence longer than 2x the target is cut at a space, not kept whole


def _pieces(text: str, target: int) -> list[tuple[int, int]]:
    """Sentence spans, with run-on 'sentences' (tables, lists without punctuation) cut at white space."""
    out = []
    for a, b in sentence_spans(text):
        while b - a > HARD_LIMIT_FACTOR * target:
            cut = text.rfind(" ", a + target // 2, a + target)
            cut = cut if cut > a else a + target
            out.append((a, cut))
            a = cut
            while a < b and text[a].isspace():
                a += 1
        out.append((a, b))
    return out


def chunk_article(article: Article, target_chars: int = 700, overlap: int = 1) -> list[Chunk]:
    """Chunks are slices of the article text (line breaks kept), so re-splitting one gives the same sentences."""
    spans = _pieces(article.text, target_chars)
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    fresh = 0  # sentences in current that are not overlap from the previous chunk
    for a, b in spans:
        if fresh and b - current[0][0] > target_chars:
            groups.append(current)
            carried = current[-overlap:] if overlap else []
            current = [s for s in carried if s[1] - s[0] < target_chars // 2]  # never carry a long sentence twice
            fresh = 0
        current.append((a, b))
        fresh += 1
    if fresh:
        groups.append(current)
    return [
        Chunk(
            chunk_id=f"{article.doc_id}#{n}",
            doc_id=article.doc_id,
            ordinal=n,
            text=article.text[group[0][0]:group[-1][1]],
            title=article.title,
            source=article.source,
            date=article.date,
            article_hash=article.hash,
            spans=[(a - group[0][0], b - group[0][0]) for a, b in group],
            offset=group[0][0],
        )
        for n, group in enumerate(groups)
    ]


def chunk(articles: list[Article], target_chars: int = 700, overlap: int = 1) -> list[Chunk]:
    return [c for a in articles for c in chunk_article(a, target_chars, overlap)]
