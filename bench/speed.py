"""`delegations bench`: what ingest and questions cost, against the physical limit and a naive pipeline.

On a CPU the embedder is the limit of ingest, so everything is measured in one process, on the same
articles, against `embed_raw_s` (the embedder alone on exactly the texts the ingest embeds: each sentence of
the chunks and each article's heading once, see index/vectors.py):

- encode_s / annotate_s / annotation_ratio: what annotating adds to the embedder (ingest/annotate.py): the
  same texts through the encoder keeping every token's states (encode_s, the pass ingest makes), then the
  annotator over every article from those states (annotate_s); annotation_ratio = (encode_s + annotate_s) /
  embed_raw_s - 1 (with an Ollama embedder the encoder's whole pass is the added cost);
- ingest_s / overhead_ratio: a full ingest into a fresh data dir (annotation included), and how far it is
  from the limit; trips_s: the trip register brought in step after it, as every ingest of the product does
  (trips: how many it read), and overhead_ratio_with_trips = (ingest_s + trips_s) / embed_raw_s;
- reingest_s: the same ingest again with nothing changed (hash checks only);
- naive_ingest_s / speedup_vs_naive: llama-index's textbook pipeline (`VectorStoreIndex.from_documents`,
  default splitter, same embedder, into Chroma);
- retrieve_ms_* / answer_ms_* (extractive) over at least 50 questions; cold_start_s: a new `delegations ask`
  process answering one question; peak_rss_mb of this process.

`--scale` adds retrieval latency at growing corpus sizes (bench/scale.py).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import ms_percentile, peak_rss_mb, scratch_workspace, seconds
from settings import Settings

FIELDS = ("embed_raw_s", "encode_s", "annotate_s", "annotation_ratio", "ingest_s", "overhead_ratio", "trips", "trips_s",
          "overhead_ratio_with_trips", "reingest_s", "naive_ingest_s", "speedup_vs_naive",
          "retrieve_ms_p50", "retrieve_ms_p95", "answer_ms_p50", "answer_ms_p95", "cold_start_s", "peak_rss_mb",
          "articles", "chunks", "chars", "cores")
MIN_QUESTIONS = 50


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says why."""


INGEST_FIELDS = FIELDS[:FIELDS.index("reingest_s") + 1] + FIELDS[FIELDS.index("articles"):]  # what --ingest-only measures


def run(corpus: Path, settings: Settings, limit: int | None = None, scale_sizes: tuple[int, ...] = (),
        plot: Path | None = None, log=print, ingest_only: bool = False) -> dict:
    from index.embedders import make_embedder
    from ingest.chunking import chunk
    from index.vectors import sentence_vectors, texts_to_embed
    from ingest.readers import Limits, load

    work = Path(tempfile.mkdtemp(prefix="delegations-bench-"))
    try:
        source = _select(corpus, limit, work / "corpus")
        cfg = settings.ingest
        articles, _ = load([source], Limits(cfg.max_file_mb, cfg.max_article_chars))  # what the ingest reads
        if not articles:
            raise BenchError(f"No readable articles in {corpus}.")
        chunks = chunk(articles, cfg.chunk_chars, cfg.chunk_overlap_sentences)
        to_embed = texts_to_embed(chunks)
        texts = list(to_embed)  # what the ingest embeds: each sentence and each article's heading once
        row: dict = {"articles": len(articles), "chunks": len(chunks), "chars": sum(len(a.text) for a in articles),
                     "cores": os.cpu_count()}
        log(f"{row['articles']} articles, {row['chunks']} chunks, {row['chars']:,} characters, {row['cores']} cores")

        embedder = make_embedder(settings)  # one model for every step: loading is not what is measured
        embedder.get_text_embedding_batch(texts[:8])
        start = time.perf_counter()
        vectors = embedder.get_text_embedding_batch(texts)
        row["embed_raw_s"] = seconds(time.perf_counter() - start)
        log(f"embed_raw_s   {row['embed_raw_s']:>8}  (the embedder alone: {len(texts)} sentences and headings, "
            f"{len(chunks) / row['embed_raw_s']:.1f} chunks/s)")

        row.update(_annotation_cost(articles, chunks, texts, row["embed_raw_s"], log))

        ws = scratch_workspace(settings, work / "index", embedder)
        from index.sync import sync

        start = time.perf_counter()
        report = sync([source], ws)
        row["ingest_s"] = seconds(time.perf_counter() - start)
        row["overhead_ratio"] = round(row["ingest_s"] / row["embed_raw_s"], 3)
        if report.chunks != len(chunks):
            raise BenchError(f"The ingest stored {report.chunks} chunks, the benchmark embedded {len(chunks)}.")
        log(f"ingest_s      {row['ingest_s']:>8}  overhead_ratio {row['overhead_ratio']}")
        from assistant.llms import trip_step

        start = time.perf_counter()  # the trip register, which every ingest brings in step after the chunks
        row["trips"] = trip_step(ws)()["added"]
        row["trips_s"] = seconds(time.perf_counter() - start)
        row["overhead_ratio_with_trips"] = round((row["ingest_s"] + row["trips_s"]) / row["embed_raw_s"], 3)
        log(f"trips_s       {row['trips_s']:>8}  ({row['trips']} trips read; with them overhead_ratio "
            f"{row['overhead_ratio_with_trips']})")
        start = time.perf_counter()
        sync([source], ws)
        row["reingest_s"] = seconds(time.perf_counter() - start)
        log(f"reingest_s    {row['reingest_s']:>8}")
        if ingest_only:  # a large corpus: the naive pipeline and the questions would take as long again
            return {k: row[k] for k in INGEST_FIELDS}

        row["naive_ingest_s"] = _naive_ingest(articles, embedder, work / "naive")
        row["speedup_vs_naive"] = round(row["naive_ingest_s"] / row["ingest_s"], 3)
        log(f"naive_ingest_s {row['naive_ingest_s']:>7}  speedup_vs_naive {row['speedup_vs_naive']}")

        questions = _questions(articles)
        row.update(_question_latency(ws, questions))
        log(f"retrieve_ms   p50 {row['retrieve_ms_p50']}  p95 {row['retrieve_ms_p95']}   "
            f"answer_ms p50 {row['answer_ms_p50']}  p95 {row['answer_ms_p95']}  ({len(questions)} questions)")
        row["cold_start_s"] = _cold_start(work / "index", questions[0])
        log(f"cold_start_s  {row['cold_start_s']:>8}")
        row["peak_rss_mb"] = peak_rss_mb()  # of the product's work; the synthetic scale index comes after
        log(f"peak_rss_mb   {row['peak_rss_mb']:>8}")
        if scale_sizes:
            from bench.scale import plot_latency, retrieval_at_scale

            real = list(zip(chunks, sentence_vectors(chunks, to_embed, vectors)))
            row["scale"] = retrieval_at_scale(settings, embedder, real, questions, scale_sizes, work / "scale", log)
            if plot:
                plot_latency(row["scale"], plot)
        ordered = {k: row[k] for k in FIELDS}
        if "scale" in row:
            ordered["scale"] = row["scale"]
        return ordered
    finally:
        shutil.rmtree(work, ignore_errors=True)


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


def _annotation_cost(articles, chunks, texts: list[str], embed_raw_s: float, log) -> dict:
    """The encoder's pass with token states over the ingest's texts, then the annotator over every article."""
    from index.reading import annotate_article
    from ingest.encoder import encoder

    start = time.perf_counter()
    encoded = dict(zip(texts, encoder().encode(texts)))
    encode_s = seconds(time.perf_counter() - start)
    by_doc: dict[str, list] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    start = time.perf_counter()
    for a in articles:
        annotate_article(a.text, a.date.iso if a.date else None, by_doc.get(a.doc_id, []), encoded)
    annotate_s = seconds(time.perf_counter() - start)
    ratio = round((encode_s + annotate_s) / embed_raw_s - 1, 3)
    log(f"encode_s      {encode_s:>8}  annotate_s {annotate_s}  annotation_ratio {ratio} (what annotating adds)")
    return {"encode_s": encode_s, "annotate_s": annotate_s, "annotation_ratio": ratio}


def _naive_ingest(articles, embedder, path: Path) -> float:
    """llama-index's textbook pipeline: Documents, the default SentenceSplitter, the same embedder, Chroma."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.store import embedding_function

    client = chromadb.PersistentClient(path=str(path))
    collection = client.get_or_create_collection("naive", embedding_function=embedding_function(lambda: embedder, "bench"))
    documents = [Document(text=a.text, metadata={"title": a.title, "source": a.source}) for a in articles]
    start = time.perf_counter()
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embedder)
    return seconds(time.perf_counter() - start)


def _questions(articles) -> list[str]:
    """What users ask: the eval suite's questions, and one question about each of the first articles."""
    from evals.cases import DEFAULT_CASES, load_cases

    questions = [c.turns[-1] for c in load_cases(DEFAULT_CASES)]
    for a in articles[:MIN_QUESTIONS]:
        questions.append(f"Worum ging es bei „{a.title[:120]}“?")
    return questions


def _question_latency(ws, questions: list[str]) -> dict:
    from assistant.question import analyse
    from assistant.service import Assistant

    assistant = Assistant(ws)
    assistant.answer(questions[0])  # opens the keyword index and the store, as the first question of a server does
    retrieve, answer = [], []
    for q in questions:
        analysed = analyse(q)
        vector = analysed.read.vector if analysed.read else None  # as the assistant retrieves: with the vector of
        # the annotator's pass over the question (without it retrieval embeds the question again, ~50-130 ms)
        retrieve.append(assistant.retriever.retrieve(analysed.search, period=analysed.period, query_vector=vector).ms)
        start = time.perf_counter()
        assistant.answer(q, backend="extractive")
        answer.append((time.perf_counter() - start) * 1000)
    return {"retrieve_ms_p50": ms_percentile(retrieve, 0.5), "retrieve_ms_p95": ms_percentile(retrieve, 0.95),
            "answer_ms_p50": ms_percentile(answer, 0.5), "answer_ms_p95": ms_percentile(answer, 0.95)}


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
    return seconds(statistics.median(times))


def markdown(row: dict, command: str, plot: Path | None) -> str:
    """The report: the figures, the targets of the speed issue, and the scale table."""
    targets = {"annotation_ratio": ("<=", 0.25), "overhead_ratio": ("<=", 1.15), "reingest_s": ("<=", 2), "retrieve_ms_p95": ("<=", 100),
               "answer_ms_p95": ("<=", 300), "peak_rss_mb": ("<=", 1500), "speedup_vs_naive": (">=", 1.0),
               "cold_start_s": ("<=", 3)}
    lines = ["# Benchmark", "", f"`{command}`", "", "| figure | value | target |", "|---|---|---|"]
    for key in (k for k in FIELDS if k in row):
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
