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
from functools import lru_cache

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
    missing_model_hint: str = ""  # what to do when the server says the model does not exist

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
        return self._chat(self._messages(question, passages, lang))

    def condense(self, question: str, history: list[tuple[str, str]], lang: str) -> str:
        """The follow-up as a standalone question, written by the model from the conversation so far
        (role, text pairs); it may name what only an earlier answer said. Empty when the model gave nothing usable."""
        from llama_index.core.llms import ChatMessage

        if self.preflight:
            self.preflight()
        said = "\n".join(f"{'Nutzer' if lang == 'de' else 'User'}: {text}" if role == "user" else
                         f"{'Assistent' if lang == 'de' else 'Assistant'}: {text}" for role, text in history[-6:])
        prompt = render("condense", lang, history=said, question=question)
        reply = self._chat([ChatMessage(role="user", content=prompt)]).strip().strip('"').strip()
        line = reply.splitlines()[0].strip() if reply else ""
        return line if 3 <= len(line) <= 500 else ""

    def _chat(self, messages) -> str:
        try:
            return str(self.llm.chat(messages).message.content or "")
        except GenerationError:
            raise
        except Exception as exc:
            raise GenerationError(describe_failure(exc, self.name, self.model, self.missing_model_hint)) from None

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
            raise GenerationError(describe_failure(exc, self.name, self.model, self.missing_model_hint)) from None


def describe_failure(exc: Exception, where: str, model: str = "", missing_model_hint: str = "") -> str:
    """One line for a failed model call: unreachable, timed out, model missing, or what the server said."""
    text = f"{type(exc).__name__}: {exc}"
    if "404" in text and "not found" in text.lower() and model:
        return f"The model {model} is not available on {where}; {missing_model_hint or 'check the model name'}."
    if any(k in text for k in ("ConnectError", "Connection refused", "ConnectionError", "Connection error")):
        return f"{where} is not reachable."
    if "Timeout" in text or "timed out" in text:
        return f"{where} did not answer in time."
    return f"{where} failed: {text[:300]}"


def _once_per(seconds: float, check):
    """Run a server check at most once per `seconds` while it succeeds (a failure is checked again next time)."""
    state = {"at": -seconds}

    def run() -> None:
        if time.monotonic() - state["at"] < seconds:
            return
        check()
        state["at"] = time.monotonic()

    return run


def _ollama_preflight(host: str, model: str):
    """Fail within seconds when Ollama is down or the model is not pulled, instead of at the long timeout."""

    def check() -> None:
        import httpx

        try:
            reply = httpx.get(f"{host}/api/tags", timeout=5)
        except httpx.TimeoutException:
            raise GenerationError(f"Ollama at {host} did not answer within 5 s; is the host right (OLLAMA_HOST)?") from None
        except httpx.HTTPError:
            raise GenerationError(f"Ollama is not reachable at {host}; start it with `ollama serve` or set OLLAMA_HOST.") from None
        try:
            tags = reply.json()
        except ValueError:
            tags = None
        if not isinstance(tags, dict) or not isinstance(tags.get("models", []), list):
            raise GenerationError(f"{host} answered /api/tags (HTTP {reply.status_code}) with something that is not Ollama's JSON; is OLLAMA_HOST right?")
        names = {m.get("name") for m in tags.get("models", [])} | {m.get("model") for m in tags.get("models", [])}
        if model not in names and f"{model}:latest" not in names:
            raise GenerationError(f"The model {model} is not pulled on the Ollama host {host}; run `ollama pull {model}`.")

    return _once_per(30, check)


def _openai_preflight(base_url: str, model: str, api_key: str):
    """The server answers /models and serves the model, checked in seconds before a long generation."""

    def check() -> None:
        import httpx

        if not model:
            raise GenerationError("No model is set for the openai backend; set llm.openai.model or DELEGATIONS_OPENAI_MODEL.")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            reply = httpx.get(f"{base_url}/models", timeout=5, headers=headers)
        except httpx.TimeoutException:
            raise GenerationError(f"The OpenAI-compatible server at {base_url} did not answer within 5 s.") from None
        except httpx.HTTPError:
            raise GenerationError(f"The OpenAI-compatible server at {base_url} is not reachable; check llm.openai.base_url.") from None
        if reply.status_code in (401, 403):
            raise GenerationError(f"The server at {base_url} refused the API key (HTTP {reply.status_code}); set DELEGATIONS_OPENAI_API_KEY.")
        try:
            listed = reply.raise_for_status().json()["data"]
            served = {m["id"] for m in listed}
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            raise GenerationError(f"{base_url}/models did not answer in the OpenAI format (HTTP {reply.status_code}); is the base URL right (it ends in /v1)?") from None
        if served and model not in served:
            raise GenerationError(f"The server at {base_url} does not serve the model {model}; it serves {', '.join(sorted(served))}.")

    return _once_per(30, check)


def make_generator(backend: str, settings: Settings) -> LLMGenerator:
    from index.embedders import normalise_host

    match backend:
        case "ollama":
            from llama_index.llms.ollama import Ollama

            cfg = settings.llm.ollama
            host = normalise_host(cfg.host)
            llm = Ollama(model=cfg.model, base_url=host, request_timeout=cfg.request_timeout_s,
                         keep_alive=cfg.keep_alive, temperature=settings.llm.temperature)
            return LLMGenerator(llm, f"Ollama at {host}", cfg.model, _ollama_preflight(host, cfg.model),
                                f"run `ollama pull {cfg.model}` there")
        case "openai":
            from llama_index.llms.openai_like import OpenAILike

            cfg = settings.llm.openai
            base = cfg.base_url.rstrip("/")
            llm = OpenAILike(model=cfg.model or "unset", api_base=base, api_key=cfg.api_key or "none",
                             is_chat_model=True, timeout=cfg.request_timeout_s, max_retries=0,
                             context_window=cfg.context_window, temperature=settings.llm.temperature)
            return LLMGenerator(llm, f"the OpenAI-compatible server at {base}", cfg.model,
                                _openai_preflight(base, cfg.model, cfg.api_key), f"{base}/models lists the served ones")
        case "llamacpp":
            from assistant.llamacpp import LlamaCppChat

            llm = LlamaCppChat.load(settings.llm.llamacpp, settings.llm.temperature)
            return LLMGenerator(llm, f"llama.cpp ({llm.model_name})", llm.model_name)
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
    # German compounds: "Delegation" is supported by "Wirtschaftsdelegation", "Japanreise" by "Japan"
    return not fs or any(s in stems or any(len(s) >= 4 and (s in t or t.startswith(s) or s.startswith(t) and len(t) >= 4)
                                           for t in stems) for s in fs)


def enforce_citations(raw: str, passages: list[Passage], lang: str) -> tuple[Draft, list[str]]:
    """Keep only citations that exist and support their sentence; renumber them [1], [2], ... in order.
    Returns the checked draft and what was removed, in words for the notices."""
    text = raw.strip()
    if not text or any(h in text.lower() for h in _REFUSAL_HINTS) and not _MARKER.search(text):
        return refusal(lang), (["The model gave no answer."] if not text else [])
    nowhere: set[int] = set()  # cited numbers that point to no passage
    echoed = 0  # sentences repeating our instructions (a passage told the model to reveal them)
    unsupported: list[set[str]] = []  # facts of sentences whose cited passages do not contain them
    uncited = 0  # sentences stating facts without any citation
    numbers: dict[int, int] = {}
    citations: dict[int, Citation] = {}
    kept_sentences = []
    for sentence in split_sentences(text.replace("\n", " ")):
        if _echoes_instructions(sentence):
            echoed += 1
            continue
        cited = [int(n) for m in _MARKER.finditer(sentence) for n in m.group(1).split(",")]
        valid = [n for n in cited if 1 <= n <= len(passages)]
        nowhere |= set(cited) - set(valid)
        facts = _facts(sentence)
        supported = [n for n in valid if all(_supported(f, passages[n - 1]) for f in facts)]
        if valid and not supported:
            unsupported.append({f for f in facts if not any(_supported(f, passages[n - 1]) for n in valid)})
            continue
        if not valid and facts:
            uncited += 1
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
    problems = []
    if nowhere:
        problems.append(f"Removed citation{'s' if len(nowhere) > 1 else ''} {', '.join(f'[{n}]' for n in sorted(nowhere))}: "
                        f"the answer had only {len(passages)} passage{'s' if len(passages) != 1 else ''}.")
    if unsupported:
        missing = sorted(set().union(*unsupported))[:8]
        problems.append(f"Dropped {len(unsupported)} sentence{'s' if len(unsupported) > 1 else ''} whose cited passage "
                        f"does not contain {', '.join(missing) or 'its facts'}.")
    if echoed:
        problems.append(f"Dropped {echoed} sentence{'s' if echoed > 1 else ''} repeating the assistant's instructions.")
    if uncited:
        problems.append(f"Dropped {uncited} sentence{'s' if uncited > 1 else ''} stating facts without a citation.")
    if not citations:
        problems.append("The generated answer kept no valid citation.")
        return Draft(REFUSAL[lang], True, []), problems
    return Draft(" ".join(kept_sentences), False, list(citations.values())), problems


_ECHO_WORDS = 6  # this many words in a row from a prompt is a quotation of it, not a coincidence


@lru_cache(maxsize=1)
def _instruction_shingles() -> frozenset[tuple[str, ...]]:
    """Every run of _ECHO_WORDS words in the system and answer prompts, German and English."""
    from prompts import template

    runs = set()
    for name in ("system", "answer", "condense"):
        for lang in ("de", "en"):
            tokens = [w.lower() for w in words(re.sub(r"\$\w+", " ", template(name, lang).template))]
            runs |= {tuple(tokens[i:i + _ECHO_WORDS]) for i in range(len(tokens) - _ECHO_WORDS + 1)}
    return frozenset(runs)


def _echoes_instructions(sentence: str) -> bool:
    tokens = [w.lower() for w in words(_MARKER.sub(" ", sentence))]
    shingles = _instruction_shingles()
    return any(tuple(tokens[i:i + _ECHO_WORDS]) in shingles for i in range(len(tokens) - _ECHO_WORDS + 1))


def _attach(sentence: str, marks: str) -> str:
    if not marks:
        return sentence
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} {marks}{sentence[-1]}"
    return f"{sentence} {marks}"
