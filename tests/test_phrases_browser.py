"""The web page with phrase lists, in a real browser (Debian's chromium) against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from unspin.serve.app import ServeConfig

from .serve_helpers import running, serve_pack_dir
from .test_serve_browser import ARGS, ARTIFACTS, CHROMIUM, new_page, sync_api

TEXT = (
    "Hospitals now apply profound learning to scans. The team said a bosom peril cohort of 200 women was "
    "followed for five years, and the soldiers of the study were thanked."
)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("lists") / "server.tsv"
    path.write_text("profound learning\tdeep learning\n", encoding="utf-8")
    config = ServeConfig(pack_dir=str(serve_pack_dir()), timeout=120, workers=1, phrases=[str(path)])
    with running(config) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def test_open_a_list_file_and_see_its_matches_apart(url: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mine = tmp_path / "mine.tsv"
    mine.write_text("# ours\nbosom peril\tbreast cancer\tour note\n", encoding="utf-8")
    page, errors = new_page(browser, 1280, 900)
    page.goto(url)
    page.fill("#text", TEXT)
    page.click("#phrases-box summary")
    page.wait_for_selector("#phrases-server:not([hidden])")
    assert "server.tsv" in page.locator("#phrases-server").inner_text()
    page.set_input_files("#phrases-file", str(mine))
    # A locator wait, not wait_for_function: the page's CSP (script-src 'self') forbids the eval it uses.
    sync_api.expect(page.locator("#phrases")).to_have_value(re.compile("bosom peril"))
    page.click("#check")
    page.wait_for_selector("#results:not([hidden])")
    listed = page.locator("#view-marked button.spun.listed")
    assert [listed.nth(i).inner_text() for i in range(listed.count())] == ["profound learning", "bosom peril"]
    # Listed matches are listed apart from the model's spans.
    assert page.locator("#listed-box").is_visible()
    items = page.locator("#listed-list li")
    assert items.count() == 2
    assert "server.tsv:1" in items.nth(0).inner_text() and "mine.tsv" not in items.nth(0).inner_text()
    assert "your list:2" in items.nth(1).inner_text()
    model_items = page.locator("#spans-list li")
    texts = [model_items.nth(i).inner_text() for i in range(model_items.count())]
    assert not any(t.startswith(("profound learning", "bosom peril")) for t in texts)
    assert page.locator("#spans-count").inner_text() == str(len(texts))
    # Its detail says where it came from; accepting it restores it.
    listed.nth(1).click()
    assert page.locator("#d-original").inner_text() == "breast cancer"
    assert page.locator("#d-why").inner_text().startswith("listed in your list:2")
    assert "phrase list" in page.locator("#d-confidence").inner_text()
    page.click("#tab-restored")
    assert "deep learning" in page.locator("#view-restored").inner_text()
    assert "breast cancer cohort" in page.locator("#view-restored").inner_text()
    page.click("#tab-marked")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve-phrases.png"), full_page=True)
    assert errors == []


def test_a_bad_pasted_list_says_which_line(url: str, browser) -> None:  # type: ignore[no-untyped-def]
    page, _ = new_page(browser, 1280, 900)
    page.goto(url)
    page.fill("#text", TEXT)
    page.click("#phrases-box summary")
    page.fill("#phrases", "fine one\tgood one\nbroken line without a tab\n")
    page.click("#check")
    page.wait_for_selector("#error:not([hidden])")
    assert page.locator("#error").inner_text().startswith("your list:2: expected spun<TAB>original")
