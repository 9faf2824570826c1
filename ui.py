"""The chat (Gradio) and the server that carries it beside the JSON API: `delegations serve`.

One FastAPI app: the chat at `/`, the API at `/api/*`, its docs at `/docs`. Everything an article says is
shown as text (escaped), never as markup: an article containing `<script>` shows those characters.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import os
import re
import secrets
from pathlib import Path

from assistant.model import Citation
from assistant.service import Assistant, QuestionError, Turn
from index.retrieve import Filters
from settings import Settings

log = logging.getLogger("delegations.serve")

EXAMPLES = [
    "Wer leitete die Wirtschaftsdelegation nach Japan?",
    "Welche Städte besuchte die Berliner Delegation in den USA?",
    "Welche Delegationen reisten nach Israel?",
    "Who led the Hamburg delegation to Israel?",
]
BACKEND_NAMES = {"extractive": "extraktiv (zitiert Sätze, ohne Sprachmodell)", "ollama": "Ollama",
                 "llamacpp": "llama.cpp (lokal)", "openai": "OpenAI-kompatibler Server"}

_MARKER = re.compile(r"\[(\d+)\]")
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
.standalone { color: var(--body-text-color-subdued); font-size: 0.9em; }
a.cite { text-decoration: none; font-weight: 600; }
"""


# -- rendering (pure functions, tested without a browser)

def answer_markdown(text: str) -> str:
    """Answer text for the chat: every character as written (HTML and Markdown escaped), markers as links."""
    out, last = [], 0
    for m in _MARKER.finditer(text):
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
    s = assistant.ws.status()
    backend = assistant.ws.settings.llm.backend
    newest = s.get("newest_article_date") or "–"
    return (f"**Korpus:** {s['documents']} Artikel · {s['chunks']} Abschnitte · neuester Artikel {newest} "
            f"&nbsp;|&nbsp; **Antworten:** {BACKEND_NAMES.get(backend, backend)}")


# -- the chat

def build_chat(assistant: Assistant):
    import gradio as gr

    def articles():
        return [(f"{r.title} ({r.date or 'ohne Datum'})", r.doc_id) for r in assistant.ws.manifest.all_docs()]

    def respond(message: str, chat: list, turns: list, date_from: str, date_to: str, docs: list):
        message = (message or "").strip()
        if not message:
            yield chat, turns, gr.skip(), ""
            return
        history = [Turn(t["role"], t["content"]) for t in turns]
        filters = Filters(list(docs or []), (date_from or "").strip() or None, (date_to or "").strip() or None)
        chat = chat + [{"role": "user", "content": _literal(message)}, {"role": "assistant", "content": "…"}]
        yield chat, turns, "<p>Suche in den Artikeln …</p>", ""
        text = ""
        try:
            filters.where()
            # The lock is shared with the API: one question at a time through the index. A plain Lock, since
            # Gradio may resume this generator on another thread.
            with assistant.lock:
                for event in assistant.stream(message, history, filters):
                    if event["type"] == "delta":
                        text += event["text"]
                        chat[-1] = {"role": "assistant", "content": answer_markdown(text)}
                        yield chat, turns, gr.skip(), ""
                    else:
                        answer = event["answer"]
                        chat[-1] = {"role": "assistant", "content": answer_markdown(answer["answer"])}
                        turns = turns + [{"role": "user", "content": message}, {"role": "assistant", "content": answer["answer"]}]
                        yield chat, turns, sources_html(answer), ""
        except (QuestionError, ValueError) as exc:
            chat[-1] = {"role": "assistant", "content": _literal(f"⚠ {exc}")}
            yield chat, turns, "", ""
        except Exception as exc:  # index or model trouble: say so in the chat, keep the conversation
            log.exception("answering failed")
            chat[-1] = {"role": "assistant", "content": _literal(f"⚠ Die Antwort ist fehlgeschlagen: {exc}")}
            yield chat, turns, "", ""

    with gr.Blocks(title="Delegationen – Fragen an die Artikel") as demo:
        gr.Markdown("## Delegationen – Fragen an die Artikel\nFragen auf Deutsch oder Englisch; jede Aussage "
                    "nennt ihre Quelle [n]. Wenn die Artikel nichts dazu sagen, sagt der Assistent das.")
        status = gr.Markdown(elem_id="status-line")
        turns = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Gespräch", elem_id="chat", height=480, buttons=["copy"],
                                  feedback_options=None, sanitize_html=True)
                with gr.Row():
                    box = gr.Textbox(placeholder="Frage stellen, z. B. „Wer leitete die Delegation nach Japan?“",
                                     show_label=False, scale=5, elem_id="question", max_length=2000)
                    send = gr.Button("Fragen", variant="primary", scale=1, elem_id="ask")
                gr.Examples(EXAMPLES, inputs=box, label="Beispielfragen")
                new = gr.Button("Neues Gespräch", elem_id="new-conversation")
            with gr.Column(scale=2):
                gr.Markdown("### Quellen")
                sources = gr.HTML("<p>Die zitierten Passagen erscheinen hier.</p>", elem_id="sources")
                with gr.Accordion("Filter", open=False):
                    date_from = gr.Textbox(label="Veröffentlicht ab (JJJJ[-MM[-TT]])", elem_id="date-from")
                    date_to = gr.Textbox(label="Veröffentlicht bis (JJJJ[-MM[-TT]])", elem_id="date-to")
                    docs = gr.Dropdown(label="Nur diese Artikel", multiselect=True, choices=[], elem_id="docs")
        inputs = [box, chat, turns, date_from, date_to, docs]
        outputs = [chat, turns, sources, box]
        box.submit(respond, inputs, outputs)
        send.click(respond, inputs, outputs)
        new.click(lambda: ([], [], "<p>Die zitierten Passagen erscheinen hier.</p>", ""), None, outputs)
        demo.load(lambda: (status_line(assistant), gr.Dropdown(choices=articles())), None, [status, docs])
    return demo


# -- the server

def hash_password(password: str, iterations: int = 600_000) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(got, digest)


def parse_users(spec: str) -> dict[str, str]:
    """'alice:pbkdf2_sha256$...,bob:...' -> {user: hash}; a malformed entry is a settings error."""
    users = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, sep, stored = entry.partition(":")
        if not sep or not name or stored.count("$") != 3:
            raise ValueError(f"DELEGATIONS_UI_USERS entry {name or entry[:20]!r} is not user:hash "
                             f"(make the hash with `delegations hash-password`).")
        users[name] = stored
    return users


def create_app(settings: Settings, assistant: Assistant | None = None):
    """The FastAPI app with the chat mounted at /; ingests the sample corpus first when the index is empty."""
    import gradio as gr

    from assistant.api import create_api
    from assistant.backends import backend_status
    from index.sync import sync
    from index.workspace import Workspace

    assistant = assistant or Assistant(Workspace(settings))
    if assistant.ws.manifest.counts()[0] == 0:
        corpus = settings.corpus_dir
        log.warning("The index in %s is empty: ingesting %s first.", settings.data_dir, corpus)
        report = sync([corpus], assistant.ws)
        log.warning("Ingested %d articles (%d chunks).", report.documents, report.chunks)
    users = parse_users(settings.server.ui_users)
    app = create_api(assistant, backend_status, settings.server)

    @app.get("/gradio.js", include_in_schema=False)
    def web_component():
        """Gradio's web-component loader, served from here (intranets cannot reach Gradio's CDN):
        <script type="module" src="https://HOST/gradio.js"></script> <gradio-app src="https://HOST/"></gradio-app>"""
        from fastapi.responses import FileResponse

        return FileResponse(Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js",
                            media_type="text/javascript")

    auth = (lambda user, password: user in users and check_password(password, users[user])) if users else None
    return gr.mount_gradio_app(app, build_chat(assistant), path="/", auth=auth,
                               auth_message="Anmeldung für den Delegations-Assistenten",
                               root_path=settings.server.root_path or None, head=HEAD, css=CSS,
                               footer_links=["api"], ssr_mode=False)


def serve(settings: Settings) -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # an intranet product does not phone home
    server = settings.server
    if not server.api_token and not server.ui_users:
        log.warning("No DELEGATIONS_API_TOKEN and no DELEGATIONS_UI_USERS: anyone who can reach %s:%d can use it%s.",
                    server.host, server.port, " (loopback only)" if _loopback(server.host) else "")
    app = create_app(settings)
    log.warning("Chat at http://%s:%d%s/ , API docs at /docs", server.host, server.port, server.root_path)
    uvicorn.run(app, host=server.host, port=server.port, root_path=server.root_path, log_level="info")


def _loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")


if __name__ == "__main__":
    from settings import load_settings

    serve(load_settings())
