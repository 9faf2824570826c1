"""The extractor the settings choose (`trips.extractor`, `--trips`): one match, the model handed in by the caller."""

from __future__ import annotations

from trips.llm import LLMExtractor
from trips.reader import AnnotationReader
from trips.rules import RuleExtractor


class ExtractorError(Exception):
    """The extractor cannot be used as configured; the message says what to do."""


def make_extractor(kind: str, model=None):
    """`model`: for llm, anything with `chat_json(messages, schema)` (the CLI makes it from the settings)."""
    match kind:
        case "reader":
            return AnnotationReader()
        case "rules":
            return RuleExtractor()
        case "llm":
            if model is None:
                raise ExtractorError("The llm trip extractor needs a generative backend: set trips.backend or llm.backend "
                                     "to ollama, llamacpp or openai.")
            return LLMExtractor(model)
    raise ExtractorError(f"Unknown trip extractor {kind!r}; choose reader, rules or llm.")
