from hypothesis import given, settings, strategies as st

from ingest.chunking import chunk_article
from ingest.model import Article


def _article(text):
    return Article(doc_id="doc", title="Reise", text=text, source="x.txt")


def test_chunks_are_whole_sentences_with_title_and_stable_ids():
    text = " ".join(f"Satz Nummer {i} nennt Dr. Randy Kurz und z. B. Rasmus C. Beck." for i in range(40))
    chunks = chunk_article(_article(text), target_chars=300, overlap=1)
    assert [c.chunk_id for c in chunks] == [f"doc#{i}" for i in range(len(chunks))]
    for c in chunks:
        assert c.text.startswith("Satz Nummer") and c.text.endswith("Beck.")
        assert c.embed_text.startswith("Reise\n")
    assert chunk_article(_article(text), 300, 1)[3].text == chunks[3].text


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="abcdefgh ÄÖÜß", min_size=1, max_size=120), min_size=1, max_size=30))
def test_chunking_loses_and_reorders_nothing(parts):
    text = ". ".join(p.strip() or "x" for p in parts) + "."
    chunks = chunk_article(_article(text), target_chars=200, overlap=0)
    assert "".join("".join(c.text.split()) for c in chunks) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_cleaning_never_crashes_and_returns_normal_text(text):
    from ingest.clean import clean_text

    cleaned = clean_text(text)
    assert "\r" not in cleaned and "\n\n\n" not in cleaned and cleaned == cleaned.strip()
    assert clean_text(cleaned) == cleaned  # cleaning what is clean changes nothing


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHÄÖÜ", min_size=1, max_size=12)
_SENTENCE = st.lists(_WORD, min_size=1, max_size=14).map(lambda ws: " ".join(ws) + ".")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_SENTENCE, min_size=1, max_size=6).map(" ".join), min_size=1, max_size=12))
def test_cleaning_keeps_every_word_of_prose_in_order(paragraphs):
    from ingest.clean import clean_text

    text = "\n\n".join(paragraphs)
    assert clean_text(text).split() == text.split()
