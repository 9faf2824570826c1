"""The local model out of process: llama.cpp's server as a supervised worker, killed mid-answer (SIGKILL,
SIGSEGV) — one line naming the signal, the extractive answer with that notice, the worker started again for
the next question, and after repeated crashes marked unavailable instead of restarted in a loop. And what a
model writes is never shown as an empty answer, nor a claim its passage does not make of a person."""

from __future__ import annotations

import signal

import pytest

from conftest import ScriptedLLM, needs_llamacpp, scripted_assistant, with_settings
from index.retrieve import Passage

QUESTION = [("user", "Wer leitete die Delegation nach Japan? Antworte kurz.")]


@pytest.fixture
def smoke_model(tmp_path):
    from assistant.llms import make_model
    from settings import load_settings

    model = make_model("llamacpp", load_settings(env={}, data_dir=str(tmp_path), llm={"llamacpp": {"max_tokens": 48}}))
    yield model, model.explain.__self__  # the Model and its Worker
    model.explain.__self__.stop()


@needs_llamacpp
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_a_worker_killed_mid_answer_is_one_line_and_the_next_question_starts_it_again(smoke_model, sig):
    from assistant.llms import GenerationError

    model, worker = smoke_model
    pieces = model.stream(QUESTION)
    next(pieces)  # it is answering
    first = worker.process.pid
    worker.process.send_signal(sig)
    with pytest.raises(GenerationError) as failed:
        list(pieces)
    message = str(failed.value)
    assert f"stopped with {sig.name}" in message and "started again for the next question" in message
    assert "\n" not in message and ("AMX" in message) == (sig == signal.SIGSEGV)
    assert isinstance(model.chat(QUESTION), str) and worker.process.pid != first  # a new worker answered
    assert worker.state()["backend_reachable"] is True


@needs_llamacpp
def test_repeated_crashes_mark_the_backend_unavailable_instead_of_a_crash_loop(smoke_model):
    from assistant.llms import GenerationError

    model, worker = smoke_model
    for _ in range(3):
        model.chat(QUESTION)
        worker.process.kill()
        worker.process.wait()
        assert worker.crashed()
    with pytest.raises(GenerationError, match="crashed 3 times in 10 minutes and is not started again"):
        model.chat(QUESTION)
    assert worker.process is None and worker.state()["backend_reachable"] is False


@needs_llamacpp
def test_the_assistant_answers_extractively_when_the_worker_dies_and_health_says_so(sample_ws):
    from assistant.service import Assistant

    assistant = Assistant(with_settings(sample_ws, llm={"backend": "llamacpp", "llamacpp": {"max_tokens": 48}}))
    assistant.answer("Wer leitete die Delegation nach Japan?", backend="llamacpp")  # starts the worker
    worker = assistant.answerers["llamacpp"].model._model.explain.__self__
    try:
        worker.process.send_signal(signal.SIGSEGV)
        worker.process.wait()
        answer = assistant.answer("Wer leitete die Delegation nach Japan?", backend="llamacpp")
        assert answer.generation == "fallback_backend_failed" and "Uwe Albrecht" in answer.answer
        assert "stopped with SIGSEGV" in answer.notices[0]
        worker.crashes += [worker.crashes[-1]] * 2  # two more crashes in the window
        assert assistant.status(check_backend=False)["backend_reachable"] is False
    finally:
        worker.stop()


@pytest.mark.parametrize("reply", ["", "[1]", "[1] [2].", "Hier ist die Antwort:", "   "])
def test_a_generated_answer_that_keeps_nothing_is_never_an_empty_answer(sample_ws, reply):
    for fallback in (True, False):
        assistant = scripted_assistant(sample_ws, ScriptedLLM(reply, reply), fallback=fallback)
        answer = assistant.answer("Wer leitete die Wirtschaftsdelegation nach Japan?", backend="ollama")
        assert answer.answer.strip() and (answer.refused or answer.citations)
        if fallback:
            assert answer.generation.startswith("fallback_") and "Uwe Albrecht" in answer.answer
        events = list(assistant.stream("Wer leitete die Wirtschaftsdelegation nach Japan?", backend="ollama"))
        final = events[-1]["answer"]
        assert final["answer"].strip() and (final["refused"] or final["citations"])


RUHR = Passage("r#2", "r", "Building Innovation Bridges", None, "r.txt",
               "„Duisburg ist der Anfangs- und Endpunkt der Seidenstraße“, sagt Andree Haack, Beigeordneter für Wirtschaft "
               "der Stadt Duisburg. Anlässlich der Greater China Xceleration Days in Shenzhen unterzeichneten Rasmus C. Beck "
               "und Jens Hildebrandt die Kooperationsvereinbarung.", 1.0)
JAPAN = Passage("j#0", "j", "Japan", None, "j.txt", "Die von Wirtschaftsbürgermeister Uwe Albrecht geleitete "
                "Wirtschaftsdelegation besuchte Tokio und Kobe. Weitere Teilnehmer waren Dr. Randy Kurz und Roy Richter.", 1.0)


@pytest.mark.parametrize("claim", [
    "Andree Haack leitete die Wirtschaftsdelegation nach Shenzhen [1].",  # quoted in the passage, led nothing
    "Andree Haack unterzeichnete die Kooperationsvereinbarung [1].",
    "Jens Hildebrandt leitete die Delegation nach Shenzhen [1].",
    "Roy Richter leitete die Wirtschaftsdelegation nach Japan [2].",  # came along, did not lead
    "Randy Kurz unterzeichnete in Kobe einen Vertrag [2].",
])
def test_a_claim_its_passage_does_not_make_of_that_person_is_dropped(claim):
    from assistant.citations import enforce_citations

    draft, problems = enforce_citations(claim, [RUHR, JAPAN], "de")
    assert draft.refused and any("does not say of that person" in p or "does not contain" in p for p in problems)


@pytest.mark.parametrize("claim", [
    "Rasmus C. Beck und Jens Hildebrandt unterzeichneten die Kooperationsvereinbarung [1].",
    "Uwe Albrecht leitete die Wirtschaftsdelegation [2].",
    "Roy Richter war einer der Teilnehmer [2].",
])
def test_a_claim_its_passage_makes_is_kept(claim):
    from assistant.citations import enforce_citations

    draft, problems = enforce_citations(claim, [RUHR, JAPAN], "de")
    assert not draft.refused and not problems


# What Qwen2.5-Coder-1.5B-Instruct wrote in the measured run (docs/eval/local-model.md), and what reaches the user.
CAPTION = Passage("b#5", "b", "Berlin in den USA", "2024-12", "b.txt",
                  "Führend aber ist Boston, die Stadt gilt als wichtigster Life-Science-Standort weltweit. Auch die Lars "
                  "Mölbitz, IHK-Key-Account- Manager Industrie und Gesundheitswirtschaft Tel.: 030 / 315 10-439 Die "
                  "Delegation im City College of New York, mit dabei waren Wissenschaftsstaatssekretär Henry Marx, "
                  "IHK-Präsident Sebastian Stietzel und Kai Wegner, Regierender Bürgermeister von Berlin (vorn, v. l.) "
                  "Berliner Preisträgerin Lara Obst von Climate- Choice (Foto) hat den Green Start-up Slam auf dem GTF "
                  "Connect Los Angeles gewonnen und damit den Preis nach Berlin geholt.", 1.0)
BRIDGES = Passage("r#0", "r", "Building Innovation Bridges", None, "r.txt",
                  "Mit dieser Zielsetzung fanden im November und Dezember zwei Delegationsreisen nach Israel und China "
                  "statt. Die Innovation Bridge China der Business Metropole Ruhr GmbH (BMR) verbindet das Ruhrgebiet mit "
                  "Chinas Technologiemetropolen. Vorbild ist die erfolgreiche Innovation Bridge Israel. Anlässlich der "
                  "Greater China Xceleration Days in Shenzhen unterzeichneten Rasmus C. Beck, Geschäftsführer der Business "
                  "Metropole Ruhr GmbH, und Jens Hildebrandt, Geschäftsführer der Deutschen Handelskammer in China, die "
                  "Kooperationsvereinbarung.", 1.0)
TEL_AVIV = Passage("r#5", "r", "Building Innovation Bridges", None, "r.txt",
                   "Vom 25. bis zum 28. November 2019 präsentierten sich dort Unternehmen aus der Metropole Ruhr auf der "
                   "Messe \"Digital. Health. Now.\" mit einem Stand.", 1.0)


@pytest.mark.parametrize("raw, shown", [
    ("Uwe Albrecht leitete die Wirtschaftsdelegation nach Japan.\n\nNummer der Textstelle: [2]",
     "Uwe Albrecht leitete die Wirtschaftsdelegation nach Japan [1]."),  # the marker on a line of its own
    ("Die Delegation besuchte Tokio und Kobe. Nummeren der Textstellen: [2], [1]", "Die Delegation besuchte Tokio und Kobe [1]."),
    ("[2] Tokio\n[2] Kobe", "Tokio [1]. Kobe [1]."),  # a list, the marker first
    ("[1] Boston\n[1] Boston\n[2] Boston", "Boston [1]."),  # the same line again and again
])
def test_the_forms_the_small_model_writes_become_cited_sentences(raw, shown):
    from assistant.citations import enforce_citations

    draft, _ = enforce_citations(raw, [CAPTION, JAPAN], "de")
    assert draft.text == shown and not draft.refused


@pytest.mark.parametrize("raw, why", [
    ("The Green Start-up Slam in Los Angeles was won by the Lars Mölbitz delegation from Berlin [1].", "of that person"),
    ("Kai Wegner hat den Green Start-up Slam gewonnen [1].", "of that person"),
    ("Mit Jens Hildebrandt, Geschäftsführer der Deutschen Handelskammer in China, richtete die Business Metropole "
     "Ruhr die Delegationsreise nach Israel aus [2].", "only in unrelated sentences"),
    ("Rasmus C. Beck unterzeichnete die Vereinbarung in Israel [2].", "of that person"),  # signed in Shenzhen
])
def test_fabrications_the_small_model_wrote_do_not_reach_the_user(raw, why):
    from assistant.citations import enforce_citations

    draft, problems = enforce_citations(raw, [CAPTION, BRIDGES], "de")
    assert draft.refused and any(why in p for p in problems), problems


def test_the_winner_and_the_signers_themselves_are_kept():
    from assistant.citations import enforce_citations

    raw = ("Lara Obst hat den Green Start-up Slam gewonnen [1]. Rasmus C. Beck und Jens Hildebrandt unterzeichneten "
           "die Kooperationsvereinbarung in Shenzhen [2].")
    draft, problems = enforce_citations(raw, [CAPTION, BRIDGES], "de")
    assert not problems and draft.text.count("[") == 2


def test_a_sentence_only_restating_the_question_is_dropped():
    from assistant.citations import enforce_citations

    question = "Auf welcher Messe in Tel Aviv hatten Unternehmen aus der Metropole Ruhr einen Stand?"
    draft, problems = enforce_citations("In Tel Aviv hatten Unternehmen aus der Metropole Ruhr einen Stand [1].",
                                        [TEL_AVIV], "de", question)
    assert draft.refused and any("restating the question" in p for p in problems)
    draft, problems = enforce_citations('Auf der Messe "Digital. Health. Now." hatten sie einen Stand [1].', [TEL_AVIV], "de", question)
    assert not draft.refused and not problems


def test_a_question_in_the_answer_is_dropped():
    # measured: "Das Tokioter Konzert … am 13. November war der Höhepunkt der Reise nach Japan [1]. Frage: Wann war das [1]?"
    from assistant.citations import enforce_citations

    reply = "Uwe Albrecht leitete die Delegation [1]. Frage: Wann war das [1]? Meinen Sie die Reise nach Kobe [1]?"
    draft, problems = enforce_citations(reply, [JAPAN], "de", "Wann war das? (Wer leitete die Delegation nach Japan?)")
    assert draft.text.startswith("Uwe Albrecht leitete die Delegation") and "Frage" not in draft.text and "?" not in draft.text
    assert any("Dropped 2 sentences only restating the question" in p for p in problems)


# Measured: for "when" the model copied the sentence beside the one with the date; for "how many" (on XQuAD:
# "Wie viele öffentliche Charterschulen betreibt die Universität?") it answered with a sentence naming no
# number, and its citation "[1]" was taken for one.
WITHOUT_WHAT_WAS_ASKED = [
    ("Wann fand das Konzert des Gewandhausorchesters in Tokio statt?",
     "Dazu fanden Gespräche mit großen Unternehmen aus der Automobil- und Zulieferindustrie in der "
     "Wirtschaftsregion Toyohashi sowie in Tokio statt [1].", "13. November", "names no date", "Toyohashi"),
    ("Wie viele Gäste kamen zum Empfang der Stadt Leipzig in Tokio?",
     "Der Empfang bot vielfältige Gelegenheit, die Kontakte zu den wichtigsten Wirtschaftspartnern Leipzig zu "
     "vertiefen [1].", "50", "names no number", "Gelegenheit"),
]


@pytest.mark.parametrize("fallback", [True, False])
@pytest.mark.parametrize("question, reply, extractive_holds, notice, never_shown", WITHOUT_WHAT_WAS_ASKED,
                         ids=["when-without-date", "how-many-without-number"])
def test_an_answer_without_what_was_asked_is_not_the_models_answer(sample_ws, fallback, question, reply,
                                                                     extractive_holds, notice, never_shown):
    assistant = scripted_assistant(sample_ws, ScriptedLLM(reply, reply), fallback=fallback)
    answer = assistant.answer(question, backend="ollama")
    events = list(assistant.stream(question, backend="ollama"))
    if fallback:
        assert answer.generation == "fallback_unanswered" and extractive_holds in answer.answer
    else:
        assert answer.generation == "unanswered" and answer.refused and not answer.citations
    assert any(notice in n for n in answer.notices)
    assert not any(never_shown in e.get("text", "") for e in events)  # never streamed, then taken back
    assert events[-1]["answer"]["generation"] == answer.generation


ESSEN = Passage("r#1", "r", "Building Innovation Bridges", None, "r.txt",
                "Die Delegationsreise wurde in Kooperation mit der EWG und der AHK Israel ausgerichtet. Teilnehmer der "
                "Reise waren unter anderem Vertreter der Universitätsmedizin Essen sowie die Essener Start-ups dubidoc "
                "und Scayan.", 1.0)


@pytest.mark.parametrize("raw, kept", [
    # measured: a name opening the sentence was not checked, so Scayan was put on the China trip of passage 2
    ("Scayan took part in the delegation trip to China [2].", False),
    ("Scayan took part in the delegation trip [1].", True),
    ("During the trip, dubidoc and Scayan took part [1].", True),  # an English opening word is no name
])
def test_a_name_opening_a_sentence_must_be_in_its_passage(raw, kept):
    from assistant.citations import enforce_citations

    draft, problems = enforce_citations(raw, [ESSEN, BRIDGES], "en")
    assert draft.refused != kept, problems

