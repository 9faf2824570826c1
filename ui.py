"""The chat (Gradio): questions, answers with [n] markers linked to their passages, 👍/👎 with a comment on
each answer, filters, status line; the trip register; and for admins the documents in the index.

A thin shell over the Assistant (web/server.py mounts it beside the API). Everything an article says is
shown as text (escaped), never as markup: an article containing `<script>` shows those characters.
"""


import html
import logging
import re
from pathlib import Path

from assistant.answer import MARKER
from assistant.llms import GenerationBusy
from assistant.service import MAX_QUESTION_CHARS, Assistant, QuestionError, Turn
from assistant.feedback import Feedback, FeedbackStore
from index.retrieve import Filters

log = logging.getLogger("delegations.serve")

EXAMPLES = [
    "Wer leitete die Wirtschaftsdelegation nach Japan?",
    "Welche Städte besuchte die Berliner Delegation in den USA?",
    "Welche Delegationen reisten nach Israel?",
    "Who led the Hamburg delegation to Israel?",
]
BACKEND_NAMES = {"extractive": "extraktiv (zitiert Sätze, ohne Sprachmodell)", "ollama": "Ollama",
                 "llamacpp": "llama.cpp (lokaler Worker)", "openai": "OpenAI-kompatibler Server"}

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")

# Marker links open their source in the panel instead of navigating (capture phase: before Gradio's handlers).
HEAD = """
<script>
document.addEventListener('click', function (event) {
  const link = event.target.closest && event.target.closest('a[href^="#quelle-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const source = document.getElementById(link.getAttribute('href').slice(1));
  if (!source) return;
  source.open = true;
  source.scrollIntoView({behavior: 'smooth', block: 'center'});
  source.classList.add('flash');
  setTimeout(function () { source.classList.remove('flash'); }, 1500);
}, true);
</script>
"""
CSS = """
.source { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.source summary { cursor: pointer; font-weight: 600; }
.source .meta { color: var(--body-text-color-subdued); font-size: 0.9em; }
.source .passage { white-space: pre-wrap; margin: 6px 0 0; }
.source mark { background: #ffe58a; color: inherit; }
.source.flash { outline: 3px solid #f0b400; }
.trip-fields dt { font-weight: 600; margin-top: 4px; }
.trip-fields q { color: var(--body-text-color-subdued); }
.standalone { color: var(--body-text-color-subdued); font-size: 0.9em; }
a.cite { text-decoration: none; font-weight: 600; }
#doc-table td, #doc-table th { overflow-wrap: anywhere; }
"""


# -- rendering (pure functions, tested without a browser)


EMPTY_QUESTION_HINT = ("<p>Bitte zuerst eine Frage eingeben, zum Beispiel „Wer leitete die Delegation nach Japan?“ "
                       "oder „Welche Delegationen reisten 2019 nach Israel?“.</p>")
CUT_NOTICE = (f"⚠ *Die Frage erreicht die Grenze von {MAX_QUESTION_CHARS:,} Zeichen; was darüber hinausging, wurde "
              "abgeschnitten, beantwortet ist der Anfang.*\n\n").replace(",", ".")

def answer_markdown(text: str) -> str:
    """Answer text for the chat: every character as written (HTML and Markdown escaped), markers as links."""
    out, last = [], 0
    for m in MARKER.finditer(text):
        out.append(_literal(text[last:m.start()]))
        n = m.group(1)
        out.append(f'<a href="#quelle-{n}" class="cite" title="Quelle {n} anzeigen">[{n}]</a>')
        last = m.end()
    out.append(_literal(text[last:]))
    return "".join(out)


def _literal(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))


def sources_html(answer: dict) -> str:
    """The cited passages: title, date, source, the passage with the sentences the answer relies on marked."""
    parts = []
    if answer.get("standalone_question") and answer["standalone_question"] != answer.get("question"):
        parts.append(f'<p class="standalone">Gesucht wurde: „{html.escape(answer["standalone_question"])}“</p>')
    for note in answer.get("notices", []):
        parts.append(f'<p class="standalone">Hinweis: {html.escape(note)}</p>')
    if not answer.get("citations"):
        parts.append("<p>Keine Quellen: die Antwort zitiert nichts.</p>" if answer.get("refused") is False
                     else "<p>Keine Quellen: die Artikel sagen dazu nichts.</p>")
    for c in answer.get("citations", []):
        meta = " · ".join(html.escape(x) for x in (c.get("date") or "ohne Datum", c.get("source") or "", c["doc_id"]) if x)
        parts.append(
            f'<details class="source" id="quelle-{c["n"]}" open><summary>[{c["n"]}] {html.escape(c["title"])}</summary>'
            f'<div class="meta">{meta}</div><p class="passage">{highlighted(c["text"], c.get("quotes", []))}</p></details>')
    return "\n".join(parts)


def highlighted(passage: str, quotes: list[str]) -> str:
    """The passage escaped, with each quoted sentence in <mark> (for a generated sentence, the passage
    sentence sharing most words with it)."""
    from ingest.sentences import sentence_spans
    from index.terms import content_stems

    spans: list[tuple[int, int]] = []
    sentences = sentence_spans(passage)
    for quote in quotes:
        at = passage.find(quote)
        if at >= 0:
            spans.append((at, at + len(quote)))
            continue
        wanted = set(content_stems(quote))
        best = max(sentences, key=lambda s: len(wanted & set(content_stems(passage[s[0]:s[1]]))), default=None)
        if best and wanted & set(content_stems(passage[best[0]:best[1]])):
            spans.append((best[0], best[1]))
    out, last = [], 0
    for start, end in sorted(set(spans)):
        if start < last:
            continue
        out.append(html.escape(passage[last:start]))
        out.append(f"<mark>{html.escape(passage[start:end])}</mark>")
        last = end
    out.append(html.escape(passage[last:]))
    return "".join(out)


def status_line(assistant: Assistant) -> str:
    s = assistant.status(check_backend=False)  # on every page load: no network probe
    backend = s["backend"]
    newest = s.get("newest_article_date") or "–"
    down = f" (nicht verfügbar: {_literal(s.get('backend_detail', ''))})" if s.get("backend_reachable") is False else ""
    return (f"**Korpus:** {s['documents']} Artikel · {s['chunks']} Abschnitte · neuester Artikel {newest} "
            f"&nbsp;|&nbsp; **Antworten:** {BACKEND_NAMES.get(backend, backend)}{down}")


# -- the chat

def _user(request) -> str:
    """The signed-in user's name for feedback; none for a token or an open server (':reader-token', ':local')."""
    name = getattr(request, "username", None) or ""
    return "" if name.startswith(":") else name


def build_chat(assistant: Assistant, is_admin=lambda request: True, library=None):
    """The chat app; `is_admin(request)` tells admins (who also see the Dokumente tab) from readers;
    `library` (web.library.Library) lists, shows, uploads and removes documents for them."""
    import gradio as gr

    def articles():
        return [(f"{r.title} ({r.date or 'ohne Datum'})", r.doc_id) for r in assistant.articles()]


    def respond(message: str, chat: list, turns: list, shown: list, date_from: str, date_to: str, docs: list):
        """Streams the answer into the chat; `shown` holds, per assistant message, the answer and the
        conversation before it (what a 👍/👎 on that message stores), or None for an error line."""
        message = (message or "").strip()
        if not message:  # Enter on an empty box: say what to do instead of doing nothing
            yield chat, turns, shown, EMPTY_QUESTION_HINT, ""
            return
        cut = len(message) >= MAX_QUESTION_CHARS  # the box takes no more: a longer paste was cut there
        history = [Turn(t["role"], t["content"]) for t in turns]
        filters = Filters(list(docs or []), (date_from or "").strip() or None, (date_to or "").strip() or None)
        chat = chat + [{"role": "user", "content": _literal(message)}, {"role": "assistant", "content": "…"}]
        yield chat, turns, shown, "<p>Suche in den Artikeln …</p>", ""
        text = ""
        try:
            filters.where()
            for event in assistant.stream(message, history, filters):
                if event["type"] == "delta":
                    text += event["text"]
                    chat[-1] = {"role": "assistant", "content": answer_markdown(text)}
                    yield chat, turns, shown, gr.skip(), ""
                else:
                    answer = event["answer"]
                    chat[-1] = {"role": "assistant", "content": (CUT_NOTICE if cut else "") + answer_markdown(answer["answer"])}
                    shown = shown + [{"answer": answer, "history": list(turns)}]
                    turns = turns + [{"role": "user", "content": message}, {"role": "assistant", "content": answer["answer"]}]
                    yield chat, turns, shown, sources_html(answer), ""
        except (QuestionError, ValueError) as exc:
            chat[-1] = {"role": "assistant", "content": _literal(f"⚠ {exc}")}
            yield chat, turns, shown + [None], "", ""
        except GenerationBusy:
            chat[-1] = {"role": "assistant", "content": _literal(
                "⚠ Das Sprachmodell beantwortet gerade andere Fragen; bitte in ein paar Sekunden noch einmal fragen.")}
            yield chat, turns, shown + [None], "", ""
        except Exception as exc:  # index or model trouble: say so in the chat, keep the conversation
            log.exception("answering failed")
            chat[-1] = {"role": "assistant", "content": _literal(f"⚠ Die Antwort ist fehlgeschlagen: {exc}")}
            yield chat, turns, shown + [None], "", ""

    store = FeedbackStore(assistant.ws.settings.data_dir, assistant.ws.settings.database_url)

    def rate(shown: list, evt: gr.LikeData, request: gr.Request):
        """A 👍 or 👎 on an answer: stored at once; a comment may follow."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        entry = shown[index // 2] if isinstance(index, int) and 0 <= index // 2 < len(shown) else None
        if entry is None or evt.liked is None:
            return gr.skip(), gr.skip(), gr.skip()
        answer = entry["answer"]
        up = evt.liked is True or evt.liked == "Like"
        feedback_id = store.add(Feedback(
            rating="up" if up else "down", question=answer["question"], answer=answer["answer"],
            citations=answer.get("citations", []), history=entry["history"], backend=answer.get("backend", ""),
            generation=answer.get("generation", ""), lang=answer.get("lang", "de"), refused=answer.get("refused", False),
            user=_user(request)))
        said = ("Danke! 👍 gespeichert." if up else "Danke! 👎 gespeichert. Was war falsch, was hätte die Antwort sagen sollen?")
        return said, gr.Row(visible=True), feedback_id

    def comment(feedback_id, text: str):
        text = (text or "").strip()
        if feedback_id is None or not text:
            return gr.skip(), gr.skip()
        store.set_comment(int(feedback_id), text)
        return "Kommentar gespeichert – danke.", ""

    with gr.Blocks(title="Delegationen – Fragen an die Artikel") as demo:
        gr.Markdown("## Delegationen – Fragen an die Artikel\nFragen auf Deutsch oder Englisch; jede Aussage "
                    "nennt ihre Quelle [n]. Wenn die Artikel nichts dazu sagen, sagt der Assistent das.")
        status = gr.Markdown(elem_id="status-line")
        turns = gr.State([])
        with gr.Tab("Fragen", elem_id="tab-questions"), gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("### Gespräch")  # a heading above, not a label floating over the messages
                chat = gr.Chatbot(show_label=False, elem_id="chat", height=480, buttons=["copy"],
                                  feedback_options=("Like", "Dislike"), sanitize_html=True)
                with gr.Row():
                    box = gr.Textbox(placeholder="Frage stellen, z. B. „Wer leitete die Delegation nach Japan?“",
                                     show_label=False, scale=5, elem_id="question", max_length=2000)
                    send = gr.Button("Fragen", variant="primary", scale=1, elem_id="ask")
                examples = gr.Examples(EXAMPLES, inputs=box, label="Beispielfragen (ein Klick fragt)")
                new = gr.Button("Neues Gespräch", elem_id="new-conversation")
                feedback_note = gr.Markdown(elem_id="feedback-note")
                with gr.Row(visible=False, elem_id="feedback-comment-row") as comment_row:
                    comment_box = gr.Textbox(placeholder="Kommentar zur bewerteten Antwort (optional)", show_label=False,
                                             scale=5, elem_id="feedback-comment", max_length=2000)
                    comment_send = gr.Button("Kommentar senden", scale=1, elem_id="feedback-comment-send")
            with gr.Column(scale=2):
                gr.Markdown("### Quellen")
                sources = gr.HTML("<p>Die zitierten Passagen erscheinen hier.</p>", elem_id="sources")
                with gr.Accordion("Filter", open=False):
                    date_from = gr.Textbox(label="Veröffentlicht ab (JJJJ[-MM[-TT]])", elem_id="date-from")
                    date_to = gr.Textbox(label="Veröffentlicht bis (JJJJ[-MM[-TT]])", elem_id="date-to")
                    docs = gr.Dropdown(label="Nur diese Artikel", multiselect=True, choices=[], elem_id="docs")
        with gr.Tab("Reisen", elem_id="tab-trips"):
            trips_tab(assistant, demo)
        with gr.Tab("Dokumente", elem_id="tab-documents", visible=False) as documents:
            if library is not None:
                documents_tab(assistant, library, demo, is_admin, status)
        shown = gr.State([])
        feedback_id = gr.State(None)
        inputs = [box, chat, turns, shown, date_from, date_to, docs]
        outputs = [chat, turns, shown, sources, box]
        box.submit(respond, inputs, outputs)
        send.click(respond, inputs, outputs)
        examples.load_input_event.then(respond, inputs, outputs)  # an example is asked, not only typed in
        new.click(lambda: ([], [], [], "<p>Die zitierten Passagen erscheinen hier.</p>", ""), None, outputs)
        chat.like(rate, [shown], [feedback_note, comment_row, feedback_id])
        comment_send.click(comment, [feedback_id, comment_box], [feedback_note, comment_box])
        comment_box.submit(comment, [feedback_id, comment_box], [feedback_note, comment_box])

        def on_load(request: gr.Request):
            return status_line(assistant), gr.Dropdown(choices=articles()), gr.Tab(visible=is_admin(request))

        demo.load(on_load, None, [status, docs, documents])
    return demo


# -- the trip register

TRIP_COLUMNS = ["Datum", "Delegation", "Leitung", "Ziele", "Länder", "Stand", "Artikel", "id"]


def trip_rows(trips) -> list[list[str]]:
    from trips.model import STATUS_WORDS
    from trips.table import row

    return [[r["date"], r["delegation"], r["leaders"], r["destinations"], r["countries"], STATUS_WORDS["de"][r["status"]],
             r["articles"], r["id"]]
            for r in map(row, trips)]


def trip_evidence_html(trip, passage) -> str:
    """Each field of a trip with the words it was read from, and the passages with those words marked."""
    labels = (("Delegation", [trip.delegation] if trip.delegation else []), ("Herkunft", [trip.origin] if trip.origin else []),
              ("Leitung", trip.leaders), ("Teilnehmende", trip.participants), ("Ziele", trip.destinations),
              ("Zeit", [trip.when] if trip.when else []), ("Zweck", trip.purpose), ("Ergebnisse", trip.outcomes))
    parts = [f'<h4 class="trip-title">{html.escape(", ".join(m.value["place"] for m in trip.destinations))}</h4><dl class="trip-fields">']
    quotes: dict[str, list[str]] = {}
    for label, mentions in labels:
        if not mentions:
            continue
        shown = "; ".join(_value_and_quote(m) for m in mentions)
        parts.append(f"<dt>{label}</dt><dd>{shown}</dd>")
        for m in mentions:
            quotes.setdefault(m.evidence.chunk_id, []).append(m.evidence.quote)
    parts.append("</dl>")
    for chunk_id, marked in quotes.items():
        p = passage(chunk_id)
        if p is None:
            continue
        meta = " · ".join(html.escape(x) for x in (p.date or "ohne Datum", p.source, p.doc_id) if x)
        parts.append(f'<details class="source" open><summary>{html.escape(p.title)}</summary><div class="meta">{meta}</div>'
                     f'<p class="passage">{highlighted(p.text, marked)}</p></details>')
    return "\n".join(parts)


def _value_and_quote(m) -> str:
    """A field's value, and the article's words it was read from where they differ ("Berlin" from "Berliner")."""
    value = str(next(iter(m.value.values()), "") or "")
    if value == m.evidence.quote:
        return html.escape(value)
    return f"{html.escape(value)} <q>{html.escape(m.evidence.quote)}</q>"


def trips_chart(trips):
    """Trips per year, stacked by destination country (matplotlib, drawn on the server: no CDN needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trips.register import dates_of

    counts: dict[str, dict[str, int]] = {}
    for t in trips:
        year = (dates_of(t)[0] or "ohne Datum")[:4] if dates_of(t)[0] else "ohne Datum"
        for country in sorted(c for c in t.countries if c) or ["?"]:
            counts.setdefault(year, {}).setdefault(country, 0)
            counts[year][country] += 1
    fig, ax = plt.subplots(figsize=(7, 3))
    years = sorted(counts)
    countries = sorted({c for per in counts.values() for c in per})
    bottom = [0] * len(years)
    for country in countries:
        values = [counts[y].get(country, 0) for y in years]
        ax.bar(years, values, bottom=bottom, label=country)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("Reisen")
    ax.set_title("Reisen je Jahr nach Zielland")
    if countries:
        ax.legend(fontsize=7, ncol=min(6, len(countries)))
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return fig


def trips_tab(assistant: Assistant, demo) -> None:
    import tempfile

    import gradio as gr

    from trips.register import TripFilter
    from trips.table import to_csv

    def select(to: str, who: str, year: str):
        year = (year or "").strip()
        if year and not year.isdigit():
            raise gr.Error("Das Jahr bitte als Zahl, z. B. 2019.")
        trips = assistant.trips(TripFilter(to=(to or "").strip() or None, who=(who or "").strip() or None,
                                           year=int(year) if year else None))
        path = Path(tempfile.mkdtemp(prefix="reisen-")) / "reisen.csv"
        path.write_text(to_csv(trips), encoding="utf-8")
        return trip_rows(trips), trips_chart(trips), str(path), f"{len(trips)} Reisen"

    def show(evt: gr.SelectData):
        trip_id = evt.row_value[-1] if evt.row_value else None
        trip = next((t for t in assistant.trips() if t.id == trip_id), None)
        return trip_evidence_html(trip, assistant.passage) if trip else ""

    gr.Markdown("Jede Reise, die die Artikel berichten, mit Belegen: ein Klick auf eine Zeile zeigt, woher jedes Feld stammt.")
    with gr.Row():
        to = gr.Textbox(label="Ziel (Stadt, Land, Kontinent)", elem_id="trips-to", scale=2)
        who = gr.Textbox(label="Person", elem_id="trips-who", scale=2)
        year = gr.Textbox(label="Jahr", elem_id="trips-year", scale=1)
        apply = gr.Button("Filtern", elem_id="trips-filter", scale=1)
    count = gr.Markdown(elem_id="trips-count")
    table = gr.Dataframe(headers=TRIP_COLUMNS, interactive=False, wrap=True, elem_id="trips-table",
                         show_search="filter", max_height=420)
    with gr.Row():
        evidence = gr.HTML("<p>Eine Zeile anklicken, um die Belege zu sehen.</p>", elem_id="trips-evidence")
        with gr.Column():
            chart = gr.Plot(elem_id="trips-chart", show_label=False)
            download = gr.DownloadButton("CSV herunterladen", elem_id="trips-csv")
    outputs = [table, chart, download, count]
    for trigger in (apply.click, to.submit, who.submit, year.submit):
        trigger(select, [to, who, year], outputs)
    table.select(show, None, evidence)
    demo.load(select, [to, who, year], outputs)


# -- the documents (admins)

def _shown_source(source: str, uploads: Path) -> str:
    """Where an article came from, as an admin recognises it: an upload (a file in `uploads`, the server's
    uploads dir) as "Upload: name.txt", not its path inside the server's data dir."""
    try:
        inside = Path(source).resolve().relative_to(uploads)
    except (ValueError, OSError):
        return source
    return f"Upload: {inside}"


def upload_problem(exc: Exception) -> str:
    """What went wrong with an upload or a removal, in the chat's language: refusals carry their German
    sentence (index.sync.Refusal); the others are told by their type."""
    from index.documents import UnknownDocument
    from index.sync import IngestBusy

    if hasattr(exc, "de"):
        return exc.de
    if isinstance(exc, IngestBusy):
        return "Gerade wird ein anderer Upload oder eine Löschung indexiert; bitte gleich noch einmal versuchen."
    if isinstance(exc, UnknownDocument):
        return f"Diesen Artikel gibt es im Index nicht (mehr). ({exc})"
    log.error("Managing documents failed: %s", exc)
    return f"Das hat nicht geklappt: {exc}"


DOCUMENT_COLUMNS = ["ID", "Datum", "Titel", "Abschnitte", "Quelle"]
DOCUMENT_COLUMN_WIDTHS = ["18%", "9%", "42%", "9%", "22%"]  # the table fits the window; long IDs and paths wrap
PAGE_SIZE = 25


def documents_tab(assistant: Assistant, library, demo, is_admin, status) -> None:
    """Upload (drag and drop), list with search and paging, view, delete with confirmation. Every handler
    checks the user again: a hidden tab is no permission. Uploads and removals run in the server's ingest
    worker, as the API's do (web/library.py)."""
    import gradio as gr

    from index.documents import UnknownDocument
    from ingest.readers import SUFFIXES
    from index.uploads import uploads_dir

    settings = library.settings

    def allowed(request) -> None:
        if not is_admin(request):
            raise gr.Error("Nur Admins verwalten Dokumente.")

    def page(query: str, offset: int, request: gr.Request):
        allowed(request)
        total, docs = library.listing((query or "").strip()[:500], PAGE_SIZE, min(max(0, int(offset or 0)), 10**9))
        uploads = uploads_dir(settings)
        rows = [[d.doc_id, d.date or "–", d.title, d.chunks, _shown_source(d.source, uploads)] for d in docs]
        shown = f"{offset + 1}–{offset + len(docs)} von {total}" if docs else f"keine von {total}"
        return rows, f"{shown} Artikeln" + (f" mit „{_literal(query.strip())}“" if (query or "").strip() else ""), offset

    def search(query: str, request: gr.Request):
        return page(query, 0, request)

    def turn(query: str, offset: int, step: int, request: gr.Request):
        total, _ = library.listing((query or "").strip()[:500], 1, 0)
        offset = min(max(0, int(offset or 0) + step), max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE))
        return page(query, offset, request)

    def upload(files, query: str, offset: int, request: gr.Request, progress=gr.Progress()):
        allowed(request)
        lines = []
        for i, path in enumerate(files or []):
            name = Path(path).name
            progress((i, len(files)), desc=f"Indexiere {name}")
            try:
                report = library.upload(name, Path(path).read_bytes())
            except Exception as exc:  # noqa: BLE001 - each refusal is one line (its type says which: index.uploads, index.sync)
                lines.append(f"⚠ {_literal(upload_problem(exc))}")
                continue
            lines.append(f"✓ {_literal(name)}: {report['added']} neu, {report['updated']} ersetzt, "
                         f"{report['unchanged']} unverändert; Index: {report['documents']} Artikel")
            lines += [f"⚠ {_literal(f['path'])}: {_literal(f['error'])}" for f in report.get("failed", [])]
            if report.get("failed_total"):
                lines.append(f"… {report['failed_total'] - len(report['failed'])} weitere Zeilen nicht lesbar")
        rows, info, offset = page(query, offset, request)
        return "\n\n".join(lines), None, rows, info, offset, status_line(assistant)

    def view(rows, evt: gr.SelectData, request: gr.Request):
        allowed(request)
        doc_id = evt.row_value[0] if evt.row_value else ""
        try:
            doc = library.show(doc_id)
        except UnknownDocument as exc:
            return f"⚠ {_literal(str(exc))}", "", gr.Button(interactive=False), ""
        head = f"**{_literal(doc.title)}**  \n{doc.date or 'ohne Datum'} · {_literal(_shown_source(doc.source, uploads_dir(settings)))} · `{doc.doc_id}`"
        return head, doc.text, gr.Button(interactive=True), doc_id

    def ask_delete(doc_id: str, request: gr.Request):
        allowed(request)
        return gr.Row(visible=bool(doc_id)), f"Artikel `{doc_id}` wirklich aus dem Index löschen?"

    def delete(doc_id: str, query: str, offset: int, request: gr.Request):
        allowed(request)
        try:
            library.remove(doc_id)
            said = f"✓ `{doc_id}` gelöscht."
        except Exception as exc:  # noqa: BLE001 - an unknown id, another ingest running, the worker gone: one line
            said = f"⚠ {_literal(upload_problem(exc))}"
        rows, info, offset = page(query, offset, request)
        return (said, gr.Row(visible=False), rows, info, offset, "", "", gr.Button(interactive=False), "",
                status_line(assistant))

    gr.Markdown("Artikel hinzufügen: Dateien hierher ziehen oder klicken (" + ", ".join(sorted(SUFFIXES)) +
                f"; bis {settings.server.max_upload_mb:g} MB). Eine Datei gleichen Namens ersetzt die frühere.")
    files = gr.File(file_count="multiple", file_types=sorted(SUFFIXES), label="Dateien", elem_id="doc-upload")
    result = gr.Markdown(elem_id="doc-upload-result")
    with gr.Row():
        query = gr.Textbox(label="Suchen (ID, Titel, Quelle)", elem_id="doc-query", scale=4)
        back = gr.Button("◀ zurück", elem_id="doc-prev", scale=1)
        forward = gr.Button("weiter ▶", elem_id="doc-next", scale=1)
    info = gr.Markdown(elem_id="doc-count")
    offset = gr.State(0)
    table = gr.Dataframe(headers=DOCUMENT_COLUMNS, interactive=False, wrap=True, elem_id="doc-table", max_height=380,
                         column_widths=DOCUMENT_COLUMN_WIDTHS)
    heading = gr.Markdown("Eine Zeile anklicken, um den Artikel zu sehen.", elem_id="doc-heading")
    text = gr.Textbox(label="Text, wie er indexiert ist", lines=10, max_lines=20, interactive=False, elem_id="doc-text")
    selected = gr.State("")
    delete_button = gr.Button("Artikel löschen", variant="stop", interactive=False, elem_id="doc-delete")
    with gr.Row(visible=False, elem_id="doc-confirm-row") as confirm:
        question = gr.Markdown(elem_id="doc-confirm-question")
        yes = gr.Button("Ja, löschen", variant="stop", elem_id="doc-delete-confirm")
        no = gr.Button("Abbrechen", elem_id="doc-delete-cancel")
    deleted = gr.Markdown(elem_id="doc-deleted")

    listed = [table, info, offset]
    files.upload(upload, [files, query, offset], [result, files, *listed, status])
    query.submit(search, [query], listed)
    def earlier(q: str, o: int, request: gr.Request):
        return turn(q, o, -PAGE_SIZE, request)

    def later(q: str, o: int, request: gr.Request):
        return turn(q, o, PAGE_SIZE, request)

    back.click(earlier, [query, offset], listed)
    forward.click(later, [query, offset], listed)
    table.select(view, [table], [heading, text, delete_button, selected])
    delete_button.click(ask_delete, [selected], [confirm, question])
    no.click(lambda: gr.Row(visible=False), None, confirm)
    yes.click(delete, [selected, query, offset], [deleted, confirm, *listed, heading, text, delete_button, selected, status])

    def initial(request: gr.Request):
        if not is_admin(request):
            return [], "", 0
        return page("", 0, request)

    demo.load(initial, None, listed)
