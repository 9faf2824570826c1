"""`delegations`: cited answers from German news articles about business delegations.

Commands: ingest (index articles), ask (answer with citations), trips (the trip register), status (what the
index holds), docs (list, show, remove, export articles), reindex (embed everything again), feedback (👍/👎
from the chat, as eval cases), serve (the chat
and the JSON API; --watch keeps a folder in sync), eval (score answers against cases), bench (measure speed,
or the HTML reader with --html), hash-password (a chat login). Errors a user can cause print one line on stderr and exit 2 (1 for an ingest with failed files);
tracebacks are for bugs only. Heavy imports happen inside the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from settings import BACKENDS


class UserError(Exception):
    """Printed as one line, exit code 2."""


def _settings(args):
    from settings import SettingsError, load_settings

    overrides: dict = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise UserError(str(exc)) from None


def _workspace(args):
    from index.workspace import Workspace

    return Workspace(_settings(args))


def cmd_ingest(args) -> int:
    from assistant.llms import trip_step
    from index.sync import IngestBusy, sync

    ws = _workspace(args)
    paths = [Path(p) for p in args.paths] or [ws.settings.corpus_dir]
    then = trip_step(ws, args.trips)
    with _progress("articles", enabled=not args.json) as progress:
        try:
            report = sync(paths, ws, progress, then)
        except IngestBusy as exc:
            raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
              f"{report.removed} removed; index: {report.documents} articles, {report.chunks} chunks.")
        if report.trips:
            t = report.trips
            dropped = f", {t['dropped_fields']} proposed values not in their article dropped" if t["dropped_fields"] else ""
            print(f"trips: {t['added']} read, {t['removed']} replaced or removed{dropped}.")
        for f in report.failed:
            print(f"failed: {f.path}: {f.error}")
    return 1 if report.failed else 0


@contextmanager
def _progress(unit: str, enabled: bool = True):
    """A progress bar on stderr (when it is a terminal) for callbacks of the form progress(done, total)."""
    from tqdm import tqdm

    bar = None

    def show(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit=unit[:-1] if unit.endswith("s") else unit, file=sys.stderr,
                       disable=not (enabled and sys.stderr.isatty()) or total < 5)
        bar.update(done - bar.n)

    try:
        yield show
    finally:
        if bar is not None:
            bar.close()


def _filters(args):
    from index.retrieve import Filters

    if not (args.doc or args.date_from or args.date_to):
        return None
    return Filters(doc_ids=args.doc or [], date_from=args.date_from, date_to=args.date_to)


def cmd_ask(args) -> int:
    from assistant.service import Assistant, QuestionError

    if args.file:
        try:
            questions = [l.strip() for l in Path(args.file).read_text(encoding="utf-8").splitlines() if l.strip()]
        except OSError as exc:
            raise UserError(f"Cannot read {args.file}: {exc.strerror or exc}.") from None
    elif args.question:
        questions = [" ".join(args.question)]
    else:
        raise UserError("Give a question, or -f FILE with one question per line.")
    ws = _workspace(args)
    if ws.manifest.counts()[0] == 0:
        raise UserError(f"The index in {ws.settings.data_dir} is empty; run `delegations ingest` first.")
    assistant = Assistant(ws)
    for question in questions:
        try:
            answer = assistant.answer(question, filters=_filters(args), backend=args.backend, top_k=args.top_k)
        except (QuestionError, ValueError) as exc:
            raise UserError(str(exc)) from None
        if args.json or args.file:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            print(format_answer(answer))
    return 0


def format_answer(answer) -> str:
    lines = [f"Hinweis: {notice}" for notice in answer.notices] + [answer.answer]
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            p = c.passage
            date = f", {p.date}" if p.date else ""
            lines.append(f"[{c.n}] {p.title}{date} — {p.source}")
    return "\n".join(lines)


def cmd_trips(args) -> int:
    from assistant.llms import trip_step
    from trips.register import TripFilter, TripRegister
    from trips.table import row, to_csv

    ws = _workspace(args)
    if args.rebuild:
        from index.sync import IngestBusy, ingest_lock

        update = trip_step(ws, args.trips)
        try:
            with ingest_lock(ws.settings.data_dir, ws.settings.database_url):
                TripRegister.of(ws.settings).forget_all()
                done = update()
        except IngestBusy as exc:
            raise UserError(str(exc)) from None
        print(f"trips: {done['added']} read again, {done['dropped_fields']} proposed values dropped.", file=sys.stderr)
    if args.year is not None and not 1000 <= args.year <= 2999:
        raise UserError("--year takes a year, e.g. 2019.")
    for value in (args.date_from, args.date_to):
        if value and not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", value):
            raise UserError(f"Dates are written YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}.")
    where = TripFilter(args.to, args.who, args.year, args.date_from, args.date_to, args.doc, status=args.status)
    found = TripRegister.of(ws.settings).trips(where)
    if args.json:
        print(json.dumps({"trips": [t.to_json() for t in found]}, ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(to_csv(found))
    else:
        shown = ("date", "delegation", "leaders", "destinations", "status", "articles")
        rows = [row(t) for t in found]
        widths = {c: min(40, max([len(c)] + [len(r[c]) for r in rows])) for c in shown}
        print("  ".join(c.ljust(widths[c]) for c in shown))
        for r in rows:
            print("  ".join(r[c][: widths[c]].ljust(widths[c]) for c in shown))
        print(f"{len(found)} trip{'s' if len(found) != 1 else ''}.", file=sys.stderr)
    return 0


def cmd_status(args) -> int:
    from assistant.service import Assistant

    status = Assistant(_workspace(args)).status()
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
    else:
        for key, value in status.items():
            print(f"{key}: {value}")
    return 0


def cmd_bench(args) -> int:
    from bench import speed
    from bench.scale import SCALE_SIZES

    if args.html:
        return _bench_html(Path(args.html), args.json_out)
    if not args.corpus:
        raise UserError("Name what to measure: --corpus FILE_OR_FOLDER (speed) or --html DIR (the HTML reader).")
    settings = _settings(args)
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1.")
    sizes: tuple[int, ...] = ()
    if args.ingest_only and (args.scale or args.scale_sizes):
        raise UserError("--ingest-only measures no retrieval: leave out --scale.")
    if args.scale or args.scale_sizes:
        try:
            sizes = tuple(int(x) for x in args.scale_sizes.split(",")) if args.scale_sizes else SCALE_SIZES
        except ValueError:
            raise UserError("--scale-sizes takes comma-separated numbers, e.g. 1000,10000,100000.") from None
    plot = Path(args.plot) if args.plot else (Path(args.report).with_name("bench_scale.png") if args.report else Path("bench_scale.png"))
    try:
        row = speed.run(Path(args.corpus), settings, args.limit, sizes, plot if sizes else None,
                        log=lambda line: print(line, file=sys.stderr, flush=True), ingest_only=args.ingest_only)
    except speed.BenchError as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(row, ensure_ascii=False))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(row, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.report:
        command = "delegations bench " + " ".join(sys.argv[2:])
        Path(args.report).write_text(speed.markdown(row, command, plot if sizes else None), encoding="utf-8")
    return 0


def _bench_html(folder: Path, json_out: str | None) -> int:
    from bench.html import HtmlBenchError, score_pages

    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder.")
    try:
        row = score_pages(folder)
    except HtmlBenchError as exc:
        raise UserError(str(exc)) from None
    print(f"{row['pages']} pages: precision {row['precision']:.3f}, recall {row['recall']:.3f}, F1 {row['f1']:.3f}; "
          f"{row['refused']} refused; per page p50 {row['page_ms_p50']:.0f} ms, p95 {row['page_ms_p95']:.0f} ms, "
          f"slowest {row['slowest_page']} {row['slowest_page_ms']:.0f} ms; first pass (loading the libraries) {row['first_pass_s']:.1f} s",
          file=sys.stderr)
    for line in row["refused_pages"]:
        print(f"refused {line}", file=sys.stderr)
    print(json.dumps(row, ensure_ascii=False))
    if json_out:
        Path(json_out).write_text(json.dumps(row, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


def cmd_eval(args) -> int:
    from evals.cases import DEFAULT_CASES, NEWS_CASES, NOT_STATED_CASES, CaseError, load_cases
    from evals.evaluate import baseline_metrics, compare, evaluate, evaluate_retrieval, format_retrieval, format_table

    if args.trips_news or args.entities:
        if args.report or args.baseline or args.cases:
            raise UserError("--trips and --entities measure the reading on their own labels; --report, --baseline "
                            "and --cases are for the answer cases.")
        return _eval_reading(args)
    ws = _workspace(args)
    if args.distractors:
        _ingest_with_distractors(ws, Path(args.distractors))
    try:
        cases = load_cases(Path(args.cases) if args.cases else DEFAULT_CASES)
        if args.distractors and not args.cases:
            cases += load_cases(NEWS_CASES) + load_cases(NOT_STATED_CASES)
    except CaseError as exc:
        raise UserError(str(exc)) from None
    todo = [c for c in cases if c.todo]
    cases = [c for c in cases if not c.todo]
    if args.distractors:  # "Wie viele Reisen führten nach Asien?" has another right answer once the news are in
        whole = [c for c in cases if c.scope == "sample"]
        cases = [c for c in cases if c.scope != "sample"]
        if whole:
            print(f"{len(whole)} cases about the sample corpus as a whole (lists and counts of its trips) are not scored "
                  "beside the distractors: their right answer changes with the articles.", file=sys.stderr)
    for c in todo:  # from a 👎 in the chat: a person says what the answer must hold, then it is scored
        print(f"todo (not scored until its expect slots are filled in): {c.id}: {c.turns[-1]} — {c.comment}", file=sys.stderr)
    if not cases:
        raise UserError(f"No case to score: all {len(todo)} are marked todo; fill in their expect slots and remove `todo`.")
    if ws.manifest.counts()[0] == 0:
        raise UserError(f"The index in {ws.settings.data_dir} is empty; run `delegations ingest` first.")
    if args.retrieval_only:
        from index.retrieve import Retriever

        table = evaluate_retrieval(Retriever(ws), cases)
        print(format_retrieval(table))
        _write_eval(args, {"retrieval": table, "documents": ws.manifest.counts()[0]})
        return 0
    warm_up_s = None
    if args.backend == "naive":  # the reference pipeline, to see what the real one adds
        from evals.naive import NaiveAssistant

        subject = NaiveAssistant(ws)
    else:
        from assistant.service import Assistant

        subject = Assistant(ws)
        if (args.backend or ws.settings.llm.backend) not in ("extractive", "naive"):
            start = time.perf_counter()  # a model's start is not any one answer's time: it is reported on its own
            said = subject.warm_up(args.backend)
            warm_up_s = round(time.perf_counter() - start, 1)
            print(f"model ready in {warm_up_s} s" if not said else f"model not ready after {warm_up_s} s: {said}", file=sys.stderr)
    report = evaluate(subject, cases, args.backend, progress=sys.stderr.isatty())
    report["backend"] = args.backend or ws.settings.llm.backend
    report["todo"] = [{"id": c.id, "question": c.turns[-1], "comment": c.comment} for c in todo]
    if warm_up_s is not None:
        report["model"]["warm_up_s"] = warm_up_s
    report["documents"] = ws.manifest.counts()[0]
    print(format_table(report))
    if args.backend != "naive":
        report["retrieval"] = evaluate_retrieval(subject.retriever, cases)
        print()
        print(format_retrieval(report["retrieval"]))
    if report["backend"] not in ("extractive", "naive"):
        figures = report["model"]
        print("\nthe model's own (with fallback_to_extractive off a fallback is its refusal): "
              f"accuracy {figures['model_own_accuracy']}, refusals {figures['model_own_refusal_rate']}; "
              f"first checked sentence p50 {figures['first_sentence_ms_p50']} ms, p95 {figures['first_sentence_ms_p95']} ms")
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in figures["generation"].items()))
    report["trips"] = _evaluate_trips(ws)
    if report["trips"]:
        from evals.trip_register import format_scores

        print("\ntrip register (evals/trips.yaml, the articles of it in this index):")
        print(format_scores(report["trips"]))
    code = 0
    if args.baseline:
        try:
            baseline = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"Cannot read the baseline {args.baseline}: {exc}") from None
        # The baseline is a run of the sample cases: with the distractors' cases added, their figures compare,
        # over the cases both runs scored.
        compared = report.get("by_file", {}).get(DEFAULT_CASES.stem, report["metrics"])
        report["comparison"] = compare(compared, baseline_metrics(baseline, {c.id for c in cases}))
        print(f"\nagainst the baseline ({DEFAULT_CASES.name if 'by_file' in report else 'all cases'}):")
        for row in report["comparison"]:
            flag = "  REGRESSED" if row["regressed"] else ""
            print(f"{row['metric']:<20} {row['baseline']:>8} -> {row['current']:>8} ({row['delta']:+}){flag}")
        code = 1 if any(r["regressed"] for r in report["comparison"]) else 0
    _write_eval(args, report)
    return code


def _eval_reading(args) -> int:
    """`eval --trips` and `eval --entities`: the reading measured on labelled text, without an index."""
    report = {}
    if args.entities:
        from ingest.train_entities import evaluate as score_entities
        from ingest.train_entities import read_germeval, split

        path = Path(args.entities)
        if not path.is_file():
            raise UserError(f"No GermEval file at {path}; give e.g. ../shared/data/germeval2014/NER-de-dev.tsv.")
        try:
            _, held_out = split(read_germeval(path))
        except (ValueError, IndexError, UnicodeDecodeError) as exc:
            raise UserError(f"{path} is not a GermEval 2014 TSV file: {exc}") from None
        figures = score_entities(held_out)
        report["entities"] = figures
        print(f"entities on the last third of {path.name} ({figures['sentences']} sentences, exact spans):")
        for kind in ("micro", "PER", "LOC", "ORG"):
            f = figures[kind]
            print(f"  {kind:6} precision {f['precision']:.3f}  recall {f['recall']:.3f}  F1 {f['f1']:.3f}  ({f['gold']} gold)")
    if args.trips_news:
        from evals import trips_news

        path = Path(args.trips_news)
        if not path.is_file():
            raise UserError(f"No news file at {path}; give ../shared/data/news_de.jsonl.")
        try:
            figures = trips_news.evaluate(path)
        except (ValueError, KeyError) as exc:
            raise UserError(str(exc)) from None
        report["trips"] = figures
        print("trips in the labelled news (evals/trips_news.yaml):")
        print(trips_news.format_report(figures))
    _write_eval(args, report)  # JSON only: --report was refused above
    return 0


def cmd_annotate(args) -> int:
    """`delegations annotate FILE.jsonl|-`: the annotation of each document as one JSON line."""
    from index.reading import annotate_article
    from ingest.chunking import chunk_article
    from ingest.dates import parse_date
    from ingest.model import Article

    try:
        lines = sys.stdin.read().splitlines() if args.file == "-" else Path(args.file).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"Cannot read {args.file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{args.file} is not UTF-8 text; give JSON lines {{\"id\", \"text\", \"date\"?}}.") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, doc_id = row["text"], str(row.get("id", n))
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            print(f"line {n}: not a JSON object with a text; skipped", file=sys.stderr)
            continue
        date = parse_date(str(row["date"])) if row.get("date") else None
        chunks = chunk_article(Article(doc_id, doc_id, text, doc_id, date))
        annotation = annotate_article(text, date.iso if date else None, chunks)
        print(json.dumps({"id": doc_id, **annotation.to_json()}, ensure_ascii=False), flush=True)
    return 0


def _evaluate_trips(ws) -> dict | None:
    """Trip precision, recall, per-field F1 and grounding of the register against evals/trips.yaml, for the gold
    articles this index holds (the register is brought up to date first, as an ingest would)."""
    from assistant.llms import trip_step
    from evals.trip_register import load_gold, score
    from index.sync import IngestBusy, ingest_lock
    from trips.register import TripRegister

    gold = [g for g in load_gold() if ws.manifest.doc(g.doc)]
    if not gold:
        return None
    try:
        with ingest_lock(ws.settings.data_dir, ws.settings.database_url):
            trip_step(ws)()
    except IngestBusy:
        pass  # an ingest is updating it right now: score what is there
    predicted: dict[str, list[dict]] = {}
    for trip in TripRegister.of(ws.settings).per_article():
        predicted.setdefault(trip.doc_ids[0], []).append(trip.to_json())
    return score(gold, predicted, {g.doc: ws.manifest.text(g.doc) or "" for g in gold}).to_json()


def _write_eval(args, report: dict) -> None:
    """The JSON results and the Markdown report, where the command line asked for them."""
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.report:
        from evals.report import write_report

        write_report(report, Path(args.report))


def _ingest_with_distractors(ws, distractors: Path) -> None:
    """The sample corpus and the distractor articles in one index (incremental: a second run embeds nothing)."""
    from assistant.llms import trip_step
    from index.sync import IngestBusy, sync

    if not distractors.exists():
        raise UserError(f"No distractor file at {distractors}.")
    with _progress("articles") as progress:
        try:
            report = sync([ws.settings.corpus_dir, distractors], ws, progress, trip_step(ws))
        except IngestBusy as exc:
            raise UserError(str(exc)) from None
    print(f"index: {report.documents} articles, {report.chunks} chunks ({report.added} added, {report.unchanged} unchanged)",
          file=sys.stderr)


def cmd_serve(args) -> int:
    import logging

    from assistant.llms import trip_step
    from settings import SettingsError, load_settings

    overrides: dict = {"data_dir": args.data_dir}
    server = {k: v for k, v in (("host", args.host), ("port", args.port), ("root_path", args.root_path)) if v is not None}
    if server:
        overrides["server"] = server
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    if settings.server.root_path and not settings.server.root_path.startswith("/"):
        raise UserError(f"--root-path must start with /, not {settings.server.root_path!r}.")
    from web.auth import Credentials

    try:
        Credentials(settings.server)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _port_free(settings.server.host, settings.server.port)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    import faulthandler
    import signal

    import bm25s  # noqa: F401 - it sets DEBUG on its own logger when imported: imported first, it is set back below

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: what every thread is doing, in the log
    for noisy in ("bm25s", "httpx", "httpcore", "urllib3"):  # httpx logs every request it makes
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.log_level == "debug" else logging.WARNING)
    from assistant.service import Assistant
    from index.sync import IngestBusy, sync
    from index.workspace import Workspace
    from web.server import serve

    assistant = Assistant(Workspace(settings))
    empty = assistant.ws.manifest.counts()[0] == 0
    if empty and not settings.corpus_dir.is_dir():
        logging.getLogger("delegations.serve").warning(
            "The index in %s is empty and there is no folder %s to fill it from (started outside the project?): "
            "add articles with `delegations ingest PATH`, in the chat's Dokumente tab, or with --watch DIR.",
            settings.data_dir, settings.corpus_dir.resolve())
    elif empty:  # a fresh install: the sample corpus, so there is something to ask
        log = logging.getLogger("delegations.serve")
        log.info("The index in %s is empty: ingesting %s first.", settings.data_dir, settings.corpus_dir)
        try:
            report = sync([settings.corpus_dir], assistant.ws, then=trip_step(assistant.ws))
        except IngestBusy as exc:  # another ingest is filling it right now
            raise UserError(str(exc)) from None
        log.info("Ingested %d articles (%d chunks).", report.documents, report.chunks)
    from index.sync import recover
    from index.uploads import uploads_dir

    try:  # an ingest killed mid-way is undone, an upload caught in its commit taken out, the uploads read anew
        healed = recover(assistant.ws, uploads_dir(settings), then=trip_step(assistant.ws))
    except IngestBusy as exc:
        raise UserError(str(exc)) from None
    if healed.added or healed.updated or healed.removed:
        logging.getLogger("delegations.serve").info(
            "Uploads brought in step: %d added, %d updated, %d removed.", healed.added, healed.updated, healed.removed)
    from web.worker import IngestWorker

    worker = IngestWorker(settings)
    if settings.llm.backend == "llamacpp":  # its worker loads the model while the server starts, not on the first question
        import threading

        def warm() -> None:
            said = assistant.warm_up()
            log = logging.getLogger("delegations.serve")
            if said:
                log.warning("The local model is not ready: %s", said)
            else:
                log.info("The local model's worker is ready.")

        threading.Thread(target=warm, name="llamacpp-warm-up", daemon=True).start()
    took = assistant.ready()  # the first question does not wait for the annotator's models to load
    logging.getLogger("delegations.serve").info("Ready to read questions (%.1f s).", took)
    if args.watch is not None:
        from index import watch

        folder = Path(args.watch) if args.watch else settings.corpus_dir
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--watch takes a folder; {folder} is a file.")
        watch.start(folder.resolve(), lambda path: worker.sync([path]))
    serve(settings, assistant, worker, log_level=args.log_level)
    return 0


def cmd_docs(args) -> int:
    from assistant.llms import trip_step
    from index import documents
    from index.sync import IngestBusy

    ws = _workspace(args)
    try:
        if args.docs_command == "list":
            if args.limit < 1 or args.offset < 0:
                raise UserError("--limit must be at least 1 and --offset at least 0.")
            total, page = documents.listing(ws, args.query or "", args.limit, args.offset)
            if args.json:
                print(json.dumps({"total": total, "offset": args.offset, "documents": [d.to_json() for d in page]},
                                 ensure_ascii=False))
                return 0
            for d in page:
                print(f"{d.doc_id}\t{d.date or '-'}\t{d.chunks} chunks\t{d.title}\t{d.source}")
            shown = f"{args.offset + 1}-{args.offset + len(page)}" if page else "none"
            print(f"{shown} of {total} articles" + (f" matching {args.query!r}" if args.query else "") + ".", file=sys.stderr)
        elif args.docs_command == "show":
            doc = documents.show(ws, args.id)
            if args.json:
                print(json.dumps(doc.to_json(), ensure_ascii=False))
            else:
                print(f"{doc.title}\nid: {doc.doc_id}\ndate: {doc.date or '-'}\nsource: {doc.source}\n"
                      f"chunks: {doc.chunks}\n\n{doc.text}")
        elif args.docs_command == "remove":
            removed = documents.remove(ws, args.ids, then=trip_step(ws))
            docs, chunks = ws.manifest.counts()
            if args.json:
                print(json.dumps({"removed": removed, "documents": docs, "chunks": chunks}, ensure_ascii=False))
            else:
                print(f"Removed {len(removed)} article{'s' if len(removed) != 1 else ''}; index: {docs} articles, {chunks} chunks.")
        else:
            out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
            try:
                n = 0
                for line in documents.export(ws):
                    out.write(line + "\n")
                    n += 1
            finally:
                if args.out:
                    out.close()
            if args.out:
                print(f"Exported {n} articles to {args.out}.", file=sys.stderr)
    except documents.UnknownDocument as exc:
        raise UserError(str(exc)) from None
    except IngestBusy as exc:
        raise UserError(str(exc)) from None
    return 0


def cmd_reindex(args) -> int:
    from index.documents import reindex
    from index.sync import IngestBusy

    ws = _workspace(args)
    with _progress("articles", enabled=not args.json) as progress:
        try:
            report = reindex(ws, progress)
        except IngestBusy as exc:
            raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        annotated = f", {report['annotated']} annotated again (the annotator changed)" if report["annotated"] else ""
        print(f"Embedded {report['documents']} articles ({report['chunks']} chunks) again with {report['embedder']} "
              f"in {report['seconds']} s{annotated}; questions now read {report['collection']}.")
    return 0


def cmd_feedback(args) -> int:
    from assistant.feedback import FeedbackStore
    from evals.feedback import as_case, to_json

    settings = _settings(args)
    entries = FeedbackStore(settings.data_dir, settings.database_url).all()
    if args.feedback_command == "list":
        if args.json:
            print(json.dumps({"feedback": [to_json(e) for e in entries]}, ensure_ascii=False))
            return 0
        for e in entries:
            mark = "👍" if e.rating == "up" else "👎"
            print(f"{e.id}\t{e.time}\t{e.user or '-'}\t{mark}\t{e.question}" + (f"\t{e.comment}" if e.comment else ""))
        print(f"{len(entries)} feedback entries.", file=sys.stderr)
        return 0
    import yaml

    cases = [as_case(e) for e in entries]
    header = ("# Eval cases from the chat's feedback (`delegations feedback export`). A 👍 expects the articles it\n"
              "# cited; a 👎 is `todo`: write what the answer must contain into `expect` (or set answerable: false),\n"
              "# remove `todo`, and `delegations eval --cases` scores it.\n")
    text = header + (yaml.safe_dump(cases, allow_unicode=True, sort_keys=False, width=120) if cases else "[]\n")
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"Wrote {len(cases)} cases to {args.out} ({sum('todo' in c for c in cases)} todo).", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _port_free(host: str, port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UserError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port.") from None


def cmd_hash_password(args) -> int:
    import getpass

    from web.auth import hash_password

    _user_name(args.user)
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("Password: ")
    if len(password) < 8:
        raise UserError("Choose a password of at least 8 characters.")
    print(f"{args.user}:{hash_password(password)}")
    return 0


def cmd_hash_token(args) -> int:
    import secrets

    from web.auth import hash_token

    _user_name(args.user)
    token = secrets.token_urlsafe(32)
    print(f"First line: {args.user}'s token (give it to them; it is stored nowhere). Second line: the entry for "
          f"DELEGATIONS_USER_TOKENS.", file=sys.stderr)
    print(token)
    print(f"{args.user}:{hash_token(token)}")
    return 0


def _user_name(name: str) -> None:
    if not re.fullmatch(r"[^\s:,]{1,200}", name) or name.startswith(":"):
        raise UserError(f"A user name is 1 to 200 characters without spaces, ':' or ',', not {name!r}.")


def build_parser() -> argparse.ArgumentParser:
    from trips.model import STATUSES

    parser = argparse.ArgumentParser(prog="delegations", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir(p):
        p.add_argument("--data-dir", help="index location (default: $DELEGATIONS_DATA_DIR or ./data)")

    p = sub.add_parser("ingest", help="add, update and remove articles in the index")
    p.add_argument("paths", nargs="*", help="files or folders (default: corpus/)")
    data_dir(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--trips", choices=("reader", "rules", "llm"), help="who reads the trips of added and changed articles (default: trips.extractor)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question", nargs="*")
    p.add_argument("-f", "--file", help="answer one question per line of FILE, one JSON object per line")
    p.add_argument("--backend", choices=BACKENDS, help="who writes the answer (default from settings: llm.backend)")
    p.add_argument("--top-k", type=int, help="passages to retrieve")
    p.add_argument("--doc", action="append", help="only this article id (repeatable)")
    p.add_argument("--date-from", help="only articles published from YYYY[-MM[-DD]]")
    p.add_argument("--date-to", help="only articles published until YYYY[-MM[-DD]]")
    data_dir(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("trips", help="the trip register: who travelled where, when and with whom, each field cited")
    p.add_argument("--to", help="a destination: city, country or continent, German or English (Asien, USA, New York)")
    p.add_argument("--who", help="a leader or participant (part of the name)")
    p.add_argument("--year", type=int, help="trips in this year")
    p.add_argument("--date-from", help="trips until not before YYYY[-MM[-DD]]")
    p.add_argument("--date-to", help="trips starting not after YYYY[-MM[-DD]]")
    p.add_argument("--doc", help="trips reported by this article")
    p.add_argument("--status", choices=STATUSES,
                   help="only trips made, announced, postponed or cancelled")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help='print {"trips": [...]} with every field\'s evidence')
    shape.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--rebuild", action="store_true", help="read every article again first (after changing the extractor)")
    p.add_argument("--trips", choices=("reader", "rules", "llm"), help="the extractor for --rebuild (default: trips.extractor)")
    data_dir(p)
    p.set_defaults(func=cmd_trips)

    p = sub.add_parser("status", help="what the index holds and whether the backend is reachable")
    data_dir(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("eval", help="score answers against evals/cases.yaml")
    p.add_argument("--cases", help="cases file (default: evals/cases.yaml)")
    p.add_argument("--backend", choices=(*BACKENDS, "naive"), help="who writes the answers; naive: the dense-only reference pipeline")
    data_dir(p)
    p.add_argument("--json", dest="json_out", help="write results as JSON to this file")
    p.add_argument("--report", help="write a Markdown report (with PNG charts beside it)")
    p.add_argument("--baseline", help="compare with this JSON; exit 1 when a metric falls beyond its tolerance")
    p.add_argument("--retrieval-only", action="store_true",
                   help="only compare retrieval methods (dense, keyword/BM25, hybrid): hit@k and MRR")
    p.add_argument("--distractors", metavar="JSONL",
                   help="first ingest these articles beside the corpus (e.g. ../shared/data/news_de.jsonl) "
                        "and add the cases about them")
    p.add_argument("--trips", metavar="NEWS_JSONL", dest="trips_news",
                   help="score the trip reader (and the earlier rules) on the news labelled in evals/trips_news.yaml, "
                        "read from this file (../shared/data/news_de.jsonl): development and held-out parts side by side")
    p.add_argument("--entities", metavar="GERMEVAL_TSV",
                   help="score the entity tagger on the last third of a GermEval 2014 file (the part it was not trained on)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("annotate", help="print the annotation layer (sentences, persons, places, organisations, dates) "
                                        "of documents: JSON lines {id, text, date?}")
    p.add_argument("file", help='JSON lines file, or - for standard input: {"id", "text", "date"?} a line')
    p.add_argument("--json", action="store_true", help="one JSON line per document (the default and only format)")
    p.set_defaults(func=cmd_annotate)

    p = sub.add_parser("serve", help="the chat at / and the JSON API at /api (docs at /docs)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--root-path", help="sub-path behind a reverse proxy, e.g. /assistent")
    p.add_argument("--log-level", choices=["debug", "info", "warning"], default="info",
                   help="what the log says (default info: start, ingests, warnings; debug adds one line per request)")
    p.add_argument("--watch", nargs="?", const="", metavar="DIR",
                   help="keep the index in step with a folder: added, changed and deleted files within seconds "
                        "(default folder: corpus/)")
    data_dir(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("docs", help="the articles in the index: list, show, remove, export")
    docs = p.add_subparsers(dest="docs_command", metavar="{list,show,remove,export}", required=True)
    q = docs.add_parser("list", help="id, date, chunks, title and source of each article, paged")
    q.add_argument("--query", help="only articles with this text in their id, title or source")
    q.add_argument("--limit", type=int, default=50, help="articles per page (default 50)")
    q.add_argument("--offset", type=int, default=0, help="skip this many first")
    q.add_argument("--json", action="store_true", help='print {"total": N, "documents": [...]}')
    data_dir(q)
    q = docs.add_parser("show", help="an article's title, date, source and text as indexed")
    q.add_argument("id")
    q.add_argument("--json", action="store_true")
    data_dir(q)
    q = docs.add_parser("remove", help="take articles out of the index (their files stay where they are)")
    q.add_argument("ids", nargs="+", metavar="ID")
    q.add_argument("--json", action="store_true", help='print {"removed": [...], "documents", "chunks"}')
    data_dir(q)
    q = docs.add_parser("export", help="every article as one JSON line (id, title, date, text, source): what ingest reads")
    q.add_argument("--out", help="write to this file (default: stdout)")
    data_dir(q)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("feedback", help="what users said about answers (👍/👎 in the chat), and as eval cases")
    fb = p.add_subparsers(dest="feedback_command", metavar="{list,export}", required=True)
    q = fb.add_parser("list", help="every entry: time, user, rating, question, comment")
    q.add_argument("--json", action="store_true")
    data_dir(q)
    q = fb.add_parser("export", help="eval cases in the suite's schema (stdout, or --out FILE)")
    q.add_argument("--out", help="write to this file, e.g. evals/cases_feedback.yaml")
    data_dir(q)
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("reindex", help="embed every article again (after changing the embedder) and switch at the end; "
                                       "articles an older annotator read are annotated again")
    data_dir(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("bench", help="measure ingest and question speed against the embedder alone and a naive pipeline, "
                                     "or the HTML reader's accuracy")
    p.add_argument("--corpus", help="a JSONL file or a folder of articles (e.g. ../shared/data/news_de.jsonl)")
    p.add_argument("--html", metavar="DIR", help="instead: score the HTML reader on saved pages with gold snippets "
                                                 "(DIR/gold.json and DIR/pages/, e.g. ../shared/data/html_de)")
    p.add_argument("--limit", type=int, help="only the first N articles")
    p.add_argument("--json", dest="json_out", help="write the figures as JSON to this file")
    p.add_argument("--report", help="write a Markdown report to this file")
    p.add_argument("--ingest-only", action="store_true", help="only the ingest figures (the embedder alone, annotation, "
                   "ingest, trips, re-ingest): not the naive pipeline, the questions or cold start")
    p.add_argument("--scale", action="store_true", help="also measure retrieval at about 1k, 10k and 100k chunks and plot it")
    p.add_argument("--scale-sizes", help="comma-separated chunk counts for --scale (default 1000,10000,100000)")
    p.add_argument("--plot", help="PNG of the scale figures (default: beside the report, or bench_scale.png)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("hash-password", help="print user:hash for DELEGATIONS_UI_USERS (password from stdin or prompt)")
    p.add_argument("user")
    p.set_defaults(func=cmd_hash_password)

    p = sub.add_parser("hash-token", help="make a personal API token for a user: prints the token, then user:hash "
                                          "for DELEGATIONS_USER_TOKENS")
    p.add_argument("user")
    p.set_defaults(func=cmd_hash_token)
    return parser


def _environment_failure(exc: Exception) -> str:
    """One line for the machine failing the command (a full disk, a read-only data dir), with what to do."""
    import errno

    if isinstance(exc, OSError):
        what = f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO)
    else:  # sqlite3.Error: SQLITE_FULL when the disk is full, SQLITE_IOERR when a write failed
        what = str(exc)
        code = getattr(exc, "sqlite_errorcode", None)
        full = code is not None and (code & 0xFF) in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)
    hint = ("Is the disk full? Free space and run the command again: what was indexed before is kept."
            if full else "Check that the data dir exists, is writable and has free space.")
    return f"{what[:1].upper()}{what[1:]}. {hint}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from assistant.llms import GenerationError
    from index.embedders import EmbedderError
    from index.store import StoreError
    from trips.extractors import ExtractorError

    try:
        return args.func(args)
    except (UserError, StoreError, EmbedderError, GenerationError, ExtractorError) as exc:
        print(f"delegations: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `delegations trips | head`: the reader has what it wanted
        sys.stderr.close()  # nothing more to say, and Python's own flush at exit must not complain either
        return 0
    except (OSError, sqlite3.Error) as exc:  # the machine, not the user: a full disk, a read-only data dir
        print(f"delegations: {_environment_failure(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("delegations: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
