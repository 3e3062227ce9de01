"""The web viewer end to end in real headless Chromium (Debian's chromium and
chromium-driver, driven by selenium; nothing downloads a browser).

Screenshots of each step are kept under tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from web_support import HOSTILE, HOSTILE_TEXT, PASTED, ROOT, A, B, Server, build_store

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="chromium and chromium-driver not installed (scripts/install-system-deps)",
    ),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(build_store(tmp_path_factory.mktemp("web-ui"))) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1300,1800", "--no-first-run"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module", autouse=True)
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def shot(driver: WebDriver, name: str) -> None:
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def texts(driver: WebDriver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def test_overview_then_pair_with_highlighted_edits(server: Server, browser: WebDriver) -> None:
    browser.get(server.url + "/")
    shot(browser, "1-overview")
    assert browser.find_element(By.ID, "count-articles").text == "3"
    assert browser.find_element(By.ID, "count-pairs").text == "1"
    assert browser.find_element(By.ID, "share-uncredited").text == "100%"
    assert A in texts(browser, "table.top-sources a")
    assert B in texts(browser, "table.top-reusers a")

    browser.find_element(By.CSS_SELECTOR, "a.pair-link").click()
    WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "tr.passage"))
    )
    shot(browser, "2-pair")
    assert f"{B} reuses {A}" in browser.find_element(By.TAG_NAME, "h1").text
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.passage")
    assert len(rows) == 3
    left = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "td.source-side")]
    right = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "td.target-side")]
    assert all("That comes three months after" in side[0] for side in (left, right))
    assert left[2].endswith("border with Colombia.") and "border with Colombia." in right[2]
    # the two alias edits, highlighted on both sides, in the alias colour
    assert texts(browser, "td.source-side > span.edit.alias") == ["U.S.", "Russia"]
    assert texts(browser, "td.target-side > span.edit.alias") == ["USA", "Russian Federation"]
    marked = browser.find_element(By.CSS_SELECTOR, "td.target-side > span.edit.alias")
    plain = browser.find_element(By.CSS_SELECTOR, "td.target-side")
    assert marked.value_of_css_property("background-color") != plain.value_of_css_property(
        "background-color"
    )
    # 003 is marked uncredited; the origin comes with its evidence
    credit = browser.find_element(By.CSS_SELECTOR, "p.summary .credit.uncredited")
    assert credit.text == "UNCREDITED"
    assert credit.value_of_css_property("color") == "rgba(201, 42, 42, 1)"
    assert any("Reuters" in e for e in texts(browser, "ul.evidence li"))
    # 003's patchwork: reused sentences coloured by source, novel ones listed
    novel = texts(browser, "li.novel-sentence")
    assert len(novel) == 10
    assert any(s.startswith("Deeper Russian involvement") for s in novel)
    assert any(s.startswith("An AFP journalist") for s in novel)
    coloured = " ".join(texts(browser, ".article-text span.src0"))
    assert "Maduro has denounced the sanctions as USA interventionism" in coloured
    assert "Latest News" in " ".join(texts(browser, ".article-text span.boiler"))


def test_article_page_and_search(server: Server, browser: WebDriver) -> None:
    browser.get(server.url + "/")
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys("Deeper Russian involvement")
    box.submit()
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "result-count")))
    shot(browser, "3-search")
    assert texts(browser, "tr.article-row td:first-child a") == [B]
    browser.find_element(By.LINK_TEXT, B).click()
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "patchwork")))
    shot(browser, "4-article")
    assert browser.find_element(By.CSS_SELECTOR, "h1.article-title").text.startswith("Russia Lands")
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.novel-sentence")) == 10
    assert browser.find_elements(By.CSS_SELECTOR, ".article-text span.boiler")
    assert browser.find_elements(By.CSS_SELECTOR, ".article-text span.novel")


def test_check_a_pasted_article(server: Server, browser: WebDriver) -> None:
    browser.get(server.url + "/check")
    title, _, body = PASTED.partition("\n\n")
    browser.find_element(By.ID, "check-title").send_keys(title)
    area = browser.find_element(By.ID, "check-text")
    browser.execute_script("arguments[0].value = arguments[1];", area, body)
    area.send_keys(" ")  # typed input too, not only a script-set value
    shot(browser, "5-check-form")
    browser.find_element(By.ID, "check-submit").click()
    WebDriverWait(browser, 120).until(ec.presence_of_element_located((By.ID, "check-result")))
    shot(browser, "6-check-result")
    summary = browser.find_element(By.ID, "check-summary").text
    assert "shares text with 1 stored article" in summary and "not stored" in summary
    assert texts(browser, ".check-pair h3 a") == [A]
    assert "UNCREDITED" in browser.find_element(By.CSS_SELECTOR, ".check-pair h3").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.passage")) == 2
    assert texts(browser, "td.target-side > span.edit.alias") == ["Russian Federation"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.novel-sentence")) == 2
    # nothing was stored
    browser.get(server.url + "/")
    assert browser.find_element(By.ID, "count-articles").text == "3"


def test_story_page(server: Server, browser: WebDriver) -> None:
    browser.get(server.url + "/stories")
    links = browser.find_elements(By.CSS_SELECTOR, "a.story-link")
    assert links, "the seeds make one story"
    links[0].click()
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.graph")))
    shot(browser, "9-story")
    members = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "ol.timeline-list a")}
    assert {A, B} <= members
    # the reuse graph draws 000 -> 003 in the uncredited colour
    arrows = browser.find_elements(By.CSS_SELECTOR, "svg.graph line.reuse.uncredited")
    assert len(arrows) == 1
    facts = {r.find_element(By.CSS_SELECTOR, "td").text: r.get_attribute("class")
             for r in browser.find_elements(By.CSS_SELECTOR, "table.facts tr")[1:]}  # fmt: skip
    assert facts.get("quantity: troop") == "agree"
    rows = [r.get_attribute("class") for r in browser.find_elements(By.CSS_SELECTOR,
                                                                      "table.facts tr")[1:]]
    assert rows == sorted(rows, key=lambda c: c != "conflict")  # conflicts first


HOSTILE_PAGES = (
    f"/article/{HOSTILE}",
    "/articles",
    "/articles?q=script",
    "/articles?q=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E",
    "/no/such/<script>window.__pwned='404'</script>",
)


def _assert_inert(browser: WebDriver) -> None:
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    scripts = browser.execute_script(
        "return Array.from(document.scripts).map(s => s.getAttribute('src'))"
    )
    assert scripts == ["/static/app.js"]
    handlers = browser.execute_script(
        "return Array.from(document.querySelectorAll('*')).flatMap(e => "
        "Array.from(e.attributes).map(a => a.name)).filter(n => n.startsWith('on'))"
    )
    assert handlers == []
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript']")
    assert not browser.find_elements(By.CSS_SELECTOR, "main img, main svg")


def test_hostile_article_runs_no_script(server: Server, browser: WebDriver) -> None:
    for n, path in enumerate(HOSTILE_PAGES):
        browser.get(server.url + path)
        shot(browser, f"7-hostile-{n}")
        _assert_inert(browser)
    browser.get(server.url + f"/article/{HOSTILE}")
    body = browser.find_element(By.TAG_NAME, "body").text
    # shown as text, exactly as written
    assert "<script>window.__pwned='script'</script>" in body
    assert "<img src=\"x\" onerror=\"window.__pwned='onerror'\">" in body
    assert "<script>window.__pwned='title'</script>Hostile <b>title</b>" in body
    assert "javascript:window.__pwned='url'" in body  # the URL as text, not a link
    # pasting the hostile article into the check page is just as inert
    browser.get(server.url + "/check")
    area = browser.find_element(By.ID, "check-text")
    pasted = "Hostile <script>window.__pwned=1</script>\n\n" + HOSTILE_TEXT
    browser.execute_script("arguments[0].value = arguments[1];", area, pasted)
    browser.find_element(By.ID, "check-submit").click()
    WebDriverWait(browser, 120).until(ec.presence_of_element_located((By.ID, "check-result")))
    shot(browser, "8-hostile-check")
    _assert_inert(browser)
