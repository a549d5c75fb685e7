"""The compiled per-token loops (``pack/ext/text_scan.hh`` and ``Model.screen_counts``) give exactly the
answers of the pure-Python functions they stand in for: tokens and sentences (every code point, generated
and real text), and the language gate, eligibility flags and screening counts of `unspin check --fast`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unspin import tokens
from unspin.tokens import Token, sentence_tokens, tokenize

from .conftest import EXAMPLE, REPO, SEED


@pytest.fixture(scope="module")
def ext():
    """The compiled extension, built if missing (as the pack tests do)."""
    subprocess.run(["bash", str(REPO / "scripts" / "build-kenlm-tools.sh")], check=True, capture_output=True)
    tokens._EXT.clear()  # resolve again: the build may have just produced it
    module = tokens._compiled()
    assert module is not None, "scripts/build-kenlm-tools.sh should have built unspin.pack._kenlm_batch"
    return module


def _same_tokens(text: str, start: int = 0, end: int | None = None) -> None:
    assert tokenize(text, start, end) == tokens._tokenize_py(text, start, end)


def _same_sentences(text: str) -> None:
    assert sentence_tokens(text) == tokens._sentence_tokens_py(text)


def _real_texts() -> list[str]:
    texts = [EXAMPLE.read_text(encoding="utf-8"), (REPO / "README.md").read_text(encoding="utf-8"),
             (REPO / "tests" / "fixtures" / "news-small.txt").read_text(encoding="utf-8"),
             (REPO / "src" / "unspin" / "repair.py").read_text(encoding="utf-8")]  # fmt: skip
    if SEED.exists():
        texts.append(SEED.read_text(encoding="utf-8"))
    return texts


# --- tokens and sentences ---------------------------------------------------------------------------


_ALL = "".join(map(chr, range(sys.maxunicode + 1)))


def test_the_regex_classes_are_the_str_predicates() -> None:
    # What the scanner relies on: \s, [^\W_] and \d in Python's `re` are str.isspace, isalnum and
    # isdecimal (the scanner calls the same Py_UNICODE_IS* functions), for every code point.
    for pattern, predicate in ((r"\s", str.isspace), (r"[^\W_]", str.isalnum), (r"\d", str.isdecimal)):
        assert "".join(re.findall(pattern, _ALL)) == "".join(filter(predicate, _ALL)), pattern


def _representatives() -> str:
    """Every code point below U+0800 (the scanner's own tables cover Latin-1), one code point per
    combination of the predicates the scanner asks above it, and the few whose lower case is ASCII."""
    seen: dict[tuple, str] = {}
    for c in _ALL[0x800:]:
        key = (c.isspace(), c.isalnum(), c.isdecimal(), c.isalpha(), c.isupper(), c.islower(), c.isdigit(),
               c.isnumeric())  # fmt: skip
        seen.setdefault(key, c)
    odd_case = [c for c in _ALL[0x80:] if c.lower() != c and c.lower().isascii()]
    return _ALL[:0x800] + "".join(seen.values()) + "".join(odd_case) + "\u2019\u2026\u201d\u00bb"


def test_every_kind_of_code_point_tokenizes_as_python_does(ext) -> None:
    # Each code point where a token can start, inside a word, after digits and separators, around an
    # apostrophe and before a possessive s: the places where \s, \d, [^\W_] and isalpha decide.
    text = "".join(f"{c}a{c}1{c}.1{c}'{c}s {c}1,2{c}" for c in _representatives())
    assert ext.tokenize(text, 0, len(text)) == tokens._tokenize_py(text)


def test_every_kind_of_code_point_splits_sentences_as_python_does(ext) -> None:
    # After a full stop (does it start a sentence: islower), as a single-letter "abbreviation"
    # (isalpha, lower), as a would-be ender or closer.
    lines = (f"Ab. {c}x y. A{c}. {c}. B.{c} C{c}r. D" for c in _representatives() if c != "\n")
    text = "\n".join(lines)
    assert ext.sentence_tokens(text) == tokens._sentence_tokens_py(text)


_TRICKY = st.sampled_from(
    [*"aZ09 .,:;'’_-!?…\"”)]»«(\n\t", "Mr", "dr", "e.g", "Fig", "no", "'s", "’S", "s", "١٢", "½", "²", "ǅ",
     "İ", "ß", "Σ", "ς", "中", "😀", "\u0301", "\u2028", "\xa0", "\x1c", "\x85", "\x00", "\r", "1,000", "3.5",
     "10:30", "1.2.3a", "12abc", "O'Brien", "don’t", "\ud800"]
)  # fmt: skip
_texts = st.one_of(st.text(max_size=200), st.lists(_TRICKY, max_size=60).map("".join))


@settings(max_examples=2000, deadline=None)
@given(_texts)
def test_property_tokens_and_sentences_match_the_reference(text: str) -> None:
    tokens._compiled()
    _same_tokens(text)
    _same_sentences(text)


@settings(max_examples=500, deadline=None)
@given(_texts, st.integers(-5, 210), st.one_of(st.none(), st.integers(-5, 210)))
def test_property_token_bounds_match_the_reference(text: str, start: int, end: int | None) -> None:
    _same_tokens(text, start, end)


def test_real_texts_tokenize_as_the_reference(ext) -> None:
    for text in _real_texts():
        _same_tokens(text)
        _same_sentences(text)


def test_compiled_tokens_are_tokens(ext) -> None:
    toks = tokenize("Turkey’s 1,000 troops")
    assert [type(t) for t in toks] == [Token] * len(toks)
    assert toks[0] == Token("Turkey", 0, 6, "word") and toks[0].kind is tokens.WORD
    assert toks[2].kind == tokens.NUMBER and toks[2].start == 9
