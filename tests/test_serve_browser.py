"""The web page in a real browser: Playwright drives Debian's chromium (headless) against a real server.

Skips only when /usr/bin/chromium is missing outside CI; in CI (``CI`` set) a missing browser fails,
because scripts/install-browser.sh is meant to have installed it. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unspin.serve.app import ServeConfig

from .conftest import EXAMPLE, REPO
from .serve_helpers import SPUN, build_index, running, serve_pack_dir

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing in CI: run scripts/install-browser.sh before the tests")
    pytest.skip(f"{CHROMIUM} not installed (scripts/install-browser.sh installs it)", allow_module_level=True)

sync_api = (
    pytest.importorskip("playwright.sync_api")
    if not os.environ.get("CI")
    else __import__("playwright.sync_api", fromlist=["sync_playwright"])
)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(ServeConfig(pack_dir=str(serve_pack_dir()), timeout=120)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def new_page(browser, width: int, height: int):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page, errors


def test_paste_check_click_accept_download(url: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    text = EXAMPLE.read_text(encoding="utf-8")
    page, errors = new_page(browser, 1280, 900)
    page.goto(url)
    page.fill("#text", text)
    page.click("#check")
    page.wait_for_selector("#results:not([hidden])")
    spans = page.locator("#view-marked button.spun")
    assert spans.count() > 0, "the example's swapped phrases are highlighted"
    # The shown text is the input, exactly (repairs show their fixed form, the hint shows originals).
    assert page.locator("#view-marked .fix").count() > 0, "repairs are shown where they were made"
    # Click the first span that has an original; its detail appears.
    first = page.locator("#view-marked button.spun + .orig-hint").first.locator("xpath=preceding-sibling::button[1]")
    first.click()
    assert page.locator("#detail-body").is_visible()
    original = page.locator("#d-original").inner_text()
    assert original and page.locator("#d-why").inner_text()
    page.click("#accept")
    assert "accepted" in (first.get_attribute("class") or "")
    assert "accepted" in page.locator("#d-status").inner_text()
    # The restored view shows the original in place.
    page.click("#tab-restored")
    assert original in page.locator("#view-restored").inner_text()
    page.click("#tab-marked")
    page.screenshot(path=str(ARTIFACTS / "serve-desktop.png"), full_page=True)
    # Download the report as JSON: the decision travels with it.
    with page.expect_download() as info:
        page.click("#download-json")
    saved = tmp_path / "report.json"
    info.value.save_as(saved)
    report = json.loads(saved.read_text(encoding="utf-8"))
    assert report["version"] == 1 and "segments" not in report
    assert [s.get("decision") for s in report["spans"]].count("accepted") == 1
    assert all(text[s["start"] : s["end"]] == s["text"] for s in report["spans"])
    # And as a standalone HTML file.
    with page.expect_download() as info:
        page.click("#download-html")
    html_file = tmp_path / "report.html"
    info.value.save_as(html_file)
    assert "<!doctype html>" in html_file.read_text(encoding="utf-8")
    assert errors == []


def test_reject_keeps_the_text_and_keyboard_works(url: str, browser) -> None:  # type: ignore[no-untyped-def]
    page, errors = new_page(browser, 1280, 900)
    page.goto(url)
    page.fill("#text", EXAMPLE.read_text(encoding="utf-8"))
    page.keyboard.press("Tab")  # focus moves on from the text box: the form is keyboard-reachable
    page.focus("#check")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results:not([hidden])")
    span = page.locator("#view-marked button.spun").first
    span.focus()
    page.keyboard.press("Enter")
    assert page.locator("#detail-body").is_visible()
    written = page.locator("#d-text").inner_text()
    page.keyboard.press("r")  # shortcut: keep as written
    assert "rejected" in (page.locator("#view-marked button.spun").first.get_attribute("class") or "")
    page.click("#tab-restored")
    page.keyboard.press("ArrowLeft")  # tabs follow the ARIA arrow-key pattern
    assert page.locator("#tab-marked").get_attribute("aria-selected") == "true"
    assert written
    assert errors == []


def test_phone_width_and_untrusted_text(url: str, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = new_page(browser, 390, 844)
    page.goto(url)
    hostile = '😀 <img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> 𝔘𝔫𝔰𝔭𝔦𝔫\n\n'
    text = hostile + EXAMPLE.read_text(encoding="utf-8")
    page.fill("#text", text)
    page.click("#check")
    page.wait_for_selector("#results:not([hidden])")
    assert page.evaluate("window.pwned") is None, "text is shown as text, never run"
    assert page.locator("#view-marked img").count() == 0
    assert "<img src=x" in page.locator("#view-marked").inner_text()
    # Highlights line up with the text even after characters outside the BMP (UTF-16 pairs in JS).
    spans = httpx.post(f"{url}/v1/check", json={"text": text}, timeout=120).json()["spans"]
    shown = page.locator("#view-marked button.spun").all_inner_texts()
    assert shown == [s["text"] for s in spans]
    first = page.locator("#view-marked button.spun").first
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"
    first.click()
    page.screenshot(path=str(ARTIFACTS / "serve-phone.png"), full_page=True)
    assert errors == []


def test_html_file_drop_is_read_as_text(url: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, errors = new_page(browser, 1024, 800)
    page.goto(url)
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>t</title><script>x()</script></head><body><p>First &amp; # 39 para.</p>"
        "<p>Second para.</p></body></html>",
        encoding="utf-8",
    )
    page.set_input_files("#file", str(f))
    # A locator wait, not wait_for_function: the page's CSP (script-src 'self') forbids the eval it uses.
    sync_api.expect(page.locator("#text")).to_have_value(re.compile("Second"))
    value = page.input_value("#text")
    assert "First & # 39 para." in value and "x()" not in value and "<p>" not in value
    page.click("#repair-only")
    page.wait_for_selector("#results:not([hidden])")
    assert page.locator("#repairs-count").inner_text() == "1"
    page.click("#repairs-box summary")
    item = page.locator("#repairs-list li").first.inner_text()
    assert "line 1" in item and "entity" in item, item
    page.click("#repairs-list button")  # jumps to the repair in the text
    assert page.locator("#view-marked .fix.flash").count() == 1
    assert errors == []


def test_page_asks_for_the_api_key(browser) -> None:  # type: ignore[no-untyped-def]
    with running(ServeConfig(pack_dir=str(serve_pack_dir()), api_key="k3y")) as base:
        page, _ = new_page(browser, 1024, 800)
        page.goto(base)
        assert not page.locator("#key-row").is_visible()
        page.fill("#text", "St Anne & # 39 s school.")
        page.click("#repair-only")
        page.wait_for_selector("#key-row:not([hidden])")
        assert "API key" in page.locator("#error").inner_text()
        page.fill("#api-key", "k3y")
        page.click("#repair-only")
        page.wait_for_selector("#results:not([hidden])")
        assert page.locator("#repairs-count").inner_text() == "1"


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = build_index(tmp_path_factory.mktemp("refs"), serve_pack_dir())
    with running(ServeConfig(pack_dir=str(serve_pack_dir()), index_dir=str(index), timeout=120)) as base:
        yield base


def test_no_source_tab_without_an_index(url: str, browser) -> None:  # type: ignore[no-untyped-def]
    page, errors = new_page(browser, 1280, 900)
    page.goto(url)
    page.fill("#text", SPUN)
    page.click("#check")
    page.wait_for_selector("#results:not([hidden])")
    assert page.locator("#tab-source").is_hidden()
    assert errors == []


def test_source_side_by_side_with_changed_facts(traced: str, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = new_page(browser, 1280, 900)
    page.goto(traced)
    text = "😀 " + SPUN  # a character outside the BMP first: the columns must still line up
    page.fill("#text", text)
    page.click("#check")
    page.wait_for_selector("#results:not([hidden])")
    assert page.locator("#view-marked button.spun").count() > 0, "the spans are there as without an index"
    assert "Council closes the Harbour Bridge" in page.locator("#summary").inner_text()
    tab = page.locator("#tab-source")
    assert tab.is_visible()
    # Keyboard: from the selected tab, the arrow keys reach the Source tab.
    page.focus("#tab-marked")
    page.keyboard.press("End")
    assert tab.get_attribute("aria-selected") == "true"
    view = page.locator("#view-source")
    assert view.is_visible() and page.locator("#detail").is_hidden(), "the source view takes the full width"
    assert "Council closes the Harbour Bridge" in page.locator("#source-title").inner_text()
    passage = view.locator(".passage").first
    copy_col, source_col = passage.locator(".col-copy"), passage.locator(".col-source")
    copy_box, source_box = copy_col.bounding_box(), source_col.bounding_box()
    assert copy_box and source_box and source_box["x"] > copy_box["x"] + copy_box["width"] - 1, "side by side"
    assert abs(source_box["y"] - copy_box["y"]) < 2
    # The changed number and name are marked in both columns, with a text label (not colour alone).
    copy_marks = copy_col.locator("mark.fact-altered")
    source_marks = source_col.locator("mark.fact-altered")
    assert any(m.startswith("34") for m in copy_marks.all_inner_texts())
    assert any(m.startswith("33") for m in source_marks.all_inner_texts())
    assert any("Ruiz" in m for m in copy_marks.all_inner_texts())
    assert any("Ortiz" in m for m in source_marks.all_inner_texts())
    assert {t.lower() for t in copy_marks.locator(".fact-tag").all_inner_texts()} >= {"number changed", "name changed"}
    # Without the labels, each column is exactly its text: the copy as pasted, the source passage.
    stripped = page.evaluate(
        """() => Array.from(document.querySelectorAll('#view-source .passage')).map((li) => ['.col-copy', '.col-source']
            .map((c) => { const p = li.querySelector(c + ' .passage-text').cloneNode(true);
                          p.querySelectorAll('.fact-tag').forEach((t) => t.remove()); return p.textContent; }))"""
    )
    assert "Engineers discovered 34 cracked beams" in stripped[0][0]
    assert "Engineers found 33 cracked beams" in stripped[0][1]
    traced_report = httpx.post(f"{traced}/v1/trace", json={"text": text, "top": 5}, timeout=120).json()
    best = traced_report["trace"][0]
    assert stripped == [[text[p["copy_start"] : p["copy_end"]], p["source_text"]] for p in best["passages"]]
    # The list of changed facts; its buttons jump to the fact in the passage.
    facts = page.locator("#facts-list li").all_inner_texts()
    assert any("33" in f and "34" in f for f in facts), facts
    number = page.locator("#facts-list button", has_text="number changed").first
    number.focus()
    page.keyboard.press("Enter")
    assert page.locator("#view-source mark.flash").count() == 2, "both sides of the fact are shown"
    # The other candidate is listed with its score and can be opened.
    candidates = page.locator("#view-source .candidate")
    assert candidates.count() == len(traced_report["trace"]) >= 2
    assert candidates.first.get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(ARTIFACTS / "serve-source-desktop.png"), full_page=True)
    candidates.nth(1).click()
    assert "Old town shops" in page.locator("#source-title").inner_text()
    assert candidates.nth(1).get_attribute("aria-pressed") == "true"
    assert errors == []


def test_source_stacks_on_a_phone(traced: str, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = new_page(browser, 390, 844)
    page.goto(traced)
    page.fill("#text", SPUN)
    page.click("#check")
    page.wait_for_selector("#results:not([hidden])")
    page.click("#tab-source")
    passage = page.locator("#view-source .passage").first
    copy_box = passage.locator(".col-copy").bounding_box()
    source_box = passage.locator(".col-source").bounding_box()
    assert copy_box and source_box and source_box["y"] >= copy_box["y"] + copy_box["height"] - 1, "stacked"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no horizontal scrolling"
    page.screenshot(path=str(ARTIFACTS / "serve-source-phone.png"), full_page=True)
    assert errors == []
