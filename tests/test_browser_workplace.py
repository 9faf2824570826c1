"""The chat as a workplace, in a real headless Chromium against `delegations serve` with logins: an admin
uploads an article in the Dokumente tab, asks about it, gives 👎 with a comment, the feedback is exported as
an eval case, the admin deletes the article (with confirmation) and the question asked again is refused; a reader
sees no Dokumente tab and gets 403 from the document API. Clicking an example question asks it.

Set DELEGATIONS_DOCS_SCREENSHOT=dir to keep screenshots of both tabs (the README's come from here).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

from conftest import LYON_ARTICLE, LYON_QUESTION, ROOT, SAMPLE, serve
from test_browser import _ask, _last_answer

pytestmark = pytest.mark.browser




@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from web.auth import hash_password

    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLE, corpus / "sample")
    users = f"anna:{hash_password('anna-pw', 1000)},rolf:{hash_password('rolf-pw', 1000)}"
    url, proc, log = serve(tmp_path_factory, corpus,
                           f"server:\n  ui_users: '{users}'\n  ui_admins: anna\n  api_token: reader-token\n")
    yield url, log.parent, proc
    proc.terminate()
    proc.wait(timeout=30)


def _login(browser, url: str, user: str, password: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(180_000)  # a loaded CI machine: the index is reopened after an upload or a removal
    page.goto(url + "/")
    page.locator("input[type='text']").first.fill(user)
    page.locator("input[type='password']").first.fill(password)
    page.locator("input[type='password']").first.press("Enter")
    page.locator("#status-line").get_by_text("Artikel").wait_for()
    return context, page


def _shot(page, name: str) -> None:
    folder = os.environ.get("DELEGATIONS_DOCS_SCREENSHOT")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def test_admin_uploads_asks_dislikes_exports_deletes_and_the_question_is_refused(browser, server, tmp_path):
    url, data, proc = server
    context, page = _login(browser, url, "anna", "anna-pw")
    try:
        page.get_by_role("tab", name="Dokumente").click()
        page.locator("#doc-count").get_by_text("von 5 Artikeln").wait_for()
        # the table fits a 1,400 px window: no column pushed out of sight, no sideways scrolling
        widths = page.evaluate("""() => { const t = document.querySelector('#doc-table table');
            return [document.documentElement.scrollWidth, window.innerWidth, t.getBoundingClientRect().right]; }""")
        assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
        article = tmp_path / "dresden-lyon.txt"
        article.write_text(LYON_ARTICLE, encoding="utf-8")
        page.locator("#doc-upload input[type='file']").set_input_files(str(article))
        page.locator("#doc-upload-result").get_by_text("dresden-lyon.txt: 1 neu").wait_for(timeout=180_000)
        page.locator("#doc-count").get_by_text("von 6 Artikeln").wait_for()
        page.locator("#status-line").get_by_text("6 Artikel").wait_for()
        page.locator("#doc-query input, #doc-query textarea").first.fill("lyon")
        page.locator("#doc-query input, #doc-query textarea").first.press("Enter")
        page.locator("#doc-count").get_by_text("von 1 Artikeln").wait_for()
        page.locator("#doc-table [data-testid^='cell-']").filter(has_text="Dresdner Delegation in Lyon").first.click()
        page.locator("#doc-heading").get_by_text("Dresdner Delegation in Lyon").wait_for()
        _shot(page, "documents.png")

        page.get_by_role("tab", name="Fragen").click()
        _ask(page, LYON_QUESTION, 0)
        assert "Dirk Hilbert" in _last_answer(page)
        page.locator("#chat [data-testid='bot']").last.hover()
        page.locator("#chat button[aria-label='Gefällt mir nicht'], #chat button[title='Gefällt mir nicht'], #chat button[aria-label='Dislike']").last.click()
        page.locator("#feedback-note").get_by_text("👎 gespeichert").wait_for()
        page.locator("#feedback-comment textarea").fill("Es fehlt, wann die Reise war.")
        page.locator("#feedback-comment-send").click()
        page.locator("#feedback-note").get_by_text("Kommentar gespeichert").wait_for()

        exported = subprocess.run([sys.executable, "-m", "cli", "feedback", "export", "--data-dir", str(data)],
                                  cwd=ROOT, capture_output=True, text=True, timeout=60)
        case = next(c for c in yaml.safe_load(exported.stdout) if c.get("question") == LYON_QUESTION)
        assert case["todo"] and case["comment"] == "Es fehlt, wann die Reise war." and "Dirk Hilbert" in case["answer_given"]
        listed = json.loads(subprocess.run([sys.executable, "-m", "cli", "feedback", "list", "--json", "--data-dir", str(data)],
                                           cwd=ROOT, capture_output=True, text=True, timeout=60).stdout)
        assert listed["feedback"][-1]["user"] == "anna"

        page.get_by_role("tab", name="Dokumente").click()
        page.locator("#doc-delete").click()
        page.locator("#doc-confirm-question").get_by_text("dresden-lyon").wait_for()
        page.locator("#doc-delete-confirm").click()
        page.locator("#doc-deleted").get_by_text("gelöscht").wait_for(timeout=120_000)

        page.locator("#doc-count").get_by_text("von 0 Artikeln").wait_for()  # the search for "lyon" finds nothing now

        page.get_by_role("tab", name="Fragen").click()
        try:
            _ask(page, LYON_QUESTION, 1)  # asked again: the article is gone, so the articles say nothing about it
        except Exception:  # a question that never finishes: what the server's threads were doing, in the failure
            os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(2)
            pytest.fail("The question after the deletion did not finish; the server's threads:\n" +
                        (data / "serve.log").read_text(encoding="utf-8")[-20000:])
        assert _last_answer(page).startswith("Dazu finde ich nichts in den Artikeln")
    finally:
        context.close()


def test_a_reader_sees_no_documents_tab_and_gets_403_from_the_api(browser, server):
    url, _, _ = server
    context, page = _login(browser, url, "rolf", "rolf-pw")
    try:
        assert page.get_by_role("tab", name="Reisen").is_visible()
        assert page.get_by_role("tab", name="Dokumente").count() == 0 or not page.get_by_role("tab", name="Dokumente").is_visible()
        _shot(page, "reader.png")
    finally:
        context.close()
    request = urllib.request.Request(f"{url}/api/documents", headers={"Authorization": "Bearer reader-token"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403


def test_clicking_an_example_asks_it(browser, server):
    url, _, _ = server
    context, page = _login(browser, url, "rolf", "rolf-pw")
    try:
        page.get_by_text("Wer leitete die Wirtschaftsdelegation nach Japan?").first.click()
        page.wait_for_function("""() => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
                                          return m.length > 0 && m[m.length - 1].innerText.includes('Albrecht'); }""")
    finally:
        context.close()
