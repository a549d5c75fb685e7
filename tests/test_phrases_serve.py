"""Phrase lists in `unspin serve`: the server's lists (--phrases) and a request's own, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unspin.serve.app import ServeConfig
from unspin.serve.models import MAX_PHRASES_CHARS

from .serve_helpers import assert_error, running, serve_pack_dir

TEXT = "The team used profound learning and a bosom peril cohort, said the hospital on Monday."


@pytest.fixture(scope="module")
def server_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lists") / "server.tsv"
    path.write_text("profound learning\tdeep learning\tthe server's list\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def url(server_list: Path) -> Iterator[str]:
    config = ServeConfig(pack_dir=str(serve_pack_dir()), timeout=120, workers=1, phrases=[str(server_list)])
    with running(config) as base:
        yield base


def post(url: str, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=120)


def listed(d: dict) -> list[tuple[str, str | None, str]]:
    return [(s["text"], s["original"], s["why"].split(":")[0]) for s in d["spans"] if s.get("source") == "list"]


def test_health_names_the_lists(url: str) -> None:
    h = httpx.get(f"{url}/healthz").json()
    assert h["phrases"] == "1 entry (2 forms) from server.tsv"


def test_server_list_applies_to_every_check(url: str) -> None:
    d = post(url, "/v1/check", {"text": TEXT, "segments": True}).json()
    assert listed(d) == [("profound learning", "deep learning", "listed in server.tsv")]
    assert d["spun"] is True
    seg = [s for s in d["segments"] if s.get("source") == "list"]
    assert [s["text"] for s in seg] == ["profound learning"]
    assert all("source" not in s for s in d["segments"] if s["kind"] == "span" and s["text"] != "profound learning")


def test_request_list_adds_to_the_servers_and_keys_the_cache(url: str) -> None:
    mine = "bosom peril\tbreast cancer\n"
    d = post(url, "/v1/check", {"text": TEXT, "phrases": mine}).json()
    assert listed(d) == [
        ("profound learning", "deep learning", "listed in server.tsv"),
        ("bosom peril", "breast cancer", "listed in your list"),
    ]
    # The same text without the list is answered without it (the cache keys the list too).
    assert len(listed(post(url, "/v1/check", {"text": TEXT}).json())) == 1
    r = post(url, "/v1/restore", {"text": TEXT, "phrases": mine}).json()
    assert "deep learning and a breast cancer cohort" in r["restored"]


def test_trace_bodies_take_a_list_too(url: str) -> None:
    r = post(url, "/v1/trace", {"text": TEXT, "phrases": "bosom peril\tbreast cancer\n"})
    assert_error(r, 503, "no_index")  # no index here; the field itself is accepted


def test_bad_request_lists(url: str) -> None:
    err = assert_error(
        post(url, "/v1/check", {"text": TEXT, "phrases": "ok one\tfine\nbad line\n"}), 422, "invalid_phrases"
    )
    assert err["message"].startswith("your list:2: expected spun<TAB>original")
    err = assert_error(post(url, "/v1/check", {"text": TEXT, "phrases": "x\tx\n" * 3}), 422, "invalid_phrases")
    assert "your list:1: 'x' is its own original" in err["message"]
    big = "a b\tc\n" * (MAX_PHRASES_CHARS // 6 + 1)
    assert_error(post(url, "/v1/check", {"text": TEXT, "phrases": big}), 422, "invalid_request")
    # The server is still answering.
    assert post(url, "/v1/check", {"text": TEXT}).status_code == 200


def test_cli_refuses_a_bad_server_list(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("good one\tfine\ndup\tx\ndup\ty\n", encoding="utf-8")
    p = subprocess.run(
        [sys.executable, "-m", "unspin", "serve", "--port", "0", "--phrases", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.strip() == "unspin: error: bad.tsv:3: duplicate of line 2 ('dup')"
