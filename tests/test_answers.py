"""Cited extractive answers and refusals on the sample corpus (real embedder, real Chroma)."""

import re

from assistant.service import Turn


def test_japan_leader_is_named_and_cited(assistant):
    answer = assistant.answer("Wer leitete die Wirtschaftsdelegation nach Japan?")
    assert not answer.refused and "Uwe Albrecht" in answer.answer
    assert any("Uwe Albrecht" in c.passage.text for c in answer.citations)


def test_markers_map_to_returned_citations_numbered_from_one(assistant):
    answer = assistant.answer("Welche Städte besuchte die Berliner Delegation in den USA?")
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert markers and sorted(set(markers)) == [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert all(c.passage in answer.contexts for c in answer.citations)
    for name in ("New York", "Boston", "Los Angeles"):
        assert name in answer.answer


def test_trip_the_corpus_does_not_have_is_refused(assistant):
    answer = assistant.answer("Wer reiste mit der Leipziger Delegation nach Brasilien?")
    assert answer.refused and answer.answer.startswith("Dazu finde ich nichts in den Artikeln.")
    assert answer.citations == [] and answer.contexts  # what was looked at is still shown


def test_english_question_gets_english_refusal(assistant):
    answer = assistant.answer("Who led the Frankfurt business delegation to Singapore?")
    assert answer.refused and answer.answer.startswith("I can't find anything")


def test_follow_up_stays_with_the_trip_asked_about(assistant):
    first = assistant.answer("Wer leitete die Wirtschaftsdelegation nach Japan?")
    history = [Turn("user", first.question), Turn("assistant", first.answer)]
    answer = assistant.answer("Und wer war noch dabei?", history=history)
    assert answer.contexts[0].doc_id == "leipzig-japan"
    assert "Roy Richter" in answer.answer and "Japan" in answer.standalone_question


def test_filters_restrict_articles_and_dates(assistant):
    from index.retrieve import Filters

    only = assistant.answer("Wer reiste?", filters=Filters(doc_ids=["leipzig-japan"]))
    assert {p.doc_id for p in only.contexts} == {"leipzig-japan"}
    dated = assistant.answer("Welche Delegation reiste?", filters=Filters(date_from="2024-01-01"))
    assert {p.doc_id for p in dated.contexts} == {"berlin-senat-usa-2024"}


def test_the_relation_asked_about_is_what_the_question_asks():
    from assistant.question import analyse

    assert analyse("Wer begleitete Verteidigungsminister Guttenberg?").predicate_concepts == {"participate"}
    assert analyse("Wen traf Bundespräsident Gauck?").predicate_concepts == {"meet"}
    assert analyse("Welche japanischen Städte besuchte die Leipziger Delegation?").predicate_concepts == {"visit"}
    assert analyse("Who headed Leipzig's trade mission to Japan?").predicate_concepts == {"lead"}
    assert [t.word for t in analyse("Who headed Leipzig's trade mission?").critical] == ["Leipzig"]
    assert analyse("Was war der Höhepunkt der Reise?").predicate is None  # an auxiliary asks about nothing
    assert analyse("Welche Delegationen reisten nach Israel?").predicate is None  # every article is about a trip


def test_who_question_wants_a_person_it_does_not_already_name():
    from assistant.places import places_in
    from assistant.question import analyse, answer_type_present

    q = analyse("Wer begleitete Verteidigungsminister Guttenberg nach Afghanistan?")
    restated = "Verteidigungsminister Guttenberg besuchte die Truppen in Afghanistan."
    answering = "Begleitet wurde Guttenberg von den Ministerpräsidenten David McAllister und Wolfgang Böhmer."
    assert not answer_type_present("who", restated, places_in(restated), q)
    assert answer_type_present("who", answering, places_in(answering), q)


def test_english_question_about_who_led_quotes_the_leader(assistant):
    answer = assistant.answer("Who headed Leipzig's trade mission to Japan?")
    assert not answer.refused and "Albrecht" in answer.answer


def test_how_many_is_answered_by_the_sentence_with_the_number(assistant):
    answer = assistant.answer("How many representatives of logistics firms joined Westhagemann in Israel?")
    assert not answer.refused and "70" in answer.answer
