"""The chat (Gradio): questions, answers with [n] markers linked to their passages, filters, status line.

A thin shell over the Assistant (web/server.py mounts it beside the API). Everything an article says is
shown as text (escaped), never as markup: an article containing `<script>` shows those characters.
"""

from __future__ import annotations

import html
import logging
import re

from assistant.answer import MARKER
from assistant.service import Assistant, QuestionError, Turn
from index.retrieve import Filters

log = logging.getLogger("delegations.serve")

EXAMPLES = [
    "Wer leitete die Wirtschaftsdelegation nach Japan?",
    "Welche Städte besuchte die Berliner Delegation in den USA?",
    "Welche Delegationen reisten nach Israel?",
    "Who led the Hamburg delegation to Israel?",
]
BACKEND_NAMES = {"extractive": "extraktiv (zitiert Sätze, ohne Sprachmodell)", "ollama": "Ollama",
                 "llamacpp": "llama.cpp (lokal)", "openai": "OpenAI-kompatibler Server"}

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
    return (f"**Korpus:** {s['documents']} Artikel · {s['chunks']} Abschnitte · neuester Artikel {newest} "
            f"&nbsp;|&nbsp; **Antworten:** {BACKEND_NAMES.get(backend, backend)}")


# -- the chat

def build_chat(assistant: Assistant):
    import gradio as gr

    def articles():
        return [(f"{r.title} ({r.date or 'ohne Datum'})", r.doc_id) for r in assistant.articles()]

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
