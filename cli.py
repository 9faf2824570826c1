"""`delegations`: cited answers from German news articles about business delegations.

Commands: ingest (index articles), ask (answer with citations), trips (the trip register), status (what the
index holds), serve (the chat and the JSON API), eval (score answers against cases), bench (measure speed),
hash-password (a chat login). Errors a user can cause print one line on stderr and exit 2 (1 for an ingest with failed files);
tracebacks are for bugs only. Heavy imports happen inside the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
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
    from index.sync import IngestBusy, sync

    ws = _workspace(args)
    paths = [Path(p) for p in args.paths] or [ws.settings.corpus_dir]
    then = _trip_update(ws, args.trips)
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


def _trip_update(ws, kind: str | None = None):
    """What the ingest runs under its lock once the chunks are stored: the trip register brought in step."""
    from trips.extractors import ExtractorError, make_extractor
    from trips.update import update

    settings = ws.settings
    kind = kind or settings.trips.extractor
    model = None
    backend = settings.trips.backend or settings.llm.backend
    if kind == "llm" and backend != "extractive":
        from assistant.llms import LazyModel, make_model

        model = LazyModel(lambda: make_model(backend, settings))
    try:
        extractor = make_extractor(kind, model)
    except ExtractorError as exc:
        raise UserError(str(exc)) from None
    return lambda: update(ws, extractor).to_json()


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
    from trips.register import TripFilter, TripRegister
    from trips.table import row, to_csv

    ws = _workspace(args)
    if args.rebuild:
        from index.sync import IngestBusy, ingest_lock

        update = _trip_update(ws, args.trips)
        try:
            with ingest_lock(ws.settings.data_dir):
                TripRegister.of(ws.settings.data_dir).forget_all()
                done = update()
        except IngestBusy as exc:
            raise UserError(str(exc)) from None
        print(f"trips: {done['added']} read again, {done['dropped_fields']} proposed values dropped.", file=sys.stderr)
    if args.year is not None and not 1000 <= args.year <= 2999:
        raise UserError("--year takes a year, e.g. 2019.")
    for value in (args.date_from, args.date_to):
        if value and not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", value):
            raise UserError(f"Dates are written YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}.")
    where = TripFilter(args.to, args.who, args.year, args.date_from, args.date_to, args.doc)
    found = TripRegister.of(ws.settings.data_dir).trips(where)
    if args.json:
        print(json.dumps({"trips": [t.to_json() for t in found]}, ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(to_csv(found))
    else:
        shown = ("date", "delegation", "leaders", "destinations", "articles")
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

    settings = _settings(args)
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1.")
    sizes: tuple[int, ...] = ()
    if args.scale or args.scale_sizes:
        try:
            sizes = tuple(int(x) for x in args.scale_sizes.split(",")) if args.scale_sizes else SCALE_SIZES
        except ValueError:
            raise UserError("--scale-sizes takes comma-separated numbers, e.g. 1000,10000,100000.") from None
    plot = Path(args.plot) if args.plot else (Path(args.report).with_name("bench_scale.png") if args.report else Path("bench_scale.png"))
    try:
        row = speed.run(Path(args.corpus), settings, args.limit, sizes, plot if sizes else None,
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    except speed.BenchError as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(row, ensure_ascii=False))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(row, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.report:
        command = "delegations bench " + " ".join(sys.argv[2:])
        Path(args.report).write_text(speed.markdown(row, command, plot if sizes else None), encoding="utf-8")
    return 0


def cmd_eval(args) -> int:
    from evals.cases import DEFAULT_CASES, NEWS_CASES, CaseError, load_cases
    from evals.evaluate import compare, evaluate, evaluate_retrieval, format_retrieval, format_table

    ws = _workspace(args)
    if args.distractors:
        _ingest_with_distractors(ws, Path(args.distractors))
    try:
        cases = load_cases(Path(args.cases) if args.cases else DEFAULT_CASES)
        if args.distractors and not args.cases:
            cases += load_cases(NEWS_CASES)
    except CaseError as exc:
        raise UserError(str(exc)) from None
    if ws.manifest.counts()[0] == 0:
        raise UserError(f"The index in {ws.settings.data_dir} is empty; run `delegations ingest` first.")
    if args.retrieval_only:
        from index.retrieve import Retriever

        table = evaluate_retrieval(Retriever(ws), cases)
        print(format_retrieval(table))
        _write_eval(args, {"retrieval": table, "documents": ws.manifest.counts()[0]})
        return 0
    if args.backend == "naive":  # the reference pipeline, to see what the real one adds
        from evals.naive import NaiveAssistant

        subject = NaiveAssistant(ws)
    else:
        from assistant.service import Assistant

        subject = Assistant(ws)
    report = evaluate(subject, cases, args.backend, progress=sys.stderr.isatty())
    report["backend"] = args.backend or ws.settings.llm.backend
    report["documents"] = ws.manifest.counts()[0]
    print(format_table(report))
    if args.backend != "naive":
        report["retrieval"] = evaluate_retrieval(subject.retriever, cases)
        print()
        print(format_retrieval(report["retrieval"]))
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
        # The baseline is a run of the sample cases: with the distractors' cases added, their figures compare.
        compared = report.get("by_file", {}).get(DEFAULT_CASES.stem, report["metrics"])
        report["comparison"] = compare(compared, baseline.get("metrics", baseline))
        print(f"\nagainst the baseline ({DEFAULT_CASES.name if 'by_file' in report else 'all cases'}):")
        for row in report["comparison"]:
            flag = "  REGRESSED" if row["regressed"] else ""
            print(f"{row['metric']:<20} {row['baseline']:>8} -> {row['current']:>8} ({row['delta']:+}){flag}")
        code = 1 if any(r["regressed"] for r in report["comparison"]) else 0
    _write_eval(args, report)
    return code


def _evaluate_trips(ws) -> dict | None:
    """Trip precision, recall, per-field F1 and grounding of the register against evals/trips.yaml, for the gold
    articles this index holds (the register is brought up to date first, as an ingest would)."""
    from evals.trip_register import load_gold, score
    from index.sync import IngestBusy, ingest_lock
    from trips.register import TripRegister

    gold = [g for g in load_gold() if ws.manifest.doc(g.doc)]
    if not gold:
        return None
    try:
        with ingest_lock(ws.settings.data_dir):
            _trip_update(ws)()
    except IngestBusy:
        pass  # an ingest is updating it right now: score what is there
    predicted: dict[str, list[dict]] = {}
    for trip in TripRegister.of(ws.settings.data_dir).per_article():
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
    from index.sync import IngestBusy, sync

    if not distractors.exists():
        raise UserError(f"No distractor file at {distractors}.")
    with _progress("articles") as progress:
        try:
            report = sync([ws.settings.corpus_dir, distractors], ws, progress, _trip_update(ws))
        except IngestBusy as exc:
            raise UserError(str(exc)) from None
    print(f"index: {report.documents} articles, {report.chunks} chunks ({report.added} added, {report.unchanged} unchanged)",
          file=sys.stderr)


def cmd_serve(args) -> int:
    import logging

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
    from web.auth import parse_users

    try:
        parse_users(settings.server.ui_users)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _port_free(settings.server.host, settings.server.port)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from assistant.service import Assistant
    from index.sync import IngestBusy, sync
    from index.workspace import Workspace
    from web.server import serve

    assistant = Assistant(Workspace(settings))
    if assistant.ws.manifest.counts()[0] == 0:  # a fresh install: the sample corpus, so there is something to ask
        log = logging.getLogger("delegations.serve")
        log.info("The index in %s is empty: ingesting %s first.", settings.data_dir, settings.corpus_dir)
        try:
            report = sync([settings.corpus_dir], assistant.ws, then=_trip_update(assistant.ws))
        except IngestBusy as exc:  # another ingest is filling it right now
            raise UserError(str(exc)) from None
        log.info("Ingested %d articles (%d chunks).", report.documents, report.chunks)
    serve(settings, assistant)
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

    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("Password: ")
    if len(password) < 8:
        raise UserError("Choose a password of at least 8 characters.")
    print(f"{args.user}:{hash_password(password)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="delegations", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir(p):
        p.add_argument("--data-dir", help="index location (default: $DELEGATIONS_DATA_DIR or ./data)")

    p = sub.add_parser("ingest", help="add, update and remove articles in the index")
    p.add_argument("paths", nargs="*", help="files or folders (default: corpus/)")
    data_dir(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--trips", choices=("rules", "llm"), help="who reads the trips of added and changed articles (default: trips.extractor)")
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
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help='print {"trips": [...]} with every field\'s evidence')
    shape.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--rebuild", action="store_true", help="read every article again first (after changing the extractor)")
    p.add_argument("--trips", choices=("rules", "llm"), help="the extractor for --rebuild (default: trips.extractor)")
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
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="the chat at / and the JSON API at /api (docs at /docs)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--root-path", help="sub-path behind a reverse proxy, e.g. /assistent")
    data_dir(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("bench", help="measure ingest and question speed against the embedder alone and a naive pipeline")
    p.add_argument("--corpus", required=True, help="a JSONL file or a folder of articles (e.g. ../shared/data/news_de.jsonl)")
    p.add_argument("--limit", type=int, help="only the first N articles")
    p.add_argument("--json", dest="json_out", help="write the figures as JSON to this file")
    p.add_argument("--report", help="write a Markdown report to this file")
    p.add_argument("--scale", action="store_true", help="also measure retrieval at about 1k, 10k and 100k chunks and plot it")
    p.add_argument("--scale-sizes", help="comma-separated chunk counts for --scale (default 1000,10000,100000)")
    p.add_argument("--plot", help="PNG of the scale figures (default: beside the report, or bench_scale.png)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("hash-password", help="print user:hash for DELEGATIONS_UI_USERS (password from stdin or prompt)")
    p.add_argument("user")
    p.set_defaults(func=cmd_hash_password)
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

    try:
        return args.func(args)
    except (UserError, StoreError, EmbedderError, GenerationError) as exc:
        print(f"delegations: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:  # the machine, not the user: a full disk, a read-only data dir
        print(f"delegations: {_environment_failure(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("delegations: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
