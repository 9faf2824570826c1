"""Ingest speed of one instance and of two sharing one corpus: `python -m bench.instances CORPUS.jsonl`.

Starts its own PostgreSQL and `chroma run` in temp dirs (bench/servers.py), then ingests the first
`--articles` articles of the JSONL file twice, each time into a fresh database and a fresh Chroma server:

1. one instance ingests them all;
2. two instances, each a process of its own with its own data dir and embedder, are started together, each
   with one half; one ingest runs at a time among instances (PostgreSQL's advisory lock), so the one that finds
   it taken gets `IngestBusy` and tries again a second later, as a user's second upload would.

It prints articles/s for both, the time the second instance waited, and checks that the shared index ends up
with every article. The in-process embedder stands in for an embedding host; on a machine whose cores the
two processes share, it measures what the lock costs, not what a separate embedding host would add.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.servers import LocalPostgres, ServerMissing, free_port, start_chroma
from bench.speed import _select


def _ingest(data_dir: str, source: str, env: dict, out) -> None:
    """One instance's ingest of `source`, again a second after each IngestBusy; puts its figures on `out`."""
    from index.sync import IngestBusy, sync
    from index.workspace import Workspace
    from settings import load_settings

    ws = Workspace(load_settings(env=env, data_dir=data_dir))
    ws.embed_model.get_text_embedding_batch(["warm"])  # loading the model is not what is measured
    out.put(("ready", data_dir))
    busy, waited, start = 0, 0.0, time.perf_counter()
    while True:
        try:
            report = sync([Path(source)], ws)
            break
        except IngestBusy:
            busy += 1
            time.sleep(1.0)
            waited += 1.0
    out.put(("done", {"data_dir": data_dir, "added": report.added, "busy": busy, "waited_s": waited,
                      "seconds": time.perf_counter() - start, "documents": report.documents}))


def _run(work: Path, sources: list[Path], postgres: LocalPostgres) -> dict:
    """The given sources ingested by as many instances at once, against a fresh database and Chroma server."""
    port = free_port()
    chroma = start_chroma(work / f"chroma-{len(sources)}", port)
    try:
        env = {"DELEGATIONS_DATABASE_URL": postgres.database(), "DELEGATIONS_CHROMA_URL": f"http://127.0.0.1:{port}"}
        spawn = multiprocessing.get_context("spawn")
        out = spawn.Queue()
        procs = [spawn.Process(target=_ingest, args=(str(work / f"instance-{len(sources)}-{i}"), str(s), env, out))
                 for i, s in enumerate(sources)]
        for p in procs:
            p.start()
        ready = 0
        while ready < len(procs):  # every instance has its model loaded before the clock starts
            kind, _ = out.get(timeout=600)
            ready += kind == "ready"
        start = time.perf_counter()
        done = [out.get(timeout=3600)[1] for _ in procs]
        seconds = time.perf_counter() - start
        for p in procs:
            p.join()
        added = sum(d["added"] for d in done)
        return {"instances": len(procs), "articles": added, "seconds": round(seconds, 1),
                "articles_per_s": round(added / seconds, 2), "busy_refusals": sum(d["busy"] for d in done),
                "waited_s": round(sum(d["waited_s"] for d in done), 1),
                "documents_in_index": max(d["documents"] for d in done)}
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a JSONL file of articles")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        print(f"bench.instances: {args.corpus} is not a file.", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="delegations-instances-"))
    try:
        whole = _select(args.corpus, args.articles, work / "all") / args.corpus.name  # as `delegations bench` takes them
        lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
        halves = [work / f"half{i}" / f"half{i}.jsonl" for i in (1, 2)]
        for path, part in zip(halves, (lines[: len(lines) // 2], lines[len(lines) // 2:])):
            path.parent.mkdir(parents=True)
            path.write_text("".join(part), encoding="utf-8")
        try:
            postgres = LocalPostgres()
        except ServerMissing as exc:
            print(f"bench.instances: {exc}.", file=sys.stderr)
            return 2
        with postgres:
            rows = [_run(work, [whole.parent], postgres), _run(work, [h.parent for h in halves], postgres)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for row in rows:
        print(json.dumps(row))
        if row["documents_in_index"] != len(lines):
            print(f"bench.instances: the shared index holds {row['documents_in_index']} articles, not {len(lines)}.",
                  file=sys.stderr)
            return 1
    print(f"1 instance: {rows[0]['articles_per_s']} articles/s; 2 instances: {rows[1]['articles_per_s']} articles/s "
          f"(ratio {rows[1]['articles_per_s'] / rows[0]['articles_per_s']:.2f}; the second waited {rows[1]['waited_s']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
