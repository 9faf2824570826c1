"""Article text out of an HTML page, as a browser's reader view would show it: trafilatura finds the main
text, title and publication date (navigation, teasers, "Mehr zum Thema", cookie banners and comments out);
a plain tag-stripping reader takes over only for pages in which trafilatura finds no text."""

from __future__ import annotations

import logging
from html.parser import HTMLParser

# trafilatura and htmldate report every page they discard parts of at WARNING: ingest reports failures itself.
for _name in ("trafilatura", "htmldate", "courlan", "justext"):
    logging.getLogger(_name).setLevel(logging.ERROR)

_SKIP = {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form",
         "iframe", "button", "select", "figure", "figcaption", "head"}
_BLOCK = {"p", "div", "section", "article", "main", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
          "h6", "blockquote", "tr", "table", "dd", "dt", "pre", "hr"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "source", "wbr", "area", "base", "col", "embed"}
_DATE_META = ("article:published_time", "date", "dc.date", "dcterms.date", "pubdate", "publishdate",
              "og:published_time", "datepublished", "dc.date.issued")


class _ArticleParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.article_parts: list[str] | None = None
        self.skip_depth = 0
        self.stack: list[str] = []
        self.title = ""
        self.h1 = ""
        self.meta_title = ""
        self.date_candidates: list[str] = []
        self._in_title = self._in_h1 = False
        self._article_depth = 0

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        if self._article_depth:
            assert self.article_parts is not None
            self.article_parts.append(text)

    def handle_starttag(self, tag, attrs):
        attrs = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
            if key in ("og:title", "twitter:title") and not self.meta_title:
                self.meta_title = attrs.get("content", "")
            elif key in _DATE_META:
                self.date_candidates.append(attrs.get("content", ""))
            return
        if tag == "time" and attrs.get("datetime"):
            self.date_candidates.append(attrs["datetime"])
        if tag in _VOID:
            if tag == "br" and not self.skip_depth:
                self._emit("\n")
            return
        self.stack.append(tag)
        if tag in _SKIP:
            self.skip_depth += 1
        if tag == "article":
            self._article_depth += 1
            if self.article_parts is None:
                self.article_parts = []
        if tag in _BLOCK and not self.skip_depth:
            self._emit("\n\n")
        self._in_title = tag == "title" or self._in_title
        self._in_h1 = (tag == "h1" and not self.h1) or self._in_h1

    def handle_endtag(self, tag):
        if tag in _VOID or tag not in self.stack:
            return
        while self.stack:  # close unclosed children too (broken HTML)
            open_tag = self.stack.pop()
            if open_tag in _SKIP:
                self.skip_depth -= 1
            if open_tag == "article":
                self._article_depth -= 1
            if open_tag == "title":
                self._in_title = False
            if open_tag == "h1":
                self._in_h1 = False
            if open_tag == tag:
                break
        if tag in _BLOCK and not self.skip_depth:
            self._emit("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
            return
        if self.skip_depth:
            return
        if self._in_h1:
            self.h1 += data
        self._emit(data.replace("\n", " "))


# Related-post teasers marked up as <article>: short and linked ("Mehr zum Thema: …"). Without this, a page whose
# real text is no <article> starts with the first teaser.
# <nav> and <footer> are pruned before extraction too: on a short page trafilatura falls back to the whole body.
# Scored on 200 real German pages (delegations bench --html): no change in F1 from either.
_NEVER_TEXT = ["//article[.//a][string-length(normalize-space(string(.))) < 400]", "//nav", "//footer"]


def extract_html(markup: str) -> tuple[str, str, str | None]:
    """(title, text, publication date or None) of an HTML document; paragraphs are separated by a blank line.
    The text is "" when neither reader finds any. The date is the one the page's markup states (meta tags,
    JSON-LD, <time>, the URL; htmldate without its search of the free text, which turns a "Mai 2024" in
    the text into 2024-01-01); without one the article's own dateline is read as for any text."""
    import trafilatura
    from trafilatura.settings import set_date_params

    try:
        found = trafilatura.bare_extraction(markup, with_metadata=True, include_comments=False, include_tables=True,
                                            prune_xpath=_NEVER_TEXT, date_extraction_params=set_date_params(False))
    except Exception:  # noqa: BLE001 - lxml and trafilatura raise many types on broken markup; the own reader follows
        found = None
    text = "\n\n".join(line.strip() for line in (found.text or "").split("\n") if line.strip()) if found else ""
    if text:
        return " ".join((found.title or "").split()), text, found.date or None
    return _tag_stripped(markup)


def _tag_stripped(markup: str) -> tuple[str, str, str | None]:
    """The page's text with scripts, navigation and other known boilerplate elements left out."""
    parser = _ArticleParser()
    parser.feed(markup)
    parser.close()
    body = parser.article_parts if parser.article_parts and "".join(parser.article_parts).strip() else parser.parts
    title = " ".join((parser.meta_title or parser.h1 or parser.title).split())
    date = next((d for d in parser.date_candidates if d.strip()), None)
    return title, "".join(body), date
