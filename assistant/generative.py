"""Generated answers: prompt a language model with numbered passages, then hold its citations to account.

The one module that imports LLM vendor packages (inside `make_generator`, so commands that do not
generate never pay for the import). Whatever the model writes, no answer leaves here with a citation
number that points to no passage, or with a cited fact its passage does not contain.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.extractive import Draft, refusal
from assistant.model import REFUSAL, Citation
from index.retrieve import Passage
from index.terms import content_stems, words
from ingest.sentences import split_sentences
from prompts import render
from settings import Settings


class GenerationError(Exception):
    """The model could not produce an answer; the message says why and what to do."""


@dataclass
class LLMGenerator:
    """Any llama-index LLM, prompted with our prompt files."""

    llm: object
    name: str
    model: str = ""
    preflight: object = None  # callable raising GenerationError when the server is not usable

    def _messages(self, question: str, passages: list[Passage], lang: str):
        from llama_index.core.llms import ChatMessage

        if self.preflight:
            self.preflight()
        numbered = "\n\n".join(f"[{i}] {p.title} ({p.date or 'ohne Datum'})\n{p.text}" for i, p in enumerate(passages, 1))
        return [
            ChatMessage(role="system", content=render("system", lang)),
            ChatMessage(role="user", content=render("answer", lang, passages=numbered, question=question)),
        ]

    def generate(self, question: str, passages: list[Passage], lang: str) -> str:
        messages = self._messages(question, passages, lang)
        try:
            return str(self.llm.chat(messages).message.content or "")
        except GenerationError:
            raise
        except Exception as exc:
            raise GenerationError(describe_failure(exc, self.name, self.model)) from None

    def stream(self, question: str, passages: list[Passage], lang: str) -> Iterator[str]:
        """The generated text in pieces as the model writes it (unchecked: the caller enforces citations)."""
        messages = self._messages(question, passages, lang)
        try:
            for chunk in self.llm.stream_chat(messages):
                if chunk.delta:
                    yield chunk.delta
        except GenerationError:
            raise
        except Exception as exc:
            raise GenerationError(describe_failure(exc, self.name, self.model)) from None


def describe_failure(exc: Exception, where: str, model: str = "") -> str:
    text = f"{type(exc).__name__}: {exc}"
    if "404" in text and "not found" in text and model:
        return f"The model {model} is not available on {where}; run `ollama pull {model}` there."
    if "ConnectError" in text or "Connection refused" in text or "ConnectionError" in text:
        return f"{where} is not reachable."
    if "Timeout" in text or "timed out" in text:
        return f"{where} did not answer in time."
    return f"{where} failed: {text[:300]}"


def _ollama_preflight(host: str, model: str):
    """Fail within seconds when Ollama is down or the model is not pulled, instead of at the long timeout."""
    checked = {"at": 0.0}

    def check() -> None:
        import httpx

        if time.monotonic() - checked["at"] < 30:
            return
        try:
            tags = httpx.get(f"{host}/api/tags", timeout=5).json()
        except httpx.TimeoutException:
            raise GenerationError(f"Ollama at {host} did not answer within 5 s; is the host right (OLLAMA_HOST)?") from None
        except (httpx.HTTPError, ValueError):
            raise GenerationError(f"Ollama is not reachable at {host}; start it with `ollama serve` or set OLLAMA_HOST.") from None
        names = {m.get("name") for m in tags.get("models", [])} | {m.get("model") for m in tags.get("models", [])}
        if model not in names and f"{model}:latest" not in names:
            raise GenerationError(f"The model {model} is not pulled on the Ollama host {host}; run `ollama pull {model}`.")
        checked["at"] = time.monotonic()

    return check


def make_generator(backend: str, settings: Settings) -> LLMGenerator:
    from index.embedders import normalise_host

    match backend:
        case "ollama":
            from llama_index.llms.ollama import Ollama

            cfg = settings.llm.ollama
            host = normalise_host(cfg.host)
            llm = Ollama(model=cfg.model, base_url=host, request_timeout=cfg.request_timeout_s,
                         keep_alive=cfg.keep_alive, temperature=settings.llm.temperature)
            return LLMGenerator(llm, f"Ollama at {host}", cfg.model, _ollama_preflight(host, cfg.model))
    raise GenerationError(f"Unknown generative backend {backend!r}.")


_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_REFUSAL_HINTS = ("finde ich nichts", "nicht in den artikeln", "keine angaben", "can't find anything",
                  "cannot find anything", "not in the articles", "do not say", "don't say")


def _facts(sentence: str) -> set[str]:
    """Names and numbers in a sentence: what its cited passage must contain."""
    tokens = words(_MARKER.sub("", sentence))
    facts = {t for t in tokens if t.isdigit()}
    facts |= {t for i, t in enumerate(tokens) if i > 0 and t[:1].isupper() and len(t) > 2}
    return facts


def _supported(fact: str, passage: Passage) -> bool:
    if fact.isdigit():
        return re.search(rf"(?<!\d){fact}(?!\d)", passage.text) is not None
    stems = set(content_stems(f"{passage.title} {passage.text}"))
    fs = content_stems(fact)
    return not fs or any(s in stems or any(len(s) >= 4 and (t.startswith(s) or s.startswith(t) and len(t) >= 4) for t in stems) for s in fs)


def enforce_citations(raw: str, passages: list[Passage], lang: str) -> tuple[Draft, list[str]]:
    """Keep only citations that exist and support their sentence; renumber them [1], [2], ... in order.
    Returns the checked draft and what was removed, in words for the notices."""
    problems: list[str] = []
    text = raw.strip()
    if not text or any(h in text.lower() for h in _REFUSAL_HINTS) and not _MARKER.search(text):
        return refusal(lang), (["The model gave no answer."] if not text else [])
    numbers: dict[int, int] = {}
    citations: dict[int, Citation] = {}
    kept_sentences = []
    for sentence in split_sentences(text.replace("\n", " ")):
        cited = [int(n) for m in _MARKER.finditer(sentence) for n in m.group(1).split(",")]
        valid = [n for n in cited if 1 <= n <= len(passages)]
        if len(valid) < len(cited):
            problems.append(f"Removed citation {sorted(set(cited) - set(valid))} that points to no passage.")
        facts = _facts(sentence)
        supported = [n for n in valid if all(_supported(f, passages[n - 1]) for f in facts)]
        if valid and not supported:
            problems.append(f"Dropped a sentence whose cited passage does not contain {', '.join(sorted(facts)) or 'its facts'}.")
            continue
        if not valid and facts:
            problems.append("Dropped a sentence stating facts without a citation.")
            continue
        plain = _MARKER.sub("", sentence).replace(" .", ".").strip()
        marks = ""
        for n in dict.fromkeys(supported):
            if n not in numbers:
                numbers[n] = len(numbers) + 1
                citations[n] = Citation(numbers[n], passages[n - 1], [])
            citations[n].quotes.append(plain)
            marks += f"[{numbers[n]}]"
        if plain:
            kept_sentences.append(_attach(plain, marks))
    if not citations:
        problems.append("The generated answer kept no valid citation.")
        return Draft(REFUSAL[lang], True, []), problems
    return Draft(" ".join(kept_sentences), False, list(citations.values())), problems


def _attach(sentence: str, marks: str) -> str:
    if not marks:
        return sentence
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} {marks}{sentence[-1]}"
    return f"{sentence} {marks}"
