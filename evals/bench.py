"""`delegations bench`: what ingest and questions cost, against the physical limit and a naive pipeline.

On a CPU the embedder is the limit of ingest, so everything is measured in one process, on the same
articles, against `embed_raw_s` (the embedder alone on exactly the chunk texts the ingest produces):

- ingest_s / overhead_ratio: a full ingest into a fresh data dir, and how far it is from the limit;
- reingest_s: the same ingest again with nothing changed (hash checks only);
- naive_ingest_s / speedup_vs_naive: llama-index's textbook pipeline (`VectorStoreIndex.from_documents`,
  default splitter, same embedder, into Chroma);
- retrieve_ms_* / answer_ms_* (extractive) over at least 50 questions; cold_start_s: a new `delegations ask`
  process answering one question; peak_rss_mb of this process.

`--scale` adds retrieval latency for dense, keyword and hybrid search at about 1k, 10k and 100k chunks.
Embedding 100k chunks would take hours on a CPU, so the chunks beyond the real ones are synthetic: chunk i
joins the sentences of two real chunks (its text, hence its stems) and the normalised mean of their
embeddings plus a little noise (its vector). Postings lists and vector neighbourhoods keep the statistics of
real German news text, which is what retrieval latency depends on.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from settings import Settings

FIELDS = ("embed_raw_s", "ingest_s", "overhead_ratio", "reingest_s", "naive_ingest_s", "speedup_vs_naive",
          "retrieve_ms_p50", "retrieve_ms_p95", "answer_ms_p50", "answer_ms_p95", "cold_start_s", "peak_rss_mb",
          "articles", "chunks", "chars", "cores")
SCALE_SIZES = (1_000, 10_000, 100_000)
MIN_QUESTIONS = 50


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says why."""


def run(corpus: Path, settings: Settings, limit: int | None = None, scale_sizes: tuple[int, ...] = (),
        plot: Path | None = None, log=print) -> dict:
    from index.embedders import make_embedder
    from ingest.readers import IngestError, discover, read_file

    work = Path(tempfile.mkdtemp(prefix="delegations-bench-"))
    try:
        source = _select(corpus, limit, work / "corpus")
        files, failed = discover([source])
        articles = []
        for f in files:
            try:
                articles += read_file(f, f.read_bytes())[0]
            except IngestError:
                pass
        if not articles:
            raise BenchError(f"No readable articles in {corpus}.")
        from ingest.chunking import chunk_article

        cfg = settings.ingest
        texts = [c.embed_text for a in articles for c in chunk_article(a, cfg.chunk_chars, cfg.chunk_overlap_sentences)]
        row: dict = {"articles": len(articles), "chunks": len(texts), "chars": sum(len(a.text) for a in articles),
                     "cores": os.cpu_count()}
        log(f"{row['articles']} articles, {row['chunks']} chunks, {row['chars']:,} characters, {row['cores']} cores")

        embedder = make_embedder(settings)  # one model for every step: loading is not what is measured
        embedder.get_text_embedding_batch(texts[:8])
        start = time.perf_counter()
        vectors = embedder.get_text_embedding_batch(texts)
        row["embed_raw_s"] = _s(time.perf_counter() - start)
        log(f"embed_raw_s   {row['embed_raw_s']:>8}  (the embedder alone, {len(texts) / row['embed_raw_s']:.1f} chunks/s)")

        ws = _workspace(settings, work / "index", embedder)
        from index.sync import sync

        start = time.perf_counter()
        report = sync([source], ws)
        row["ingest_s"] = _s(time.perf_counter() - start)
        row["overhead_ratio"] = round(row["ingest_s"] / row["embed_raw_s"], 3)
        if report.chunks != len(texts):
            raise BenchError(f"The ingest stored {report.chunks} chunks, the benchmark embedded {len(texts)}.")
        log(f"ingest_s      {row['ingest_s']:>8}  overhead_ratio {row['overhead_ratio']}")
        start = time.perf_counter()
        sync([source], ws)
        row["reingest_s"] = _s(time.perf_counter() - start)
        log(f"reingest_s    {row['reingest_s']:>8}")

        row["naive_ingest_s"] = _naive_ingest(articles, embedder, work / "naive")
        row["speedup_vs_naive"] = round(row["naive_ingest_s"] / row["ingest_s"], 3)
        log(f"naive_ingest_s {row['naive_ingest_s']:>7}  speedup_vs_naive {row['speedup_vs_naive']}")

        questions = _questions(articles)
        row.update(_question_latency(ws, questions))
        log(f"retrieve_ms   p50 {row['retrieve_ms_p50']}  p95 {row['retrieve_ms_p95']}   "
            f"answer_ms p50 {row['answer_ms_p50']}  p95 {row['answer_ms_p95']}  ({len(questions)} questions)")
        row["cold_start_s"] = _cold_start(work / "index", questions[0])
        log(f"cold_start_s  {row['cold_start_s']:>8}")
        row["peak_rss_mb"] = _peak_rss_mb()  # of the product's work; the synthetic scale index comes after
        log(f"peak_rss_mb   {row['peak_rss_mb']:>8}")
        if scale_sizes:
            row["scale"] = _scale(settings, embedder, texts, vectors, questions, scale_sizes, work / "scale", log)
            if plot:
                _plot(row["scale"], plot)
        ordered = {k: row[k] for k in FIELDS}
        if "scale" in row:
            ordered["scale"] = row["scale"]
        return ordered
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _s(seconds: float) -> float:
    return round(seconds, 3)


def _workspace(settings: Settings, data_dir: Path, embedder):
    from index.workspace import Workspace

    ws = Workspace(settings.model_copy(update={"data_dir": data_dir, "chroma": settings.chroma.model_copy(update={"url": ""})}))
    ws.__dict__["embed_model"] = embedder
    return ws


def _select(corpus: Path, limit: int | None, target: Path) -> Path:
    """The first `limit` articles of a JSONL file, or the first `limit` files of a folder, copied aside so
    that every step reads the same articles."""
    target.mkdir(parents=True)
    if not corpus.exists():
        raise BenchError(f"{corpus} does not exist.")
    if corpus.is_file() and corpus.suffix == ".jsonl":
        out = target / corpus.name
        with corpus.open(encoding="utf-8", errors="replace") as src, out.open("w", encoding="utf-8") as dst:
            taken = 0
            for line in src:
                if line.strip():
                    dst.write(line if line.endswith("\n") else line + "\n")
                    taken += 1
                    if limit and taken >= limit:
                        break
        return target
    from ingest.readers import discover

    files, _ = discover([corpus])
    for i, f in enumerate(files[:limit] if limit else files):
        shutil.copyfile(f, target / f"{i:05d}-{f.name}")
    return target


def _naive_ingest(articles, embedder, path: Path) -> float:
    """llama-index's textbook pipeline: Documents, the default SentenceSplitter, the same embedder, Chroma."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.store import _embedding_function

    client = chromadb.PersistentClient(path=str(path))
    collection = client.get_or_create_collection("naive", embedding_function=_embedding_function(embedder, "bench"))
    documents = [Document(text=a.text, metadata={"title": a.title, "source": a.source}) for a in articles]
    start = time.perf_counter()
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embedder)
    return _s(time.perf_counter() - start)


def _questions(articles) -> list[str]:
    """What users ask: the eval suite's questions, and one question about each of the first articles."""
    from evals.run import DEFAULT_CASES, load_cases

    questions = [c.turns[-1] for c in load_cases(DEFAULT_CASES)]
    for a in articles[:MIN_QUESTIONS]:
        questions.append(f"Worum ging es bei „{a.title[:120]}“?")
    return questions


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 1)


def _question_latency(ws, questions: list[str]) -> dict:
    from assistant.service import Assistant

    assistant = Assistant(ws)
    assistant.answer(questions[0])  # opens the keyword index and the store, as the first question of a server does
    retrieve, answer = [], []
    for q in questions:
        retrieve.append(assistant.retriever.retrieve(q).ms)
        start = time.perf_counter()
        assistant.answer(q, backend="extractive")
        answer.append((time.perf_counter() - start) * 1000)
    return {"retrieve_ms_p50": _percentile(retrieve, 0.5), "retrieve_ms_p95": _percentile(retrieve, 0.95),
            "answer_ms_p50": _percentile(answer, 0.5), "answer_ms_p95": _percentile(answer, 0.95)}


def _cold_start(data_dir: Path, question: str) -> float:
    """A new `delegations ask` process answering one question, end to end (the median of three)."""
    exe = shutil.which("delegations")
    command = [exe] if exe else [sys.executable, "-m", "cli"]
    env = {**os.environ, "DELEGATIONS_BACKEND": "extractive", "DELEGATIONS_CHROMA_URL": ""}
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run = subprocess.run([*command, "ask", question, "--data-dir", str(data_dir), "--backend", "extractive"],
                             capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parent.parent)
        times.append(time.perf_counter() - start)
        if run.returncode != 0:
            raise BenchError(f"`delegations ask` failed: {run.stderr.strip()[-300:]}")
    return _s(statistics.median(times))


def _scale(settings, embedder, texts, vectors, questions, sizes, path: Path, log) -> list[dict]:
    """Retrieval latency at growing corpus sizes, synthetic chunks built from the real ones (module docstring)."""
    import numpy as np

    from index.keywords import KeywordIndex
    from index.manifest import ChunkTerms, DocRecord
    from index.retrieve import Retriever
    from index.terms import content_stems
    from ingest.model import Chunk
    from ingest.sentences import split_sentences

    ws = _workspace(settings, path, embedder)
    rng, noise = random.Random(7), np.random.default_rng(7)
    base = np.asarray(vectors, dtype=np.float32)
    sentences = [split_sentences(t) or [t] for t in texts]
    rows, made, per_doc = [], 0, 10
    for size in sizes:
        start = time.perf_counter()
        while made < size:  # 100 synthetic articles of 10 chunks per write
            docs, embeddings, records = [], [], []
            while made < size and len(docs) < 100:
                n = min(per_doc, size - made)
                doc_id = f"syn-{made // per_doc:06d}"
                chunks = []
                for j in range(n):
                    a, b = rng.randrange(len(texts)), rng.randrange(len(texts))
                    text = " ".join(sentences[a][: max(1, len(sentences[a]) // 2)] + sentences[b][len(sentences[b]) // 2:])
                    v = base[a] + base[b] + noise.normal(0, 0.02, base.shape[1])
                    embeddings.append((v / np.linalg.norm(v)).tolist())
                    chunks.append(Chunk(f"{doc_id}#{j}", doc_id, j, text, f"Synthetisch {doc_id}", "bench", None, "synthetic"))
                docs.append((doc_id, chunks, False))
                records.append((DocRecord(doc_id, "bench", "synthetic", f"Synthetisch {doc_id}", None, None, "bench", n),
                                [ChunkTerms(c.chunk_id, doc_id, 0, 0, content_stems(c.text)) for c in chunks]))
                made += n
            ws.store.replace_docs(docs, embeddings)
            for record, terms in records:
                ws.manifest.put_doc(record, terms)
        grow_s = time.perf_counter() - start
        start = time.perf_counter()
        KeywordIndex.build(ws.manifest.all_terms(), path)
        build_s = time.perf_counter() - start
        retriever = Retriever(ws)
        entry = {"chunks": made, "insert_s": _s(grow_s), "keyword_build_s": _s(build_s), "peak_rss_mb": _peak_rss_mb()}
        for method in ("dense", "keyword", "hybrid"):
            retriever.retrieve(questions[0], method=method)
            ms = [retriever.retrieve(q, method=method).ms for q in questions]
            entry[f"{method}_ms_p50"], entry[f"{method}_ms_p95"] = _percentile(ms, 0.5), _percentile(ms, 0.95)
        rows.append(entry)
        log("scale " + "  ".join(f"{k} {v}" for k, v in entry.items()))
    return rows


def _plot(rows: list[dict], out: Path) -> None:
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


def markdown(row: dict, command: str, plot: Path | None) -> str:
    """The report: the figures, the targets of the speed issue, and the scale table."""
    targets = {"overhead_ratio": ("<=", 1.10), "reingest_s": ("<=", 2), "retrieve_ms_p95": ("<=", 100),
               "answer_ms_p95": ("<=", 300), "peak_rss_mb": ("<=", 1500), "speedup_vs_naive": (">=", 1.0),
               "cold_start_s": ("<=", 3)}
    lines = ["# Benchmark", "", f"`{command}`", "", "| figure | value | target |", "|---|---|---|"]
    for key in FIELDS:
        target = ""
        if key in targets:
            op, limit = targets[key]
            ok = row[key] <= limit if op == "<=" else row[key] >= limit
            target = f"{op} {limit} {'✓' if ok else '✗'}"
        lines.append(f"| {key} | {row[key]} | {target} |")
    if row.get("scale"):
        lines += ["", "## Retrieval latency against corpus size (synthetic chunks beyond the real ones)", "",
                  "| chunks | dense p50/p95 ms | keyword p50/p95 ms | hybrid p50/p95 ms | insert s | keyword build s |",
                  "|---|---|---|---|---|---|"]
        for r in row["scale"]:
            lines.append(f"| {r['chunks']:,} | {r['dense_ms_p50']} / {r['dense_ms_p95']} | {r['keyword_ms_p50']} / "
                         f"{r['keyword_ms_p95']} | {r['hybrid_ms_p50']} / {r['hybrid_ms_p95']} | {r['insert_s']} | {r['keyword_build_s']} |")
        if plot:
            lines += ["", f"![latency against corpus size]({plot.name})"]
    return "\n".join(lines) + "\n"
