"""German-aware sentence splitting that returns spans, so no character of an article is ever lost.

A sentence ends at . ! ? … (plus closing quotes or brackets) followed by white space and a capital letter,
digit or opening quote, or at a line break. It does not end after an abbreviation (Dr., z. B., bzw.), an
initial (Rasmus C. Beck, J.P. Morgan, v. l.), an ordinal before a month or a lowercase word (13. November),
an ordinal before a noun that counts in order or after the article or preposition it takes ("im 18. Jahrhundert",
"zum 31. Mal", "in der 45. Minute", "der 1. FC Köln"), or inside a short quoted title ("Digital. Health. Now.").
"""

from __future__ import annotations

import re

from ingest.dates import MONTHS

# Lowercased, without the period. Single letters are handled as initials.
ABBREVIATIONS = frozenset(
    """
    abb abs abt allg anm art bd bspw bzgl bzw ca chr co corp dipl dr ebd evtl engl etc exkl ff fr frl geb
    gem ges gegr ggf hl hr hrsg inc inkl ing jh jhd jr kap kfm lfd ltd max mio mr mrd mrs ms mwst nachf
    nr orig pkt pl prof rd rel sen sog sr st std str tab tel tsd usw verf vgl vs zb zit zzgl
    jan feb mär apr jun jul aug sep sept okt nov dez
    """.split()
)

# "18. Jahrhundert", "zum 31. Mal": nouns an ordinal stands before; "im 17.", "der 1.": words an ordinal stands after
# (up to three digits: "bis 2018. Dazu komme" ends a sentence with a year).
_ORDINAL_NOUN = re.compile(r"(?:Jahrhunderts?|Jahrtausends?|Jh|Jahrestag\w*|Geburtstag\w*|Todestag\w*|Jubiläum\w*|Lebensjahr\w*|"
                           r"Mal|Minute|Spielminute|Runde|Spieltag\w*|Platz\w*|Rang|Stock\w*|Etage|Klasse|Quartal\w*|"
                           r"Halbjahr\w*|Semester|Kapitel|Staffel|Folge|Auflage|Ausgabe|Sitzung|Legislaturperiode|"
                           r"Wahlperiode|Parteitag\w*|Weltkrieg\w*|Bezirk|Saison)\b")
_ORDINAL_AFTER = re.compile(r"(?:^|\s)(?:am|im|vom|zum|zur|beim|bis|ab|seit|der|des|dem|den|seine[mrs]|ihre[mrs])\s+\d{1,3}\.$",
                            re.IGNORECASE)
_NUMBER_BEFORE = re.compile(r"(?<![\d.])\d{1,4}\.$")

_CANDIDATE = re.compile(r"[.!?…]+[\"“”»«'’)\]]*(?=\s)|\n")
_WORD_BEFORE = re.compile(r"([\w\-]+)\.$")
_OPENERS_AFTER = "„“\"«»‚'([–-"


def _inside_quote_map(text: str) -> list[int]:
    """For each position: the index where the enclosing quote opened, or -1 outside quotes."""
    where = [-1] * (len(text) + 1)
    open_at, closer = -1, ""
    for i, ch in enumerate(text):
        if ch == "\n":
            open_at, closer = -1, ""
        elif open_at >= 0 and ch in closer:
            open_at, closer = -1, ""
        elif open_at < 0 and ch in "„“«»\"":
            open_at = i
            closer = {"„": "“”\"", "“": "”", "«": "»", "»": "«", "\"": "\""}[ch]
        where[i] = open_at
    where[len(text)] = open_at
    return where


def _closing_quote_after(text: str, pos: int, closer_chars: str = "“”\"»«") -> int:
    m = re.compile("[" + re.escape(closer_chars) + "\n]").search(text, pos)
    return m.start() if m else len(text)


def _is_boundary(text: str, end: int, nxt: int, quote_open: int) -> bool:
    """end: just after the punctuation (and closing marks); nxt: first character of the next sentence."""
    if nxt >= len(text):
        return True
    follower = text[nxt]
    if not (follower.isupper() or follower.isdigit() or follower in _OPENERS_AFTER):
        return False
    core = text[:end].rstrip("\"“”»«'’)]")
    if core.endswith(".") and not core.endswith(".."):
        m = _WORD_BEFORE.search(core)
        word = m.group(1) if m else ""
        if len(word) == 1 and word.isalpha():
            return False  # an initial, or part of z. B. / v. l. / J.P.
        if word.lower() in ABBREVIATIONS:
            return False
        if word.isdigit() and len(word) <= 2:
            next_word = re.match(r"\w+", text[nxt:])
            if next_word and next_word.group(0).lower() in MONTHS:
                return False  # "13. November"
        if _NUMBER_BEFORE.search(core) and (_ORDINAL_NOUN.match(text, nxt) or _ORDINAL_AFTER.search(core[-40:])):
            return False  # "im 18. Jahrhundert", "zum 31. Mal", "der 1. FC Köln"
    if quote_open >= 0:
        # Inside quotes: split long quoted speech into sentences, but keep short quoted titles whole.
        closing = _closing_quote_after(text, nxt)
        if end - quote_open < 30 or closing - nxt < 30:
            return False
    return True


def ends_sentence(text: str, end: int, nxt: int) -> bool:
    """Whether the punctuation just before `end` ends a sentence when the next one starts at `nxt` (not after
    an initial, an abbreviation or a day before its month): for text written piece by piece, like a model's."""
    return _is_boundary(text, end, nxt, -1)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences in text, white space trimmed; their union covers every
    non-space character exactly once and in order."""
    spans: list[tuple[int, int]] = []
    quotes = _inside_quote_map(text)
    start = 0
    for m in _CANDIDATE.finditer(text):
        end = m.end()
        nxt = end
        while nxt < len(text) and text[nxt].isspace():
            nxt += 1
        if m.group(0) != "\n" and not _is_boundary(text, end, nxt, quotes[end - 1]):
            continue
        _add_span(text, start, end, spans)
        start = end
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


_ANAPHOR = re.compile(r"^(?:Das Unternehmen|Die Firma|Er|Sie|Es|Dort|Dabei|Dies|Diese[rsmn]?|Hier|Dazu|Davor|Danach|"
                     r"Daraufhin|Damit|Dadurch|Darunter|Jene[rsmn]?|Solche[rsmn]?|It|They|There|This|These|Such)\b")


def refers_back(sentence: str) -> bool:
    """The sentence leans on the one before it ("Er ...", "Dazu ...", "Das Unternehmen ...")."""
    return _ANAPHOR.match(sentence) is not None
