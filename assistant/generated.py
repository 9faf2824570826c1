"""The answerer of the generative backends: a language model writes the answer from the numbered passages
(prompts in prompts/), and its citations are held to account before anything is shown.

When the model fails, refuses, or keeps no valid citation, and a fallback answerer is given
(`llm.fallback_to_extractive`), the fallback's answer is shown with a notice saying why.
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.answer import MARKER, Draft, refusal
from assistant.answerer import Answerer, Prepared, Turn
from assistant.citations import complete_part, enforce_citations, sentences_with_markers
from assistant.llms import GenerationBusy, GenerationError, LazyModel, Model
from assistant.question import FOLLOW_UP_WINDOW, analyse, answer_type_present, read
from assistant.ranking import rank
from index.retrieve import Passage
from ingest.sentences import refers_back, sentence_spans
from prompts import render


class LLMAnswerer:
    def __init__(self, model: Model | LazyModel, fallback: Answerer | None = None):
        self.model = model
        self.fallback = fallback

    def health(self) -> dict | None:
        """The live state of the model's worker, when this process runs one (llama.cpp)."""
        return self.model.health() if hasattr(self.model, "health") else None

    def warm_up(self) -> str | None:
        """Start the model before the first question (a local worker loads its file); the reason when it cannot."""
        try:
            self.model.warm_up()
        except GenerationError as exc:
            return str(exc)
        return None

    def condense(self, question: str, history: list[Turn], lang: str) -> str:
        """The follow-up as a standalone question, written by the model from the conversation so far; it
        may name what only an earlier answer said. Empty when the model gave nothing usable."""
        said = "\n".join(f"{'Nutzer' if lang == 'de' else 'User'}: {t.content}" if t.role == "user" else
                         f"{'Assistent' if lang == 'de' else 'Assistant'}: {t.content}"
                         for t in history[-2 * FOLLOW_UP_WINDOW:])
        prompt = render("condense", lang, history=said, question=question)
        reply = self.model.chat([("user", prompt)]).strip().strip('"').strip()
        line = reply.splitlines()[0].strip() if reply else ""
        return line if 3 <= len(line) <= 500 else ""

    def answer(self, p: Prepared) -> Draft:
        if p.failure:
            return self._fall_back(p, p.failure)
        try:
            raw = self.model.chat(messages(p.standalone, p.retrieval.passages, p.q.lang, focus(p)))
        except GenerationError as exc:
            return self._fall_back(p, exc)
        return self._checked(p, raw)

    def stream(self, p: Prepared) -> Iterator[str | Draft]:
        """Checked sentences as the model completes them; the final Draft may differ (a generated answer that
        keeps no valid citation is replaced there by the refusal or the fallback)."""
        if p.failure:
            draft = self.answer(p)
            yield from sentences_with_markers(draft.text)
            yield draft
            return
        raw, sent, checked = "", 0, ""
        pieces = self.model.stream(messages(p.standalone, p.retrieval.passages, p.q.lang, focus(p)))
        try:
            for piece in pieces:
                raw += piece
                complete = complete_part(raw)
                if complete and complete != checked:  # checked again only when a sentence was completed
                    checked = complete
                    draft, _ = enforce_citations(complete, p.retrieval.passages, p.q.lang, p.standalone)
                    kept = [] if draft.refused or lacks_what_was_asked(p, draft.text) else sentences_with_markers(draft.text)
                    for sentence in kept[sent:]:  # nothing is shown before the answer holds what was asked
                        yield (" " if sent else "") + sentence.strip()
                        sent += 1
                    if not sent and len(sentences_with_markers(complete)) >= GIVE_UP_AFTER_SENTENCES:
                        raw = complete  # none of its first sentences holds: the rest is not waited for
                        break
        except GenerationError as exc:
            yield self._fall_back(p, exc)
            return
        finally:
            close = getattr(pieces, "close", None)
            if close:
                close()  # the model's stream reads the rest in the background
        yield self._checked(p, raw)

    def _fall_back(self, p: Prepared, exc: GenerationError) -> Draft:
        """The model failed: the fallback's answer with a notice, or the error when there is no fallback. A
        model that is busy is no failure to hide: that goes to the caller (HTTP 503 with Retry-After)."""
        if self.fallback is None or isinstance(exc, GenerationBusy):
            raise exc
        draft = self.fallback.answer(p)
        draft.notices = [f"{exc} The answer below is extractive (quoted sentences) instead."]
        draft.generation = "fallback_backend_failed"
        return draft

    def _checked(self, p: Prepared, raw: str) -> Draft:
        """The generated text with its citations enforced, and what the check did: checked (every citation
        held), repaired (some were removed), model_refused / no_valid_citation / unanswered (no person, place,
        date or number where the question asks for one) with the refusal shown, or, with a fallback,
        fallback_model_refused / fallback_no_valid_citation / fallback_unanswered (its answer instead: it quotes
        what the passages say, or refuses by its own evidence check)."""
        draft, problems = enforce_citations(raw, p.retrieval.passages, p.q.lang, p.standalone)
        outcome = "no_valid_citation" if problems else "model_refused"
        if draft.citations and lacks_what_was_asked(p, draft.text):
            problems.append(f"The generated answer names no {_ASKED[p.q.kind]} the question does not.")
            draft, outcome = refusal(p.q.lang), "unanswered"
        draft.notices = problems
        if draft.citations:
            draft.generation = "repaired" if problems else "checked"
            return draft
        if self.fallback is None:
            draft.generation = outcome
            return draft
        notice = {"model_refused": "The model found no answer in the passages.",
                  "unanswered": "The generated answer did not say what was asked.",
                  "no_valid_citation": "The generated answer kept no valid citation."}[outcome]
        fallback = self.fallback.answer(p)
        fallback.notices = problems + [f"{notice} The answer below is extractive (quoted sentences) instead."]
        fallback.generation = f"fallback_{outcome}"
        return fallback


_ASKED = {"who": "person or organisation", "where": "place", "when": "date", "count": "number", "amount": "amount of money"}


def lacks_what_was_asked(p: Prepared, text: str) -> bool:
    """A who/where/when/how-many/how-much question answered without any person, place, date or number the
    question does not already name: the model wrote around the answer ("In Tel Aviv fand die Messe statt")."""
    if p.q.kind not in _ASKED:
        return False
    asked = p.q if p.standalone == p.q.text else analyse(p.standalone)  # a follow-up: what its standalone form names
    plain = [MARKER.sub("", s) for s in sentences_with_markers(text)]  # a citation "[1]" is no number of anything
    # the model's sentences read by the same annotator as the articles and the question
    return not any(answer_type_present(p.q.kind, s, read(s).annotation.entities, asked) for s in plain)


FOCUS_SENTENCES = 3  # the best sentences a model reads, with the sentences they lean on
# A streamed answer whose first sentences all fail the checks (no valid citation, a claim the passage does not
# make, nothing of what was asked) is not read to its end: the fallback or refusal comes that much sooner.
GIVE_UP_AFTER_SENTENCES = 2


def focus(p: Prepared) -> dict[int, str]:
    """What of each passage the model reads: the best sentences for the question (assistant/ranking.py, the
    ranking the extractive answerer quotes from), the sentence before one that refers back to it ("Er ...",
    "Dazu ...") and the one after that goes on with it, and the sentence after the very best; gaps marked "…",
    under the passage's own number; passages with none of them are left out. On two cores a 1.5B model reads about 160 tokens a second: five
    700-character passages cost it several seconds before its first word, and it loses the answer in them."""
    ranked = rank(p)[:FOCUS_SENTENCES]
    sentences = {}
    for passage in p.retrieval.passages:
        known = p.retrieval.vectors.get(passage.chunk_id)
        sentences[passage.chunk_id] = [passage.text[a:b] for a, b in (known.spans if known else sentence_spans(passage.text))]
    wanted: dict[str, set[int]] = {}
    for c in ranked:
        own, i = sentences[c.passage.chunk_id], c.order[1]
        keep = wanted.setdefault(c.passage.chunk_id, set())
        keep.add(i)
        if i > 0 and refers_back(own[i]):
            keep.add(i - 1)
        if i + 1 < len(own) and (c is ranked[0] or refers_back(own[i + 1])):
            keep.add(i + 1)
    out = {}
    for n, passage in enumerate(p.retrieval.passages, 1):
        keep = wanted.get(passage.chunk_id)
        if not keep:
            continue
        parts, last = [], -2
        for i, sentence in enumerate(sentences[passage.chunk_id]):
            if i in keep:
                parts.append(("… " if parts and i != last + 1 else "") + sentence)
                last = i
        out[n] = " ".join(parts)
    return out


def messages(question: str, passages: list[Passage], lang: str, texts: dict[int, str] | None = None) -> list[tuple[str, str]]:
    """The system prompt, then the numbered passages (or, given `texts`, those parts of them, each after its
    article's date when known) and the question. Titles are left out: they cost a slow model reading time and often repeat the first sentence."""
    shown = [(n, p, texts[n] if texts else p.text) for n, p in enumerate(passages, 1) if not texts or n in texts]
    numbered = "\n\n".join(f"[{n}] {f'({p.date}) ' if p.date else ''}{text}" for n, p, text in shown)
    return [("system", render("system", lang)), ("user", render("answer", lang, passages=numbered, question=question))]
