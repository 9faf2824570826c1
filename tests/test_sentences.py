from hypothesis import given, settings, strategies as st

from ingest.sentences import sentence_spans, split_sentences


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = ("Weitere Teilnehmer waren Dr. Randy Kurz sowie Roy Richter. Rasmus C. Beck unterzeichnete z. B. "
            "den Vertrag. Die Delegation (vorn, v. l.) war dabei. Am 13. November spielte das Orchester.")
    assert split_sentences(text) == [
        "Weitere Teilnehmer waren Dr. Randy Kurz sowie Roy Richter.",
        "Rasmus C. Beck unterzeichnete z. B. den Vertrag.",
        "Die Delegation (vorn, v. l.) war dabei.",
        "Am 13. November spielte das Orchester.",
    ]


def test_an_ordinal_before_its_noun_or_after_its_article_does_not_end_a_sentence():
    # XQuAD quoted half a sentence: "… bis zum 18." for a question about the 18th century
    text = ("Die Stadt wuchs bis zum 18. Jahrhundert. Der Preis wurde zum 31. Mal vergeben. In der 45. Minute "
            "traf der 1. FC Köln. Die Reform gilt bis 2018. Danach entscheidet der Rat. Es kamen 50. Dann ging es los.")
    assert split_sentences(text) == [
        "Die Stadt wuchs bis zum 18. Jahrhundert.",
        "Der Preis wurde zum 31. Mal vergeben.",
        "In der 45. Minute traf der 1. FC Köln.",
        "Die Reform gilt bis 2018.",  # a year ends the sentence
        "Danach entscheidet der Rat.",
        "Es kamen 50.",
        "Dann ging es los.",
    ]


def test_short_quoted_title_stays_whole_but_long_quotes_split():
    text = ('Sie standen auf der Messe "Digital. Health. Now." mit einem Stand. '
            "„Israel ist einer der globalen Hotspots für digitale Innovationen. Ich bin überzeugt, dass das "
            "Potenzial enorm ist.“ Beide Seiten profitieren.")
    assert split_sentences(text) == [
        'Sie standen auf der Messe "Digital. Health. Now." mit einem Stand.',
        "„Israel ist einer der globalen Hotspots für digitale Innovationen.",
        "Ich bin überzeugt, dass das Potenzial enorm ist.“",
        "Beide Seiten profitieren.",
    ]


def test_line_breaks_end_headings():
    assert split_sentences("Treffen mit Start-ups\nEin Treffen ist geplant.") == [
        "Treffen mit Start-ups", "Ein Treffen ist geplant."]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("abcXYZ .!?„“\"\n 1C.z.B") + ["Dr. ", "v. l. ", "13. November "]), max_size=120).map("".join))
def test_spans_cover_every_character_once_in_order(text):
    spans = sentence_spans(text)
    assert all(a < b for a, b in spans)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    covered = "".join(text[a:b] for a, b in spans)
    assert covered.replace(" ", "").replace("\n", "") == "".join(text.split())
