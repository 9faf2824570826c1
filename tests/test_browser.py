"""The chat in a real headless Chromium (Debian's `chromium`, driven by Playwright) against `delegations serve`.

Set DELEGATIONS_SCREENSHOT=path to keep the screenshot of the answered chat (the README's comes from here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import SAMPLE, _free_port, answers, serve

pytestmark = pytest.mark.browser

XSS_ARTICLE = """Kasseler Delegation in Peru

date 2023-05

Die Delegation aus Kassel reiste im Mai nach Peru. In Lima zeigte sie das Plakat <script>window.__xss = 1</script> auf der Messe.
Auf dem Stand hing ein Bild <img src=x onerror="window.__xss = 2"> neben dem Logo der Stadt Kassel.
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLE, corpus / "sample")
    (corpus / "kassel-peru.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    intranet_port = _free_port()
    url, proc, log = serve(tmp_path_factory, corpus, f"server:\n  cors_origins: [http://127.0.0.1:{intranet_port}]\n")
    yield url, log, intranet_port
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def intranet(server, tmp_path_factory):
    """Another site (another origin) whose pages embed the chat, as an intranet portal would."""
    url, _, port = server
    site = tmp_path_factory.mktemp("intranet")
    (site / "iframe.html").write_text(
        f'<h1>Portal</h1><iframe id="assistant" src="{url}/" width="1200" height="900"></iframe>', encoding="utf-8")
    (site / "component.html").write_text(
        f'<h1>Portal</h1><script type="module" src="{url}/gradio.js"></script><gradio-app src="{url}/"></gradio-app>',
        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert answers(f"http://127.0.0.1:{port}/iframe.html", 20, 0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server[0] + "/")
    page.locator("#status-line").get_by_text("Artikel").wait_for()
    yield page
    context.close()


def _ask(page, question: str, answers_before: int) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    bot = page.locator("#chat .message.bot, #chat [data-testid='bot']")
    page.wait_for_function(
        """([n]) => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
                      const sources = document.querySelector('#sources');
                      return m.length > n && !m[m.length - 1].innerText.includes('…')
                             && sources && !sources.innerText.includes('Suche in den Artikeln'); }""",
        arg=[answers_before])
    return bot


def _last_answer(page) -> str:
    return page.locator("#chat [data-testid='bot']").last.inner_text()


def test_status_line_and_examples_on_the_start_screen(page, server):
    status = page.locator("#status-line").inner_text()
    assert "6 Artikel" in status and "extraktiv" in status
    assert page.get_by_text("Wer leitete die Wirtschaftsdelegation nach Japan?").first.is_visible()
    assert "is empty: ingesting" in server[1].read_text()


def test_answer_with_citation_opens_its_source_with_the_sentence_marked(page):
    _ask(page, "Wer leitete die Wirtschaftsdelegation nach Japan?", 0)
    assert "Uwe Albrecht" in _last_answer(page)
    marker = page.locator("#chat a.cite").first
    assert marker.inner_text() == "[1]"
    marker.click()
    source = page.locator("#quelle-1")
    assert source.get_attribute("open") is not None
    assert "Uwe Albrecht" in source.locator("mark").first.inner_text()
    assert "leipzig-japan" in source.inner_text()
    if os.environ.get("DELEGATIONS_SCREENSHOT"):
        page.screenshot(path=os.environ["DELEGATIONS_SCREENSHOT"], full_page=True)


def test_a_list_question_in_the_chat_is_answered_from_the_trip_register(page):
    """The chat sends its (empty) filters with every question; the register must answer all the same, as it
    does on the command line and over the API."""
    _ask(page, "Welche Delegationen reisten nach Israel?", 0)
    assert "2 Reisen" in _last_answer(page)
    sources = page.locator("#sources").inner_text()
    assert "hamburg-israel-2019" in sources and "ruhr-innovation-bridges-israel-china-2019" in sources


def test_follow_up_uses_the_conversation_and_new_conversation_clears_it(page):
    _ask(page, "Wer leitete die Wirtschaftsdelegation nach Japan?", 0)
    _ask(page, "Und wer war noch dabei?", 1)
    assert "Japan" in page.locator("#sources").inner_text()  # "Gesucht wurde: ... (... Japan)"
    assert "leipzig-japan" in page.locator("#sources").inner_text()
    page.locator("#new-conversation").click()
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")


def test_article_markup_is_shown_as_text_and_never_runs(page):
    _ask(page, "Was zeigte die Delegation aus Kassel in Lima?", 0)
    shown = _last_answer(page) + page.locator("#sources").inner_text()
    assert "<script>" in shown or "<img src=x" in shown
    assert page.evaluate("() => window.__xss === undefined")
    assert page.locator("#sources script, #chat script, #sources img[src=x], #chat img[src=x]").count() == 0


def test_english_question_gets_an_english_answer(page):
    _ask(page, "Who led the business delegation to Japan?", 0)
    answer = _last_answer(page)
    assert "Albrecht" in answer and "quoted in German" in answer


def test_chat_embedded_in_an_intranet_page_with_an_iframe(browser, intranet):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(intranet + "/iframe.html")
    frame = page.frame_locator("#assistant")
    frame.locator("#status-line").get_by_text("Artikel").wait_for(timeout=30_000)
    frame.locator("#question textarea").fill("Wer leitete die Wirtschaftsdelegation nach Japan?")
    frame.locator("#question textarea").press("Enter")
    frame.locator("#chat a.cite").first.wait_for(timeout=30_000)
    context.close()


def test_chat_embedded_as_gradio_web_component(browser, intranet):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(intranet + "/component.html")
    page.locator("gradio-app #status-line").get_by_text("Artikel").wait_for(timeout=30_000)
    page.locator("gradio-app #question textarea").fill("Wer leitete die Wirtschaftsdelegation nach Japan?")
    page.locator("gradio-app #question textarea").press("Enter")
    page.locator("gradio-app #chat a.cite").first.wait_for(timeout=30_000)
    context.close()


def test_trips_tab_filters_shows_evidence_and_offers_csv(page):
    """The *Reisen* tab: the register as a table, filtered by a continent, a row's evidence marked in its
    passage, the chart and the CSV download. Set DELEGATIONS_TRIPS_SCREENSHOT=path to keep a screenshot."""
    page.get_by_role("tab", name="Reisen").click()
    table = page.locator("#trips-table")
    table.get_by_text("Tokio").first.wait_for()
    assert "Kai Wegner" in table.inner_text() and "Shenzhen" in table.inner_text()
    page.locator("#trips-to input, #trips-to textarea").first.fill("Asien")
    page.locator("#trips-filter").click()
    page.wait_for_function("() => !document.querySelector('#trips-table').innerText.includes('Kai Wegner')")
    assert "Tokio" in table.inner_text() and "Shenzhen" in table.inner_text()
    table.get_by_text("Uwe Albrecht").first.click()
    evidence = page.locator("#trips-evidence")
    evidence.locator("mark").first.wait_for()
    assert "Uwe Albrecht" in evidence.inner_text() and "leipzig-japan" in evidence.inner_text()
    assert page.locator("#trips-chart img, #trips-chart canvas, #trips-chart svg").count() >= 1
    with page.expect_download() as download:
        page.locator("#trips-csv").click()
    assert download.value.suggested_filename.endswith(".csv")
    if os.environ.get("DELEGATIONS_TRIPS_SCREENSHOT"):
        page.screenshot(path=os.environ["DELEGATIONS_TRIPS_SCREENSHOT"], full_page=True)


def test_an_empty_question_gets_a_hint_and_a_question_cut_at_the_limit_says_so(page):
    page.locator("#question textarea").fill("   ")
    page.locator("#question textarea").press("Enter")
    page.locator("#sources").get_by_text("Bitte zuerst eine Frage eingeben").wait_for()
    long = "Wer leitete die Wirtschaftsdelegation nach Japan? " + "Bitte ausführlich. " * 200
    _ask(page, long, 0)
    assert "abgeschnitten" in _last_answer(page) and "Albrecht" in _last_answer(page)
