"""`repair` against ftfy's own test cases (tests/data/ftfy-cases, copied from ftfy with its licence).

Each case's expected text is ftfy's ``fixed-encoding`` (what ``ftfy.fix_encoding`` gives), except where
the input holds an HTML entity: repair decodes entities, as ``ftfy.fix_text`` does, so its ``fixed``
is the fair expectation there. Negatives (text that looks like mojibake and is not) must come out as
they went in: repair's first promise is that clean text is left byte-identical.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from unspin.repair import repair_text

CASES = Path(__file__).resolve().parent / "data" / "ftfy-cases"
_ENTITY = re.compile(r"&[A-Za-z#][A-Za-z0-9]*;")


def _cases(name: str) -> list[pytest.param]:
    cases = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    return [pytest.param(c, id=f"{name}-{i}") for i, c in enumerate(cases) if c.get("expect") == "pass"]


def _expected(case: dict) -> str:
    if _ENTITY.search(case["original"]):
        return case["fixed"]
    return case.get("fixed-encoding", case["fixed"])


@pytest.mark.parametrize("case", _cases("in-the-wild") + _cases("language-names"))
def test_mojibake_found_in_the_wild_is_repaired(case: dict) -> None:
    repaired, repairs = repair_text(case["original"])
    assert repaired == _expected(case), case["label"]
    for r in repairs:
        assert case["original"][r.start : r.end] == r.before  # the log still indexes the input


@pytest.mark.parametrize("case", _cases("negative"))
def test_text_that_only_looks_like_mojibake_is_left_alone(case: dict) -> None:
    repaired, _ = repair_text(case["original"])
    assert repaired == _expected(case), case["label"]
    if _expected(case) == case["original"]:
        assert repaired.encode("utf-8") == case["original"].encode("utf-8")


def test_all_three_files_are_counted() -> None:
    assert [len(_cases(n)) for n in ("in-the-wild", "language-names", "negative")] == [70, 20, 31]


def test_mojibake_on_a_long_line_is_repaired_in_place() -> None:
    """bench/fuzz.py found a character-level diff taking time quadratic in a repeated character's
    count (a 10,000-character line: 20 s; this one would take minutes); the edits are the same."""
    text = "Itâ€™s " + "x" * 20_000 + " cafÃ© " + "y" * 20_000 + " Ã\xadgeno"
    repaired, repairs = repair_text(text)
    assert repaired == "It’s " + "x" * 20_000 + " café " + "y" * 20_000 + " ígeno"
    assert [(r.before, r.after) for r in repairs] == [("â€™", "’"), ("Ã©", "é"), ("Ã\xad", "í")]
    assert all(text[r.start : r.end] == r.before for r in repairs)
