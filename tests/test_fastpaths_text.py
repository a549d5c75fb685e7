"""The compiled per-token loops (``pack/ext/text_scan.hh`` and ``Model.screen_counts``) give exactly the
answers of the pure-Python functions they stand in for: tokens and sentences (every code point, generated
and real text), and the language gate, eligibility flags and screening counts of `unspin check --fast`."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unspin import tokens
from unspin.decode import channel, check, detect
from unspin.pack import LanguagePack, default_pack_path
from unspin.tokens import Token, sentence_tokens, tokenize

from .conftest import EXAMPLE, REPO, SEED, SHARED


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
def test_property_tokens_and_sentences_match_the_reference(ext, text: str) -> None:
    _same_tokens(text)
    _same_sentences(text)


@settings(max_examples=500, deadline=None)
@given(_texts, st.integers(-5, 210), st.one_of(st.none(), st.integers(-5, 210)))
def test_property_token_bounds_match_the_reference(ext, text: str, start: int, end: int | None) -> None:
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


# --- the language gate, eligibility and the screening pass ------------------------------------------

needs_pack = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)
FOREIGN = [
    "Le gouvernement français a annoncé mardi une série de mesures destinées à soutenir les entreprises touchées "
    "par la crise, selon le ministre de l'Économie, et les syndicats estiment que le plan reste insuffisant.",
    "Правительство России во вторник объявило о новых мерах поддержки малого бизнеса. По словам министра, льготные "
    "кредиты получат более ста тысяч предприятий в течение ближайших месяцев.",
    "Die Bundesregierung hat am Dienstag ein neues Gesetz zur Förderung erneuerbarer Energien beschlossen; nach "
    "Angaben des Ministeriums sollen bis 2030 achtzig Prozent des Stroms aus Wind und Sonne stammen.",
]


@pytest.fixture(scope="module")
def pack(ext) -> LanguagePack:
    loaded = LanguagePack.load()
    assert loaded.vocab.compiled_tables is not None and hasattr(loaded.lm._batch, "screen_counts")
    return loaded


def _outcome(fn, *args):
    """What a call returns, or the type of what it raises (a lone surrogate cannot be encoded for KenLM:
    both paths raise UnicodeEncodeError, from different places)."""
    try:
        return fn(*args)
    except Exception as e:
        return type(e)


def _same_screening(pack: LanguagePack, text: str) -> None:
    sents = sentence_tokens(text)
    toks = [t for s in sents for t in s]
    assert detect._gate_counts(pack, toks) == detect._gate_counts_py(pack, toks)
    flags = channel.eligible_flags(pack, sents)
    assert channel.eligible_core(pack, sents) == channel._eligible_flags_py(pack, sents)
    assert channel.eligible_core(None, sents) == channel._eligible_flags_py(None, sents)
    # Bit for bit: the counts and the float sum, not approximately.
    fast = _outcome(detect._screen_counts, pack, sents, flags)
    assert fast == _outcome(detect._screen_counts_py, pack, sents, flags)


@needs_pack
def test_screening_matches_the_reference_on_real_text(pack: LanguagePack) -> None:
    texts = _real_texts() + FOREIGN + ["", "word", "\n\n", "1 2 3 4 5 | 6 7 8 | 9 10"]
    if (SHARED / "dev" / "clean-news.jsonl").exists():
        texts += [json.loads(line)["text"] for line in (SHARED / "dev" / "clean-news.jsonl").open(encoding="utf-8")]
    for text in texts:
        _same_screening(pack, text)


_VOCAB = st.sampled_from(
    ["the", "The", "troopers", "Overseas", "Ministry", "Foreign", "ministry", "said", "Reuters", "Friday", "air",
     "electricity", "power", "cellphone", "contact", "Turkey", "’s", "'s", "don't", "can’t", "naïve", "Café",
     "Zoë", "Москва", "Ελληνικά", "İstanbul", "ΣΟΦΟΣ", "xyzzyq", "A", "I", "a", "1,000", "33", "3.5", "M5", "x2",
     "of", "and", "in", "to", "USA", "NATO", "Paris", "paris", "OF", "And"]
)  # fmt: skip
_prose = st.lists(st.tuples(_VOCAB, st.sampled_from([" ", " ", " ", ", ", ". ", "! ", "\n", " - ", "? "])),
                  max_size=80).map(lambda ps: "".join(w + s for w, s in ps))  # fmt: skip


@needs_pack
@settings(max_examples=400, deadline=None)
@given(st.one_of(_prose, _texts))
def test_property_screening_matches_the_reference(pack: LanguagePack, text: str) -> None:
    _same_screening(pack, text)


@needs_pack
def test_string_tables_find_what_numpy_finds(pack: LanguagePack) -> None:
    vocab = pack.vocab
    uncased, cased = vocab.compiled_tables
    words = vocab._u.strings(range(0, len(vocab._u), 97)) + vocab._c.strings(range(0, len(vocab._c), 89))
    words += ["", "\x00", "a\x00", "zzzzzzzzzz", "é", "Москва", "x" * 47, "x" * 48, "x" * 49, "x" * 300, "the", "The"]
    words += [vocab._u.string(0), vocab._u.string(len(vocab._u) - 1), vocab._c.string(len(vocab._c) - 1)]
    # Twice, and past the size at which the tables' memo of recent lookups is cleared.
    words = words + words + [f"w{i}" for i in range(70_000)] + words
    assert uncased.counts(words) == vocab.counts(words).tolist()
    assert cased.counts(words) == vocab.cased_counts(words).tolist()


@needs_pack
def test_inputs_the_compiled_loops_do_not_handle_take_the_reference(pack: LanguagePack, ext) -> None:
    odd = [[Token("a b", 0, 3, "word"), Token("the", 4, 7, "word")]]  # a form KenLM would split in two
    assert pack.lm._batch.screen_counts(odd, [[True, True]], tokens.lm_form) is None
    assert detect._screen_counts(pack, odd, [[True, True]]) == detect._screen_counts_py(pack, odd, [[True, True]])
    plain = [[("word", 0, 4, "word")]]  # not Tokens
    assert ext.eligible_flags(plain, channel.FUNCTION_WORDS, None) is None
    # Iterators are left for the reference to consume (the compiled loops read lists and tuples only).
    sents = sentence_tokens(EXAMPLE.read_text(encoding="utf-8"))
    flags = channel._eligible_flags_py(pack, sents)
    assert channel.eligible_core(pack, iter(sents)) == flags
    assert channel.eligible_core(pack, [iter(s) for s in sents]) == flags
    want = detect.screen(pack, sents, flags)
    assert detect.screen(pack, iter(sents), iter(flags)) == want
    assert detect.screen(pack, tuple(sents), [tuple(f) for f in flags]) == want
    two = sentence_tokens("One. Two.")
    with pytest.raises(ValueError):  # zip(strict=True), as before
        detect.screen(pack, two, [[True, True]])
    with pytest.raises(IndexError):  # a row shorter than its sentence, as before
        detect.screen(pack, two, [[True], [True]])


@needs_pack
def test_check_is_the_same_without_the_extension(pack: LanguagePack, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [EXAMPLE.read_text(encoding="utf-8"), FOREIGN[0], "Too short to judge.", *(_real_texts()[1:3])]
    fast = [(check(t, pack).to_dict(), check(t, pack, fast=True).to_dict()) for t in texts]
    monkeypatch.setattr(tokens, "_EXT", [None])
    slow = [(check(t, pack).to_dict(), check(t, pack, fast=True).to_dict()) for t in texts]
    assert fast == slow
