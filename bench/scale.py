"""Retrieval latency at growing corpus sizes, for `delegations bench --scale`.

Embedding 100k chunks would take hours on a CPU, so the chunks beyond the real ones are synthetic: chunk i
joins the first half of one real chunk's sentences and the second half of another's (its text, hence its
stems), each sentence with its real vector plus a little noise (its sentence vectors, and their mean its
vector in Chroma). Postings lists and vector neighbourhoods keep the statistics of real German news text,
which is what retrieval latency depends on.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from bench.measure import ms_percentile, peak_rss_mb, scratch_workspace, seconds

SCALE_SIZES = (1_000, 10_000, 100_000)


def retrieval_at_scale(settings, embedder, real: list, questions, sizes, path: Path, log) -> list[dict]:
    """Retrieval latency at growing corpus sizes, synthetic chunks built from the real ones (module docstring).
    `real`: (chunk, its SentenceVectors) pairs."""
    import numpy as np

    from assistant.question import analyse
    from index.keywords import KeywordIndex
    from index.manifest import ChunkTerms, DocRecord
    from index.retrieve import Retriever
    from index.terms import content_stems
    from index.vectors import SentenceVectors
    from ingest.model import Chunk

    ws = scratch_workspace(settings, path, embedder)
    rng, noise = random.Random(7), np.random.default_rng(7)
    rows, made, per_doc = [], 0, 10
    for size in sizes:
        start = time.perf_counter()
        while made < size:  # 100 synthetic articles of 10 chunks per write
            docs, embeddings, records = [], [], []
            while made < size and len(docs) < 100:
                n = min(per_doc, size - made)
                doc_id = f"syn-{made // per_doc:06d}"
                chunks, vectors = [], {}
                for j in range(n):
                    (a, va), (b, vb) = rng.choice(real), rng.choice(real)
                    picked = [(a, va, i) for i in range(max(1, len(a.spans) // 2))] + \
                             [(b, vb, i) for i in range(len(b.spans) // 2, len(b.spans))]
                    text, spans = "", []
                    for c, _, i in picked:
                        sentence = c.sentences[i]
                        spans.append((len(text), len(text) + len(sentence)))
                        text += sentence + " "
                    sentence_rows = np.array([v.vectors[i] for _, v, i in picked]).reshape(len(picked), -1)
                    jitter = noise.normal(0, 0.02, sentence_rows.shape).astype(np.float32)
                    sentence_rows = sentence_rows + jitter
                    sentence_rows /= np.linalg.norm(sentence_rows, axis=1, keepdims=True)
                    synthetic = SentenceVectors(spans, sentence_rows, va.heading)
                    chunk_id = f"{doc_id}#{j}"
                    vectors[chunk_id] = synthetic
                    embeddings.append(synthetic.mean().tolist())
                    chunks.append(Chunk(chunk_id, doc_id, j, text.strip(), f"Synthetisch {doc_id}", "bench", None,
                                        "synthetic", spans))
                docs.append((doc_id, chunks, False))
                records.append((DocRecord(doc_id, "bench", "synthetic", f"Synthetisch {doc_id}", None, None, "bench", n),
                                [ChunkTerms(c.chunk_id, doc_id, 0, 0, content_stems(c.text)) for c in chunks], vectors))
                made += n
            ws.store.replace_docs(docs, embeddings)
            for record, terms, vectors in records:
                ws.manifest.put_doc(record, terms, vectors, "")
        grow_s = time.perf_counter() - start
        start = time.perf_counter()
        KeywordIndex.build(ws.manifest.all_terms(), path)
        build_s = time.perf_counter() - start
        retriever = Retriever(ws)
        entry = {"chunks": made, "insert_s": seconds(grow_s), "keyword_build_s": seconds(build_s), "peak_rss_mb": peak_rss_mb()}
        asked = [analyse(q) for q in questions]
        for method in ("dense", "keyword", "hybrid"):
            retriever.retrieve(questions[0], method=method)
            ms = [retriever.retrieve(q.search, method=method, period=q.period).ms for q in asked]
            entry[f"{method}_ms_p50"], entry[f"{method}_ms_p95"] = ms_percentile(ms, 0.5), ms_percentile(ms, 0.95)
        rows.append(entry)
        log("scale " + "  ".join(f"{k} {v}" for k, v in entry.items()))
    return rows


def plot_latency(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    sizes = [r["chunks"] for r in rows]
    for method, color in (("dense", "#1f77b4"), ("keyword", "#2ca02c"), ("hybrid", "#d62728")):
        ax.plot(sizes, [r[f"{method}_ms_p95"] for r in rows], "o-", color=color, label=f"{method} p95")
        ax.plot(sizes, [r[f"{method}_ms_p50"] for r in rows], "o--", color=color, alpha=0.5, label=f"{method} p50")
    ax.axhline(100, color="grey", lw=0.8, ls=":", label="100 ms target")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("retrieval latency (ms)")
    ax.set_title(f"Retrieval latency against corpus size ({os.cpu_count()} cores)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


