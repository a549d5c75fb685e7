"""Source code is `not-prose`, never `spun` (issue 16 item 9); prose is never taken for code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.pack import default_pack_path
from unspin.prose import looks_like_code

from .conftest import EXAMPLE, REPO, SHARED, needs_shared

needs_pack = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)
STDIO = Path("/usr/include/stdio.h")


def _check(path: Path) -> tuple[int, dict]:
    p = subprocess.run([sys.executable, "-m", "unspin", "check", "--json", str(path)], capture_output=True)
    return p.returncode, json.loads(p.stdout)


@needs_pack
def test_python_module_with_docstrings_is_not_prose() -> None:
    rc, report = _check(REPO / "src" / "unspin" / "textio.py")  # the report: "spun", 0.99
    assert (rc, report["verdict"], report["spun"]) == (0, "not-prose", False)


@needs_pack
@pytest.mark.skipif(not STDIO.exists(), reason="no /usr/include/stdio.h")
def test_c_header_is_not_prose(tmp_path: Path) -> None:
    head = tmp_path / "stdio-head.h"
    head.write_bytes(STDIO.read_bytes()[:6144])  # the report: "spun", 0.95
    rc, report = _check(head)
    assert (rc, report["verdict"]) == (0, "not-prose")


def test_the_repository_code_is_code() -> None:
    files = [p for d in ("src", "tests", "bench") for p in (REPO / d).rglob("*.py") if p.stat().st_size > 300]
    assert files and all(looks_like_code(p.read_text(encoding="utf-8")) for p in files)


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE.read_text(encoding="utf-8"),
        "Ingredients:\napples;\npears;\nflour (200 g);\nsugar = to taste\n",
        "Crew list:\nDale Axtell, 6 September 43 to 13 October 45, BM1c;\nDavid Bates, 12 December 45, S1c(SM);\n"
        "LeRoy Bradley, 9 February 44 to 18 May 44, StM1c;\nCarl Bunner, 31 December 43 to 19 July 45, QM2c;\n",
    ],
)
def test_prose_lists_and_recipes_are_not_code(text: str) -> None:
    assert not looks_like_code(text)


@needs_shared
def test_clean_news_is_never_code() -> None:
    rows = [json.loads(x) for x in (SHARED / "dev" / "clean-news.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert rows and not any(looks_like_code(r["text"]) for r in rows)


def test_held_out_wikipedia_is_never_code() -> None:
    from unspin.pack.corpus import held_out_articles

    try:
        articles = held_out_articles()
    except FileNotFoundError as exc:
        pytest.skip(f"no Wikipedia corpus: {exc}")
    assert len(articles) >= 1000
    assert [a["id"] for a in articles if looks_like_code(a["text"])] == []


def test_the_quick_prose_test_never_skips_a_line_the_patterns_would_count() -> None:
    """`code_share` passes over lines `_may_be_code` rejects without running its patterns, for speed:
    every line of real code that a pattern matches, or that opens a comment or docstring, must get
    through (this repository's Python, and C headers where the machine has them)."""
    from unspin import prose

    files = sorted((REPO / "src").rglob("*.py")) + sorted(Path("/usr/include").glob("*.h"))[:200]
    lines = {line.strip() for f in files for line in f.read_text(encoding="utf-8", errors="replace").splitlines()}
    counted = [
        line for line in lines
        if prose._CODE_LINE.search(line) or len(prose._CODE_TOKEN.findall(line)) >= 2
        or any(opening in line for opening, _ in prose._BLOCKS)
    ]  # fmt: skip
    assert len(counted) > 2000
    assert [line for line in counted if not prose._may_be_code(line)] == []
    assert not prose._may_be_code("The minister said the talks would resume next week.")
