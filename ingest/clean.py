"""Turn raw extracted text into clean article text: stray glyphs, encoding debris and page furniture out,
every word of the article kept."""

from __future__ import annotations

import re
import unicodedata

# Characters that carry no text: zero-width marks, soft hyphens, BOMs.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Layout glyphs that stand in for bullets, close buttons or section ends (×, ■, •, ►, …).
_GLYPHS = "×■□▪▫●◆◇►▶▸◀◂✓✔✕✖➔➜→|•·"
_GLYPH_LINE = re.compile(rf"^[\s{re.escape(_GLYPHS)}\-–—_*=#~]*$")
# Not preceded by a space: a leading \s* would retry at every space of a long run (quadratic on 20,000 spaces).
_SECTION_MARK = re.compile(r"(?<!\s)\s*[■□▪◆►▶]\s*")
# Tracking or encoding debris: whole lines of base64-like tokens ("RkJQdWJsaXNoZXIy MTk5NjE0NA==").
_BASE64_TOKEN = re.compile(r"^(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z][A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{8,}={0,2}$")
_PAGE_NUMBER = re.compile(r"^\s*(?:(?:seite|page|s\.)\s*)?\d{1,4}(?:\s*(?:/|von|of)\s*\d{1,4})?\s*$", re.IGNORECASE)
# Photo credits: a line, or an all-caps run after FOTO(S):, BILD: or ©.
_CREDIT_LINE = re.compile(r"^\s*(?:fotos?|bild(?:er)?|photos?|quelle|credits?)\s*:\s*.{0,120}$|^\s*©.{0,120}$", re.IGNORECASE)
_CREDIT_INLINE = re.compile(r"\b(?:FOTOS?|BILDER?|PHOTOS?)\s*:\s*[A-ZÄÖÜ0-9][A-ZÄÖÜ0-9 /,.&\-]*[A-ZÄÖÜ0-9](?=\s|$)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def fold(text: str) -> str:
    """Lowercase with umlauts and ß spelled out (and é, è plain), as matching and ids compare words."""
    text = text.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("é", "e"), ("è", "e")):
        text = text.replace(a, b)
    return text


def fold_accents(text: str) -> str:
    """`fold`, and every other accent dropped, as another spelling may write a name: Davutoğlu, Davutoglu."""
    return "".join(c for c in unicodedata.normalize("NFKD", fold(text)) if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """Unicode NFC, one kind of line break, visible spaces only."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(_INVISIBLE)
    return _CONTROL.sub(" ", text)


def _is_debris(line: str) -> bool:
    tokens = line.split()
    marked = any(re.search(r"\d|=$", t) for t in tokens)  # real words rarely carry digits or padding
    return bool(tokens) and marked and all(_BASE64_TOKEN.match(t) for t in tokens)


def _unwrap(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines back into paragraphs when the text is wrapped at a fixed width."""
    body = [l for l in lines if l.strip()]
    if len(body) < 6:
        return lines
    long = [l for l in body if 50 <= len(l) <= 100]
    unterminated = [l for l in long if not l.rstrip().endswith((".", "!", "?", ":", "“", "\""))]
    if len(long) < 0.6 * len(body) or len(unterminated) < 0.5 * len(long):
        return lines
    out: list[str] = []
    for line in lines:
        if out and out[-1].strip() and line.strip() and 50 <= len(out[-1]) <= 100 and not out[-1].rstrip().endswith((".", "!", "?", ":")):
            prev = out[-1].rstrip()
            if prev.endswith("-") and prev[-2:-1].islower() and line[:1].islower():
                out[-1] = prev[:-1] + line.strip()  # "Wirt-\nschaft"
            else:
                out[-1] = prev + " " + line.strip()
        else:
            out.append(line)
    return out


def clean_text(text: str) -> str:
    """Clean article text. Keeps paragraphs (blank line) and line structure (headings)."""
    text = normalise(text)
    text = _SECTION_MARK.sub("\n\n", text)
    text = _CREDIT_INLINE.sub("", text)
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if _GLYPH_LINE.match(line):
            line = ""
        elif _is_debris(line) or _CREDIT_LINE.match(line):
            continue
        lines.append(line)
    lines = _unwrap(lines)
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def strip_page_furniture(pages: list[str]) -> list[str]:
    """Remove running headers and footers (lines repeated at the top or bottom of most pages), page
    numbers and photo credits from the text of PDF pages."""
    split = [[l.strip() for l in normalise(p).split("\n")] for p in pages]
    edge_counts: dict[str, int] = {}
    for lines in split:
        body = [l for l in lines if l]
        for line in set(body[:2] + body[-2:]):
            key = re.sub(r"\d+", "#", line)
            edge_counts[key] = edge_counts.get(key, 0) + 1
    repeated = {k for k, n in edge_counts.items() if len(split) >= 3 and n >= max(3, 0.5 * len(split))}
    cleaned = []
    for lines in split:
        body = [l for l in lines if l]
        edges = set(body[:2] + body[-2:])
        keep = []
        for line in lines:
            if line in edges and len(line) <= 80 and (re.sub(r"\d+", "#", line) in repeated or _PAGE_NUMBER.match(line)):
                continue
            if _CREDIT_LINE.match(line):
                continue
            keep.append(line)
        cleaned.append(_join_pdf_lines(keep))
    return cleaned


def _join_pdf_lines(lines: list[str]) -> str:
    """PDF text comes a visual line at a time: rejoin lines into paragraphs, undoing end-of-line hyphens."""
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if not current:
            current = line
        elif current.endswith("-") and current[-2:-1].islower() and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}"
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)
