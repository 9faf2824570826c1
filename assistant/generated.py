"""The answerer of the generative backends: a language model writes the answer from the numbered passages
(prompts in prompts/), and its citations are held to account before anything is shown.

When the model fails, refuses, or keeps no valid citation, and a fallback answerer is given
(`llm.fallback_to_extractive`), the fallback's answer is shown with a notice saying why.
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.answer import Draft
from assistant.answerer import Answerer, Prepared, Turn
from assistant.citations import complete_part, enforce_citations, sentences_with_markers
from assistant.llms import GenerationError, LazyModel, Model
from assistant.question import FOLLOW_UP_WINDOW
from index.retrieve import Passage
from prompts import render


class LLMAnswerer:
    def __init__(self, model: Model | LazyModel, fallback: Answerer | None = None):
        self.model = model
        self.fallback = fallback

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
            raw = self.model.chat(messages(p.standalone, p.retrieval.passages, p.q.lang))
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
        raw, sent = "", 0
        try:
            for piece in self.model.stream(messages(p.standalone, p.retrieval.passages, p.q.lang)):
                raw += piece
                complete = complete_part(raw)
                if complete:
                    draft, _ = enforce_citations(complete, p.retrieval.passages, p.q.lang)
                    kept = [] if draft.refused else sentences_with_markers(draft.text)
                    for sentence in kept[sent:]:
                        yield (" " if sent else "") + sentence.strip()
                        sent += 1
        except GenerationError as exc:
            yield self._fall_back(p, exc)
            return
        yield self._checked(p, raw)

    def _fall_back(self, p: Prepared, exc: GenerationError) -> Draft:
        """The model failed: the fallback's answer with a notice, or the error when there is no fallback."""
        if self.fallback is None:
            raise exc
        draft = self.fallback.answer(p)
        draft.notices = [f"{exc} The answer below is extractive (quoted sentences) instead."]
        draft.generation = "fallback_backend_failed"
        return draft

    def _checked(self, p: Prepared, raw: str) -> Draft:
        """The generated text with its citations enforced, and what the check did: checked (every citation
        held), repaired (some were removed), model_refused / no_valid_citation (the refusal is shown), or, with
        a fallback, fallback_model_refused / fallback_no_valid_citation (its answer instead: it quotes what the
        passages say, or refuses by its own evidence check)."""
        draft, problems = enforce_citations(raw, p.retrieval.passages, p.q.lang)
        draft.notices = problems
        if draft.citations:
            draft.generation = "repaired" if problems else "checked"
            return draft
        outcome = "no_valid_citation" if problems else "model_refused"
        if self.fallback is None:
            draft.generation = outcome
            return draft
        notice = "The model found no answer in the passages." if outcome == "model_refused" else "The generated answer kept no valid citation."
        fallback = self.fallback.answer(p)
        fallback.notices = problems + [f"{notice} The answer below is extractive (quoted sentences) instead."]
        fallback.generation = f"fallback_{outcome}"
        return fallback


def messages(question: str, passages: list[Passage], lang: str) -> list[tuple[str, str]]:
    """The system prompt, then the numbered passages and the question."""
    numbered = "\n\n".join(f"[{i}] {p.title} ({p.date or 'ohne Datum'})\n{p.text}" for i, p in enumerate(passages, 1))
    return [("system", render("system", lang)), ("user", render("answer", lang, passages=numbered, question=question))]
