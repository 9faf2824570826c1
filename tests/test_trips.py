"""The trip register: rules on sentences of the sample and of news articles, grounding of every field, the
filters across languages and levels, the model extractor held to the article (a scripted fake, and the
llama.cpp smoke model), crash safety, the CLI, and list and count questions answered from it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE, SHARED_NEWS, ScriptedLLM, make_workspace, needs_llamacpp
from ingest.chunking import chunk_article
from ingest.model import Article, PubDate
from trips.model import Source
from trips.register import TripFilter, TripRegister
from trips.rules import RuleExtractor


def _source(text: str, date: str | None = None, doc_id: str = "a") -> Source:
    article = Article(doc_id, "Titel", text, "a.txt", PubDate(date, "day" if len(date or "") == 10 else "month") if date else None)
    return Source(doc_id, "Titel", text, date, chunk_article(article))


def _names(mentions) -> list[str]:
    return [m.value.get("name") or m.value.get("place") for m in mentions]


@pytest.fixture(scope="module")
def register_ws(sample_ws):
    """The session's sample index with the trips the earlier rules read; the reader's register (which the other
    modules' answers are measured with) is read back afterwards."""
    from trips.rules import RuleExtractor
    from trips.update import trip_step, update

    update(sample_ws, RuleExtractor())
    yield sample_ws
    trip_step(sample_ws)()


# --- rules on real sentences -------------------------------------------------------------------------------

def test_a_trip_with_leader_participants_and_cities_is_read_from_the_leipzig_article():
    text = (SAMPLE / "leipzig-japan.txt").read_text(encoding="utf-8")
    (trip,) = RuleExtractor().extract(_source(text))
    assert _names(trip.destinations) == ["Tokio", "Kobe", "Toyohasi"] and trip.countries == {"JP"}
    assert _names(trip.leaders) == ["Uwe Albrecht"] and trip.leaders[0].value["role"] == "Wirtschaftsbürgermeister"
    assert _names(trip.participants) == ["Randy Kurz", "Roy Richter"] and trip.origin.value["place"] == "Leipzig"
    assert trip.precision == "unknown"  # "am 13. November" without a year: no date is made up


def test_an_article_with_two_trips_gives_two_records_each_with_its_own_section():
    text = (SAMPLE / "ruhr-innovation-bridges-israel-china-2019.txt").read_text(encoding="utf-8")
    israel, china = sorted(RuleExtractor().extract(_source(text)), key=lambda t: sorted(t.countries))[::-1]
    assert israel.countries == {"IL"} and china.countries == {"CN"}
    assert (israel.start, israel.end, israel.precision) == ("2019-11-25", "2019-11-28", "day")
    assert (china.start, china.precision) == ("2019-12", "month")  # "im November und Dezember ... nach Israel und China"
    assert "Scayan" in _names(israel.participants) and not china.participants
    assert any("Kooperationsvereinbarung" in m.value["text"] for m in china.outcomes)


def test_a_report_that_is_no_trip_gives_no_record():
    text = (SAMPLE / "hamburg-cluster-jahresbericht-2020.txt").read_text(encoding="utf-8")
    assert RuleExtractor().extract(_source(text)) == []
    assert RuleExtractor().extract(_source("Benfica reiste mit einem kleinen Vorsprung nach Russland.")) == []  # no delegation


def test_leaders_participants_and_relative_dates_of_news_sentences():
    delegation = ("Eine Berliner Delegation mit dem Regierenden Bürgermeister, Kai Wegner, Wirtschaftssenatorin Franziska "
                  "Giffey und IHK-Präsident Sebastian Stietzel unternahm eine Reise nach New York und Boston.")
    (trip,) = RuleExtractor().extract(_source(delegation, "2024-12"))
    assert _names(trip.leaders) == ["Kai Wegner"] and _names(trip.participants) == ["Franziska Giffey", "Sebastian Stietzel"]
    visit = ("Verteidigungsminister Guttenberg stattete am gestrigen Montag den deutschen Truppen in Kunduz einen Besuch ab. "
             "Begleitet wurde Guttenberg auch von den Ministerpräsidenten David McAllister und Wolfgang Böhmer.")
    (trip,) = RuleExtractor().extract(_source(visit, "2010-12-14"))
    assert _names(trip.leaders) == ["Guttenberg"] and _names(trip.participants) == ["David McAllister", "Wolfgang Böhmer"]
    assert (trip.start, trip.precision, trip.when.value["text"]) == ("2010-12-13", "day", "am gestrigen Montag")
    back = "Eine sudanesische Delegation war am 13. Dezember nach Äthiopien gereist und kehrte nach Khartum zurück."
    (trip,) = RuleExtractor().extract(_source(back, "2021-01-22"))
    assert trip.countries == {"ET"} and trip.start == "2020-12-13"  # home is no destination; December is last year's


def test_who_travels_is_found_after_the_place_or_behind_a_pronoun_and_only_the_visit_is_a_destination():
    after = "Zu Besuch in Sarajevo stellte Österreichs Außenminister Sebastian Kurz am Donnerstag klar: Wir koppeln die Annäherung."
    (trip,) = RuleExtractor().extract(_source(after))
    assert _names(trip.destinations) == ["Sarajevo"] and _names(trip.leaders) == ["Sebastian Kurz"]
    pronoun = ("Ministerpräsident Ahmet Davutoğlu drohte mit Luftschlägen. Wir werden es nicht zulassen, sagte Davutoğlu. "
               "Er betonte indes bei einem Besuch in Kiew, die Türkei setze keine eigenen Truppen in Syrien ein.")
    (trip,) = RuleExtractor().extract(_source(pronoun))
    assert _names(trip.destinations) == ["Kiew"] and _names(trip.leaders) == ["Ahmet Davutoğlu"]  # not Türkei, not Syrien
    far = ("Präsident Recep Tayyip Erdogan will Raketen kaufen. Bei dem Staatsbesuch in China, den Erdogan am Mittwoch begann, sollen auch Gespräche zur Vorbereitung auf den "
           "G-20-Gipfel der führenden Industrie- und Schwellenländer im November im türkischen Antalya geführt werden.")
    (trip,) = RuleExtractor().extract(_source(far))
    assert _names(trip.destinations) == ["China"] and _names(trip.leaders) == ["Recep Tayyip Erdogan"]
    host = "EU-Kommissar Vytenis Andriukaitis kommt zu einem Besuch nach Wien und führt Gespräche mit Ministerin Sabine Oberhauser."
    assert "Sabine Oberhauser" not in [n for t in RuleExtractor().extract(_source(host)) for n in _names(t.leaders)]
    called_off = "Der türkische Premier Ahmet Davutoglu sagt seine Reise nach Brüssel wegen des Terrors zu Hause ab."
    assert RuleExtractor().extract(_source(called_off)) == []


def test_every_stored_value_quotes_its_article_at_its_offsets(register_ws):
    texts = {r.doc_id: register_ws.manifest.text(r.doc_id) for r in register_ws.manifest.all_docs()}
    mentions = [m for t in TripRegister.of(register_ws.settings.data_dir).per_article() for m in t.mentions()]
    assert len(mentions) > 30
    for m in mentions:
        e = m.evidence
        assert e.quote and texts[e.doc_id][e.start:e.end] == e.quote
        chunk = next(c for c in register_ws.store.chunks_of(e.doc_id) if c.chunk_id == e.chunk_id)
        assert e.quote in chunk.text


# --- filters -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("to, countries", [("Asien", {"JP", "CN", "IL"}), ("United States", {"US"}), ("USA", {"US"}),
                                           ("Vereinigte Staaten", {"US"}), ("New York", {"US"}), ("Tel Aviv", {"IL"}),
                                           ("Südamerika", set()), ("Japan", {"JP"})])
def test_places_match_across_languages_and_levels(register_ws, to, countries):
    found = TripRegister.of(register_ws.settings.data_dir).trips(TripFilter(to=to))
    assert set().union(*(t.countries for t in found)) == countries


def test_filters_by_year_dates_person_and_article(register_ws):
    register = TripRegister.of(register_ws.settings.data_dir)
    assert {c for t in register.trips(TripFilter(year=2019)) for c in t.countries} == {"IL", "CN"}
    assert [t.countries for t in register.trips(TripFilter(date_from="2019-11-01", date_to="2019-11-30"))] == [{"IL"}]
    assert [_names(t.leaders) for t in register.trips(TripFilter(who="Albrecht"))] == [["Uwe Albrecht"]]
    assert len(register.trips(TripFilter(doc="ruhr-innovation-bridges-israel-china-2019"))) == 2
    assert register.trips(TripFilter(year=2015)) == []
    assert len(register.trips(TripFilter(docs=("ruhr-innovation-bridges-israel-china-2019", "none")))) == 2
    assert register.trips(TripFilter(docs=("hamburg-israel-2019",), year=2024)) == []


def test_the_chats_filters_narrow_a_register_question():
    from assistant.question import analyse
    from assistant.register_question import within
    from index.retrieve import Filters

    asked = analyse("Welche Delegationen reisten im November 2019 nach Israel?").register
    narrowed = within(asked, Filters(doc_ids=["a", "b"], date_from="2019-11-10", date_to="2020-03"))
    assert narrowed.where.docs == ("a", "b") and narrowed.where.to == asked.where.to
    assert (narrowed.where.date_from, narrowed.where.date_to) == ("2019-11-10", "2019-11")  # the later start, earlier end
    assert within(asked, Filters(date_to="2019-11-05")).where.date_to == "2019-11-05"


def test_one_trip_reported_by_two_articles_is_one_record(tmp_path):
    from trips.register import merge

    text = "Die Leipziger Delegation unter Leitung von Bürgermeister Uwe Albrecht reiste im November 2019 nach Tokio."
    first, = RuleExtractor().extract(_source(text, "2019-11", "a"))
    second, = RuleExtractor().extract(_source(text.replace("Tokio", "Tokio und Kobe"), "2019-11", "b"))
    (merged,) = merge([first, second])
    assert merged.doc_ids == ["a", "b"] and _names(merged.destinations) == ["Tokio", "Kobe"]
    assert {m.evidence.doc_id for m in merged.destinations} == {"a", "b"}


# --- the model extractor -----------------------------------------------------------------------------------

RUHR = (SAMPLE / "ruhr-innovation-bridges-israel-china-2019.txt").read_text(encoding="utf-8")


def test_the_model_proposes_and_only_what_stands_in_the_article_is_kept():
    from assistant.llms import Model
    from trips.llm import SCHEMA, LLMExtractor

    reply = json.dumps({"trips": [
        {"delegation": "Unternehmen aus der Metropole Ruhr", "destinations": [{"place": "Tel Aviv", "country": "IL"},
                                                                            {"place": "Haifa", "country": "IL"}],
         "leaders": [{"name": "Rasmus C. Beck", "role": "Geschäftsführer"}, {"name": "Olaf Scholz"}],
         "participants": [{"name": "dubidoc"}, {"name": "Scayan", "role_or_org": "Gründerin"}],
         "date": "Vom 25. bis zum 28. November 2019", "outcomes": ["ein Vertrag über 5 Millionen Euro"]},
        {"destinations": [{"place": "Mars"}]}]})
    llm = ScriptedLLM(reply)
    trips, dropped = LLMExtractor(Model(llm, "fake", json_request=lambda schema: {"format": schema})).extract(
        _source(RUHR, doc_id="ruhr"))
    assert llm.requests[0]["format"] == SCHEMA  # the schema went to the model
    (trip,) = trips  # the trip to Mars stands nowhere in the article
    assert _names(trip.destinations) == ["Tel Aviv"] and _names(trip.leaders) == ["Rasmus C. Beck"]
    assert _names(trip.participants) == ["dubidoc", "Scayan"] and trip.participants[1].value["role_or_org"] == ""
    assert (trip.start, trip.end, trip.precision) == ("2019-11-25", "2019-11-28", "day") and trip.outcomes == []
    assert dropped == 5  # Haifa, Olaf Scholz, the role "Gründerin", the outcome, the destination Mars
    for m in trip.mentions():
        assert RUHR[m.evidence.start:m.evidence.end] == m.evidence.quote


@pytest.mark.parametrize("reply", ["", "Gern! Hier sind die Reisen:", "{\"trips\": [{\"destinations\": \"Tel Aviv\"", "[1, 2]",
                                   "{\"trips\": \"keine\"}"])
def test_a_model_answering_garbage_loses_only_its_proposals(reply):
    from assistant.llms import Model
    from trips.llm import LLMExtractor

    trips, dropped = LLMExtractor(Model(ScriptedLLM(reply), "fake")).extract(_source(RUHR))
    assert trips == [] and dropped == 1


def test_articles_that_are_no_trip_reports_cost_no_model_call():
    from assistant.llms import Model
    from trips.llm import LLMExtractor

    llm = ScriptedLLM()
    extractor = LLMExtractor(Model(llm, "fake"))
    assert extractor.extract(_source("Der FC Bayern gewann am Samstag mit 3:1 gegen Dortmund.")) == ([], 0)
    assert llm.history == [] and extractor.calls == 0


def test_ingest_with_the_model_extractor_counts_dropped_values(tmp_path, monkeypatch):
    from assistant.llms import Model
    from index.sync import sync
    from trips.llm import LLMExtractor
    from trips.update import update

    ws = make_workspace(tmp_path / "data")
    llm = ScriptedLLM(*[json.dumps({"trips": [{"destinations": [{"place": "Tokio"}, {"place": "Atlantis"}]}]})] * 10)
    extractor = LLMExtractor(Model(llm, "fake"))
    report = sync([SAMPLE / "leipzig-japan.txt", SAMPLE / "hamburg-cluster-jahresbericht-2020.txt"], ws,
                  then=lambda: update(ws, extractor).to_json())
    assert report.trips == {"added": 1, "removed": 0, "dropped_fields": 1} and len(llm.history) == 1




@needs_llamacpp
def test_the_llamacpp_smoke_model_extracts_under_the_schema_and_stores_nothing_ungrounded(tmp_path):
    """A 270M base model cannot read an article; what is proven is the path: llama.cpp constrained by the
    schema's grammar, the reply parsed, and whatever it proposed held to the article."""
    from assistant.llms import make_model
    from settings import load_settings
    from trips.llm import LLMExtractor

    settings = load_settings(env={}, llm={"llamacpp": {"max_tokens": 96}})
    model = make_model("llamacpp", settings)
    replies = []

    class Recording:
        def chat_json(self, messages, schema):
            replies.append(model.chat_json(messages, schema))
            return replies[-1]

    extractor = LLMExtractor(Recording())
    trips, dropped = extractor.extract(_source(RUHR, doc_id="ruhr"))
    assert extractor.calls == 1 and len(replies) == 1
    proposed = json.loads(replies[0])["trips"]  # the grammar held the reply to the schema: it parses, trips a list
    assert isinstance(proposed, list)
    for trip in trips:
        for m in trip.mentions():
            assert RUHR[m.evidence.start:m.evidence.end] == m.evidence.quote
    # every trip the model proposed is kept (with what stands in the article) or counted among the dropped
    assert len(trips) <= len(proposed) and (dropped > 0 or len(trips) == len(proposed))


# --- crash safety, the CLI ---------------------------------------------------------------------------------

DIES = """
import os, signal, sys
from pathlib import Path
from conftest import make_workspace
import trips.register
from index.sync import sync
from trips.rules import RuleExtractor
from trips.update import update

corpus, data = Path(sys.argv[1]), Path(sys.argv[2])
replace, calls = trips.register.TripRegister.replace, []
def dying_replace(self, *args):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return replace(self, *args)
trips.register.TripRegister.replace = dying_replace
ws = make_workspace(data)
sync([corpus], ws, then=lambda: update(ws, RuleExtractor()).to_json())
"""


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_kill_9_while_trips_are_read_then_rerun_gives_the_records_of_a_clean_run(tmp_path):
    clean = _cli("ingest", str(SAMPLE), "--data-dir", str(tmp_path / "clean"), "--json")
    assert clean.returncode == 0, clean.stderr
    died = subprocess.run([sys.executable, "-c", DIES, str(SAMPLE), str(tmp_path / "crashed")], cwd=ROOT / "tests",
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert TripRegister.of(tmp_path / "crashed").counts()[0] == 2  # two articles read before it died
    again = json.loads(_cli("ingest", str(SAMPLE), "--data-dir", str(tmp_path / "crashed"), "--json").stdout)
    assert again["added"] == 0 and again["trips"]["added"] > 0
    want = json.loads(_cli("trips", "--json", "--data-dir", str(tmp_path / "clean")).stdout)
    got = json.loads(_cli("trips", "--json", "--data-dir", str(tmp_path / "crashed")).stdout)
    assert got == want


def test_trips_command_json_csv_and_one_line_errors(register_ws):
    data = str(register_ws.settings.data_dir)
    out = json.loads(_cli("trips", "--to", "Japan", "--json", "--data-dir", data).stdout)
    (trip,) = out["trips"]
    assert set(trip) >= {"id", "doc_ids", "delegation", "origin", "leaders", "participants", "destinations", "start", "end",
                         "precision", "purpose", "outcomes", "extractor"}
    assert all({"doc_id", "start", "end", "quote"} <= set(m) for m in trip["leaders"] + trip["destinations"])
    csv = _cli("trips", "--year", "2019", "--csv", "--data-dir", data).stdout.splitlines()
    assert csv[0].startswith("date,delegation,leaders") and ",status,kind," in csv[0] and len(csv) == 4
    made = json.loads(_cli("trips", "--status", "made", "--json", "--data-dir", data).stdout)["trips"]
    assert made and {t["status"] for t in made} == {"made"}
    assert json.loads(_cli("trips", "--status", "cancelled", "--json", "--data-dir", data).stdout)["trips"] == []
    unknown = _cli("trips", "--status", "geplant", "--data-dir", data)
    assert unknown.returncode == 2 and "announced" in unknown.stderr
    bad = _cli("trips", "--date-from", "gestern", "--data-dir", data)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "YYYY" in bad.stderr


def test_ingest_reports_trips_and_a_removed_article_takes_its_trips_along(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    first = json.loads(_cli("ingest", str(corpus), "--data-dir", str(tmp_path / "d"), "--json").stdout)
    assert first["trips"] == {"added": 5, "removed": 0, "dropped_fields": 0}
    (corpus / "ruhr-innovation-bridges-israel-china-2019.txt").unlink()
    second = json.loads(_cli("ingest", str(corpus), "--data-dir", str(tmp_path / "d"), "--json").stdout)
    assert second["trips"] == {"added": 0, "removed": 2, "dropped_fields": 0}


# --- questions answered from the register ------------------------------------------------------------------

@pytest.fixture(scope="module")
def trip_assistant(register_ws):
    from assistant.service import Assistant

    return Assistant(register_ws)


def test_a_count_question_names_each_trip_with_its_evidence(trip_assistant):
    answer = trip_assistant.answer("Wie viele Delegationen reisten nach Israel?")
    assert answer.answer.startswith("Die Artikel nennen 2 Reisen") and answer.generation == "trip_register"
    assert {c.passage.doc_id for c in answer.citations} == {"hamburg-israel-2019", "ruhr-innovation-bridges-israel-china-2019"}
    assert all(q in c.passage.text for c in answer.citations for q in c.quotes)
    assert answer.contexts == [c.passage for c in answer.citations]


def test_empty_filters_are_no_filters_so_the_register_still_answers(trip_assistant):
    """The chat always sends filters (mostly empty ones), as the API may ("filters": {}): they must not
    switch the register off."""
    from index.retrieve import Filters

    question = "Welche Delegationen reisten nach Israel?"
    plain = trip_assistant.answer(question)
    streamed = list(trip_assistant.stream(question, [], Filters([], None, None)))[-1]["answer"]
    assert plain.generation == streamed["generation"] == "trip_register"
    assert streamed["answer"] == plain.answer
    assert not Filters() and not Filters([], "", None) and Filters(["leipzig-japan"]) and Filters(date_to="2020")


def test_list_questions_in_english_and_a_refusal_when_the_register_has_none(trip_assistant):
    answer = trip_assistant.answer("Which trips went to America, and who headed them?")
    assert "Kai Wegner" in answer.answer and "New York" in answer.answer
    assert trip_assistant.answer("Welche Delegationen reisten nach Südamerika?").refused
    assert trip_assistant.answer("Welche Delegationen reisten 2015 ins Ausland?").refused
    one_trip = trip_assistant.answer("Welche Städte besuchte die Berliner Delegation in den USA?")
    assert one_trip.generation != "trip_register"  # it names whose trip: retrieval answers it


def test_asked_for_cities_a_trip_naming_only_its_country_says_so(trip_assistant):
    answer = trip_assistant.answer("Welche Städte wurden 2019 besucht?")
    assert "Israel (kein Ort genannt)" in answer.answer and "Tel Aviv [" in answer.answer and "Shenzhen [" in answer.answer
    assert "Tel Aviv (kein Ort genannt)" not in answer.answer


def test_every_backend_answers_list_questions_from_the_register(register_ws):
    from conftest import scripted_assistant

    llm = ScriptedLLM()
    answer = scripted_assistant(register_ws, llm).answer("Wer hat welche Reise angeführt?", backend="ollama")
    assert answer.generation == "trip_register" and llm.history == []
    assert all(name in answer.answer for name in ("Uwe Albrecht", "Westhagemann", "Kai Wegner"))


@pytest.mark.skipif(not SHARED_NEWS.exists(), reason=f"the news articles are read from {SHARED_NEWS}")
def test_news_trips_have_their_leaders_and_dates(tmp_path):
    rows = {}
    for line in open(SHARED_NEWS, encoding="utf-8"):
        row = json.loads(line)
        if row["id"] in ("wikinews-33184", "wikinews-49225"):
            rows[row["id"]] = row
    griffin, = RuleExtractor().extract(_source(rows["wikinews-33184"]["text"], "2006-09-25"))
    assert _names(griffin.leaders) == ["Michael Griffin"] and griffin.start == "2006-09-24"
    assert {"William Gerstenmeyer", "Shannon Lucid"} <= set(_names(griffin.participants))
    sarkozy, = RuleExtractor().extract(_source(rows["wikinews-49225"]["text"], "2008-03-27"))
    assert sarkozy.countries == {"GB"} and _names(sarkozy.leaders) == ["Nicolas Sarkozy"]


@pytest.mark.parametrize("question, listed", [
    ("Welche Minister besuchten 2019 Lettland?", True),  # several travellers, across the register
    ("Welche Sportler reisten nach Oslo?", True),
    ("Which mayors visited Riga?", True),
    ("Welche Firmen besuchte die Delegation in Riga?", False),  # what one delegation visited
    ("Welche Städte besuchten sie?", False),  # the places of one trip
    ("Welche Ministerinnen reisten mit Eva Kron nach Oslo?", False),  # who came along on her trip
    ("Which mayor travelled with the minister to Oslo?", False),
])
def test_a_question_for_which_travellers_went_somewhere_is_a_register_list(question, listed):
    from assistant.question import analyse

    register = analyse(question).register
    assert (register is not None and register.kind == "list") is listed


def test_a_register_trip_is_named_by_its_traveller_with_companions_and_status():
    from assistant.trip_answers import _describe
    from test_reading import trips

    made = "Ministerin Eva Kron reiste am 3. Mai 2021 nach Oslo. Begleitet wurde Eva Kron von Staatssekretär Uwe Sand."
    (trip,) = trips(made, "2021-05-04")
    assert trip.kind != "delegation"
    text = _describe(trip, "list", True, lambda mention: "")
    assert text.startswith("Eva Kron nach Oslo") and "mit Uwe Sand" in text and "geleitet" not in text
    assert "angekündigt" not in text and "2021-05-03" in text
    trip.status = "announced"
    assert _describe(trip, "list", False, lambda mention: "").endswith("– announced.")
    from trips.model import Mention

    trip.origin = Mention({"place": "Bergen", "country": "NO"}, trip.leaders[0].evidence)  # a place the reader guessed
    assert _describe(trip, "list", True, lambda mention: "").startswith("Eva Kron nach Oslo")


@pytest.mark.parametrize("entry", __import__("ingest.annotate", fromlist=["lexicon"]).lexicon("status_asked"),
                         ids=lambda e: e["status"])
def test_every_status_word_of_a_question_is_read_in_a_question_written_for_it(entry):
    from assistant.register_question import asked_status
    from ingest.clean import fold

    for cue in entry["cues"]:
        assert any(cue in fold(example).lower() for example in entry["examples"]), cue
    assert {asked_status(example) for example in entry["examples"]} == {entry["status"]}


def test_a_follow_up_asking_for_a_status_selects_those_trips_of_the_question_before(trip_assistant):
    from assistant.question import analyse
    from assistant.service import Turn

    follow_up = analyse("Which of them were cancelled?", ["Wie viele Reisen gingen nach Oslo?"]).register
    assert follow_up.kind == "list" and follow_up.where.to == "Oslo" and follow_up.where.status == "cancelled"
    assert analyse("Wie viele davon wurden verschoben?", ["Welche Reisen gingen nach Oslo?"]).register.kind == "count"
    assert analyse("Welche Reisen wurden abgesagt?").register.where.status == "cancelled"
    assert analyse("Wer hat die Reise nach Oslo abgesagt?").register is None  # one trip's fact
    made = trip_assistant.answer("Welche davon fanden statt?",
                                 [Turn("user", "Welche Delegationen reisten nach Israel?"), Turn("assistant", "…")])
    assert made.generation == "trip_register" and "Westhagemann" in made.answer
    none = trip_assistant.answer("Welche davon wurden abgesagt?",
                                 [Turn("user", "Welche Delegationen reisten nach Israel?"), Turn("assistant", "…")])
    assert none.refused and "abgesagt" in none.answer


@pytest.mark.parametrize("text, position", [
    ("Wer war der erste davon?", 0), ("Und die zweite?", 1), ("Wohin ging die dritte Reise?", 2),
    ("Wer leitete die letzte?", -1), ("Who led the first of them?", 0), ("And the last one?", -1),
    ("Welche davon fand statt?", None), ("Wer reiste zuerst?", None),
])
def test_the_place_in_a_list_a_follow_up_asks_about_is_read_from_its_ordinal(text, position):
    from assistant.register_question import asked_position

    assert asked_position(text) == position


def test_a_follow_up_asking_for_one_trip_of_a_list_by_its_place_answers_with_that_trip(trip_assistant):
    from assistant.service import Turn

    before = [Turn("user", "Welche Delegationen reisten nach Israel?"), Turn("assistant", "…")]
    everything = trip_assistant.answer("Welche Delegationen reisten nach Israel?")
    assert "Westhagemann" in everything.answer and "Tel Aviv" in everything.answer  # the list: 2019-08, then 2019-11
    first = trip_assistant.answer("Wer war die erste davon?", before)
    assert first.generation == "trip_register" and "; die erste:" in first.answer
    assert "Westhagemann" in first.answer and "Tel Aviv" not in first.answer
    last = trip_assistant.answer("And the last one?", before)
    assert "the last:" in last.answer and "Tel Aviv" in last.answer and "Westhagemann" not in last.answer
    third = trip_assistant.answer("Und die dritte?", before + [Turn("user", "Wer war die erste davon?"), Turn("assistant", "…"),
                                                             Turn("user", "And the last one?"), Turn("assistant", "…")])
    assert third.refused and "nur 2 Reisen" in third.answer  # the list is still the one asked for three turns back
    alone = trip_assistant.answer("Wer war die erste davon?")  # no list before it: nothing to pick from
    assert alone.generation != "trip_register"


def test_the_llm_extractor_without_a_generative_backend_is_a_one_line_error_before_anything_is_read(tmp_path):
    out = _cli("ingest", str(SAMPLE), "--trips", "llm", "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0 and "generative backend" in out.stderr
    assert "Traceback" not in out.stderr
