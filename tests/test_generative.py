"""Prompting and citation enforcement with the scripted fake model, which records what it was asked."""

import pytest

from assistant.citations import enforce_citations
from conftest import ScriptedLLM
from index.retrieve import Passage
from prompts import PromptError, render, variables

PASSAGES = [
    Passage("a#0", "a", "Japanreise", None, "a.txt", "Die Delegation unter Uwe Albrecht besuchte Tokio und Kobe.", 0.9),
    Passage("b#0", "b", "USA", "2024-12", "b.txt", "Kai Wegner reiste nach New York und Boston.", 0.8),
    Passage("c#0", "c", "Israel", "2019-08", "c.txt", "Westhagemann traf 70 Vertreter in Tel Aviv.", 0.7),
]


def test_prompts_render_with_exactly_their_variables():
    for lang in ("de", "en"):
        assert variables("answer", lang) == {"passages", "question"}
        assert variables("condense", lang) == {"history", "question"}
        assert "[1]" in render("answer", lang, passages="[1] x", question="Wer?")
    with pytest.raises(PromptError):
        render("answer", "de", question="Wer?")


def test_generator_sends_numbered_passages_and_the_question():
    from assistant.generated import messages
    from assistant.llms import Model

    llm = ScriptedLLM("Uwe Albrecht leitete die Reise [1].")
    assert Model(llm, "fake").chat(messages("Wer leitete die Reise?", PASSAGES, "de")) == "Uwe Albrecht leitete die Reise [1]."
    sent = "\n".join(text for _, text in llm.history[0])
    assert "[1] Die Delegation unter Uwe Albrecht" in sent and "[3] (2019-08) Westhagemann traf" in sent
    assert "Wer leitete die Reise?" in sent


def test_citation_to_a_missing_passage_is_removed():
    draft, problems = enforce_citations("Uwe Albrecht leitete die Delegation nach Tokio [1][7].", PASSAGES, "de")
    assert draft.text == "Uwe Albrecht leitete die Delegation nach Tokio [1]." and [c.n for c in draft.citations] == [1]
    assert any("[7]" in p for p in problems)


def test_citation_that_does_not_support_the_sentence_is_dropped_and_numbers_are_renumbered():
    raw = "Kai Wegner reiste nach Boston [2]. Westhagemann besuchte Kobe [3]."
    draft, problems = enforce_citations(raw, PASSAGES, "de")
    assert draft.text == "Kai Wegner reiste nach Boston [1]."
    assert draft.citations[0].passage.doc_id == "b" and problems


def test_answer_without_any_citation_is_marked_refused():
    draft, problems = enforce_citations("Die Delegation war sehr erfolgreich in Japan.", PASSAGES, "de")
    assert draft.refused and not draft.citations and problems


def test_model_refusal_is_kept_as_refusal():
    draft, _ = enforce_citations("Dazu finde ich nichts in den Artikeln.", PASSAGES, "de")
    assert draft.refused and draft.text == "Dazu finde ich nichts in den Artikeln."


def test_a_generated_sentence_is_not_cut_at_an_initial_or_an_abbreviation():
    from assistant.citations import complete_part, sentences_with_markers

    text = "Der Artikel stammt von Michael E. Mann und Dr. Raymond S. Bradley [1]. Er erschien am 13. November [2]. Neu"
    assert sentences_with_markers(text) == ["Der Artikel stammt von Michael E. Mann und Dr. Raymond S. Bradley [1]. ",
                                            "Er erschien am 13. November [2]. ", "Neu"]
    assert complete_part("Der Artikel stammt von Michael E. Mann") == ""  # not a finished sentence yet, to check
    assert complete_part("Der Artikel stammt von Mann [1]. Er erschien") == "Der Artikel stammt von Mann [1]."
