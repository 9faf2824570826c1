"""Prompt texts as files with named $variables, in German and English; `render` fills and checks them."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from string import Template

_DIR = Path(__file__).parent


class PromptError(Exception):
    pass


@lru_cache(maxsize=None)
def template(name: str, lang: str) -> Template:
    path = _DIR / f"{name}_{lang}.txt"
    if not path.is_file():
        path = _DIR / f"{name}_de.txt"
    return Template(path.read_text(encoding="utf-8"))


def variables(name: str, lang: str) -> set[str]:
    return set(re.findall(r"\$(\w+)", template(name, lang).template))


def render(name: str, lang: str, **values: str) -> str:
    """The prompt with every variable filled; missing or unknown variables are an error, not a blank."""
    wanted = variables(name, lang)
    if wanted != set(values):
        raise PromptError(f"Prompt {name}_{lang} takes {sorted(wanted)}, got {sorted(values)}.")
    return template(name, lang).substitute(values)
