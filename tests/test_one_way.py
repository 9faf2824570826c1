"""One way from a question to its answer: a question's walk through `Assistant.answer` goes down through the
modules without climbing back into one it already left (no callbacks into the service, no answerer asking
another answerer), and the router picks the strategy from the analysis for every delivery."""

import os
import sys
from pathlib import Path

import pytest

from conftest import ScriptedLLM, scripted_assistant

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant", "index", "trips", "ingest")


def _module(frame) -> str | None:
    path = frame.f_code.co_filename
    if not path.startswith(str(ROOT)) or "/.venv/" in path or "/site-packages/" in path:
        return None
    rel = os.path.relpath(path, ROOT)
    return rel[:-3].replace("/", ".") if rel.startswith(PACKAGES) and rel.endswith(".py") else None


def climbs_back(call) -> list[str]:
    """The module paths where a call enters a module that is already on the stack below another one (A > B > A):
    the walk climbed back up."""
    stack: list[str | None] = []
    climbs: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            module = _module(frame)
            below = [m for m in stack if m]
            path = [m for i, m in enumerate(below) if i == 0 or below[i - 1] != m]
            if module and path and path[-1] != module and module in path:
                climbs.add(" > ".join(path[path.index(module):] + [module]))
            stack.append(module)
        elif event == "return" and stack:
            stack.pop()

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return sorted(climbs)


def test_the_tracer_sees_a_climb_back():
    """The check itself: the evidence check calling back into a function of the service is a climb back."""
    from assistant import service
    from assistant.evidence import gather
    from assistant.question import analyse
    from index.retrieve import Passage

    def article(doc_id):
        return None

    def ask():
        return gather(analyse("Wer leitete die Delegation?"), [passage], article)

    for f in (article, ask):  # as if both were written in assistant/service.py
        f.__code__ = f.__code__.replace(co_filename=service.__file__)
    passage = Passage("a#0", "a", "T", None, "a.txt", "Eva Kron leitete die Delegation.", 1.0)
    assert "assistant.service > assistant.evidence > assistant.service" in climbs_back(ask)


@pytest.mark.parametrize("question", [
    "Welche Delegationen reisten nach Israel?",  # the register
    "Wer leitete die Hamburger Delegation nach Israel?",  # passages, with the register's quotes
    "Wann reiste die Berliner Delegation nach Boston?",  # extractive
    "Welches Hotel buchte die Delegation in Tokio?",  # refused: the articles do not say
    "Who accompanied the mayor to Japan?",  # English
    "Was sagte der Papst in Nordkorea?",  # refused: no article names it
])
def test_an_extractive_walk_never_climbs_back(assistant, question):
    assistant.answer(question)  # the first answer loads what reading needs
    assert climbs_back(lambda: assistant.answer(question)) == []


def test_a_follow_up_and_a_stream_never_climb_back(assistant):
    from assistant.answerer import Turn

    history = [Turn("user", "Wer leitete die Hamburger Delegation nach Israel?"), Turn("assistant", "Melanie Leonhard [1].")]
    assistant.answer("Wen traf sie dort?", history)
    assert climbs_back(lambda: assistant.answer("Wen traf sie dort?", history)) == []
    assert climbs_back(lambda: list(assistant.stream("Welche Städte besuchte die Berliner Delegation?"))) == []


def test_a_generated_walk_never_climbs_back(sample_ws):
    question = "Welche Städte besuchte die Delegation in Japan?"
    llm = ScriptedLLM(*["Die Delegation besuchte Tokio [1]."] * 6)
    generating = scripted_assistant(sample_ws, llm)
    generating.answer(question, backend="ollama")
    assert climbs_back(lambda: generating.answer(question, backend="ollama")) == []
    assert climbs_back(lambda: list(generating.stream(question, backend="ollama"))) == []
    assert len(llm.history) == 3  # the model was asked each time: the walks went through it


def test_the_router_picks_the_strategy_from_the_analysis(assistant):
    from assistant.extractive import ExtractiveAnswerer
    from assistant.router import Refusal
    from assistant.trip_answers import RegisterAnswerer
    from index.retrieve import Filters

    def picked(question, **kw):
        return type(assistant.strategy(assistant.prepare(question, **kw)))

    assert picked("Welche Delegationen reisten nach Israel?") is RegisterAnswerer
    assert picked("Welche Delegationen reisten nach Israel?", filters=Filters()) is RegisterAnswerer  # empty: none
    assert picked("Welche Delegationen reisten nach Israel?", filters=Filters(date_from="2019-01-01")) is RegisterAnswerer
    assert picked("Wann reiste die Berliner Delegation nach Boston?") is ExtractiveAnswerer
    assert picked("Was sagte der Papst in Nordkorea?") is Refusal
    assert picked("Welches Hotel buchte die Delegation in Tokio?") is Refusal


def test_an_empty_index_is_routed_to_its_own_answer(tmp_path):
    from assistant.router import EmptyIndex
    from assistant.service import Assistant
    from conftest import make_workspace

    empty = Assistant(make_workspace(tmp_path))
    for question in ("Welche Delegationen reisten nach Israel?", "Wer leitete die Delegation nach Tokio?"):
        assert type(empty.strategy(empty.prepare(question))) is EmptyIndex
