"""The compiled extension (``unspin.pack._kenlm_batch``) is the only implementation of the tokenizer, the
sentence splitter, eligibility, the language gate and the screening pass: their answers are pinned here to
hand-known values, to invariants any text must keep, and to KenLM's own scores; and an install without the
extension says so in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unspin import tokens
from unspin.decode import channel, detect
from unspin.pack import LanguagePack, default_pack_path
from unspin.tokens import NUMBER, PUNCT, WORD, Token, lm_form, sentence_tokens, tokenize

from .conftest import EXAMPLE, REPO

# --- tokens ---------------------------------------------------------------------------------------------

TOKENS = [
    ("Turkey’s 1,000 troops", [("Turkey", WORD), ("’s", WORD), ("1,000", NUMBER), ("troops", WORD)]),
    ("don't O'Brien I'm he’S x's", [("don't", WORD), ("O'Brien", WORD), ("I'm", WORD), ("he", WORD), ("’S", WORD),
                                    ("x", WORD), ("'s", WORD)]),
    ("3.5% at 10:30, 1.2.3a 12abc", [("3.5", NUMBER), ("%", PUNCT), ("at", WORD), ("10:30", NUMBER), (",", PUNCT),
                                     ("1.2", NUMBER), (".", PUNCT), ("3a", WORD), ("12abc", WORD)]),
    ("١٢ a_b Turkey-backed", [("١٢", NUMBER), ("a", WORD), ("_", PUNCT), ("b", WORD), ("Turkey", WORD), ("-", PUNCT),
                              ("backed", WORD)]),
    ("naïve Zoë's café…", [("naïve", WORD), ("Zoë", WORD), ("'s", WORD), ("café", WORD), ("…", PUNCT)]),
    ("  \n\t ", []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "want"), TOKENS)
def test_tokens_of_hand_checked_texts(text: str, want: list[tuple[str, str]]) -> None:
    got = tokenize(text)
    assert [(t.text, t.kind) for t in got] == want
    assert all(text[t.start : t.end] == t.text for t in got)


def test_tokens_are_tokens_with_offsets_into_the_text() -> None:
    toks = tokenize("Turkey’s 1,000 troops")
    assert [type(t) for t in toks] == [Token] * len(toks)
    assert toks[0] == Token("Turkey", 0, 6, "word") and toks[0].kind is tokens.WORD
    assert toks[2] == Token("1,000", 9, 14, "number")


def test_token_bounds_are_clamped_as_slices_are() -> None:
    text = "one two three"
    assert [t.text for t in tokenize(text, 4)] == ["two", "three"]
    assert [t.text for t in tokenize(text, 4, 7)] == ["two"]
    assert [(t.text, t.start) for t in tokenize(text, 5, 7)] == [("wo", 5)]  # a bound inside a word cuts it
    assert [t.text for t in tokenize(text, -5, 100)] == ["one", "two", "three"]
    assert tokenize(text, 9, 3) == [] and tokenize(text, 100) == []


class _Str(str):
    pass


def test_a_str_subclass_tokenizes_as_its_str() -> None:
    assert tokenize(_Str("two words")) == tokenize("two words")
    assert sentence_tokens(_Str("One. Two.")) == sentence_tokens("One. Two.")


# --- sentences ------------------------------------------------------------------------------------------

SENTENCES = [
    ("Mr. Smith went to Washington. He said “no.” Then left! ok? fine. Dr. No arrived.",
     ["Mr . Smith went to Washington .", "He said “ no . ” Then left ! ok ? fine .", "Dr . No arrived ."]),
    ("Headline without stop\nLast line. \"", ["Headline without stop", "Last line . \""]),
    ("See Fig. 3 and e. g. the U.S. army. Next one…  Yes.", ["See Fig . 3 and e . g . the U . S . army .",
                                                            "Next one …", "Yes ."]),
    ("It rained.The end. “Quoted.” After", ["It rained . The end .", "“ Quoted . ”", "After"]),
    ("", []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "want"), SENTENCES)
def test_sentences_of_hand_checked_texts(text: str, want: list[str]) -> None:
    assert [" ".join(t.text for t in s) for s in sentence_tokens(text)] == want


_TRICKY = st.sampled_from(
    [*"aZ09 .,:;'’_-!?…\"”)]»«(\n\t", "Mr", "dr", "e.g", "Fig", "no", "'s", "’S", "s", "١٢", "½", "²", "ǅ",
     "İ", "ß", "Σ", "ς", "中", "😀", "\u0301", "\u2028", "\xa0", "\x1c", "\x85", "\x00", "\r", "1,000", "3.5",
     "10:30", "1.2.3a", "12abc", "O'Brien", "don’t", "\ud800"]
)  # fmt: skip
_texts = st.one_of(st.text(max_size=200), st.lists(_TRICKY, max_size=60).map("".join))


@settings(max_examples=1500, deadline=None)
@given(_texts)
def test_property_tokens_cover_every_non_space_character_once(text: str) -> None:
    toks = tokenize(text)
    covered = []
    pos = 0
    for t in toks:
        assert pos <= t.start < t.end and text[t.start : t.end] == t.text
        assert not any(c.isspace() for c in t.text)
        if t.kind == PUNCT:
            assert len(t.text) == 1 and not t.text.isalnum()
        elif t.kind == NUMBER:  # digits, with separators or apostrophes between them
            assert all(c.isdecimal() or c in ".,:'’" for c in t.text)
        else:  # at least one letter or other non-digit alphanumeric ("¼")
            assert t.kind == WORD and any(c.isalnum() and not c.isdecimal() for c in t.text)
        covered.append(t.text)
        pos = t.end
    assert "".join(covered) == "".join(c for c in text if not c.isspace())
    # Sentences regroup the same tokens, in order, and never run across a line break.
    sents = sentence_tokens(text)
    assert [t for s in sents for t in s] == toks
    assert all(s and "\n" not in text[s[0].start : s[-1].end] for s in sents)


@settings(max_examples=300, deadline=None)
@given(_texts, st.integers(-5, 210), st.one_of(st.none(), st.integers(-5, 210)))
def test_property_bounded_tokens_are_the_tokens_of_the_slice(text: str, start: int, end: int | None) -> None:
    lo = max(0, min(start, len(text)))
    hi = len(text) if end is None else max(0, min(end, len(text)))
    want = [t._replace(start=t.start + lo, end=t.end + lo) for t in tokenize(text[lo:hi])] if lo <= hi else []
    assert tokenize(text, start, end) == want


# --- eligibility, the language gate and the screening pass ----------------------------------------------

needs_pack = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)
FOREIGN = (
    "Le gouvernement français a annoncé mardi une série de mesures destinées à soutenir les entreprises touchées "
    "par la crise, selon le ministre de l'Économie, et les syndicats estiment que le plan reste insuffisant."
)
SAMPLE = ("The troopers departed the town on Friday, Reuters said. Then the Overseas Ministry and the Foreign Ministry "
          "met 7 days later.")  # fmt: skip


@pytest.fixture(scope="module")
def pack() -> LanguagePack:
    return LanguagePack.load()


@needs_pack
def test_eligibility_of_a_hand_checked_text(pack: LanguagePack) -> None:
    sents = sentence_tokens(SAMPLE)
    rows = zip(sents, channel.eligible_flags(pack, sents), strict=True)
    flags = {(si, t.text): ok for si, (s, row) in enumerate(rows) for t, ok in zip(s, row, strict=True)}
    # Content words are; function words, punctuation, numbers and a unit after a figure are not.
    assert flags[0, "troopers"] and flags[0, "departed"] and flags[0, "said"] and flags[1, "met"]
    assert not (flags[0, "The"] or flags[0, "the"] or flags[0, ","] or flags[1, "7"] or flags[1, "days"])
    # Capitalised mid-sentence: names (the corpus writes them capitalised) are not, swaps are.
    assert not flags[0, "Friday"] and not flags[0, "Reuters"]
    assert flags[1, "Overseas"] and flags[1, "Foreign"]
    # Without a pack, capitalisation decides nothing.
    no_pack = channel.eligible_core(None, sents)
    assert no_pack[0][[t.text for t in sents[0]].index("Reuters")]


@needs_pack
def test_the_language_gate_counts_of_a_hand_checked_text(pack: LanguagePack) -> None:
    toks = tokenize(SAMPLE)
    # 24 tokens, 20 words (not the 7 nor the three punctuation marks), all alphabetic; the, on, the,
    # then, the, and, the are function words; the pack knows all 20.
    assert detect._gate_counts(pack, toks) == (24, 20, 20, 7, 20)
    assert detect.gate(pack, tokenize(FOREIGN * 2)) == detect.NOT_ENGLISH
    assert detect.gate(pack, tokenize(EXAMPLE.read_text(encoding="utf-8"))) is None


def _screen_by_kenlm(pack: LanguagePack, sents, flags) -> tuple[int, int, int, float]:
    """`detect.screen`'s rule written out with the kenlm module's own scores, for a few sentences."""
    model = pack.lm.model
    count = hits = low = 0
    pmi = 0.0
    for sent, ok in zip(sents, flags, strict=True):
        forms = [lm_form(t.text) for t in sent]
        scores = list(model.full_scores(" ".join(forms), bos=True, eos=True))
        for k in range(len(sent)):
            if not ok[k] or scores[k][2]:  # not eligible, or out of vocabulary
                continue
            count += 1
            hits += scores[k][1] <= 1 and scores[k + 1][1] <= 1
            gain = scores[k][0] - model.score(forms[k], bos=False, eos=False)
            if k < len(sent) - 1:
                gain += scores[k + 1][0] - model.score(forms[k + 1], bos=False, eos=False)
            pmi += gain
            low += gain < 0
    return count, hits, low, pmi


@needs_pack
def test_the_screening_pass_agrees_with_kenlm(pack: LanguagePack) -> None:
    for text in (SAMPLE, EXAMPLE.read_text(encoding="utf-8"), "xyzzyq frobbed the wibble.", ""):
        sents = sentence_tokens(text)
        flags = channel.eligible_flags(pack, sents)
        count, hits, low, pmi = detect._screen_counts(pack, sents, flags)
        want = _screen_by_kenlm(pack, sents, flags)
        assert (count, hits, low) == want[:3]
        assert pmi == pytest.approx(want[3], abs=1e-6)
    assert detect._screen_counts(pack, [], []) == (0, 0, 0, 0.0)


@needs_pack
def test_the_compiled_loops_take_any_sequence_and_refuse_other_shapes(pack: LanguagePack) -> None:
    sents = sentence_tokens(EXAMPLE.read_text(encoding="utf-8"))
    flags = channel.eligible_flags(pack, sents)
    assert channel.eligible_core(pack, iter(sents)) == channel.eligible_core(pack, [iter(s) for s in sents])
    want = detect.screen(pack, sents, flags)
    assert detect.screen(pack, iter(sents), iter(flags)) == want
    assert detect.screen(pack, tuple(sents), [tuple(f) for f in flags]) == want
    toks = [t for s in sents for t in s]
    assert detect._gate_counts(pack, iter(toks)) == detect._gate_counts(pack, toks)
    two = sentence_tokens("One. Two.")
    with pytest.raises(ValueError):  # a row of flags per sentence
        detect.screen(pack, two, [[True, True]])
    with pytest.raises(IndexError):  # a flag per token
        detect.screen(pack, two, [[True], [True]])
    with pytest.raises(TypeError):  # not Tokens: no other path to take
        channel.eligible_core(pack, [[("word", 0, 4, "word")]])
    with pytest.raises(TypeError):
        pack.lm.batch.window_gains(("not", "a", "list"), [])
    with pytest.raises(ValueError):  # a form KenLM would split in two
        detect._screen_counts(pack, [[Token("a b", 0, 3, WORD)]], [[True]])


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


# --- without the extension ------------------------------------------------------------------------------

_WITHOUT = (
    "import sys; sys.modules['unspin.pack._kenlm_batch'] = None; "  # as if it were not installed
    "from unspin.cli import main; sys.argv = ['unspin', *sys.argv[1:]]; main()"
)


@needs_pack
def test_without_the_extension_the_cli_says_so_in_one_line(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    run = subprocess.run([sys.executable, "-c", _WITHOUT, "check", str(EXAMPLE)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)  # fmt: skip
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("unspin: error: unspin's compiled extension") and "reinstall unspin" in run.stderr
    # `unspin repair` needs no extension; `pack info` reports it missing.
    run = subprocess.run([sys.executable, "-c", _WITHOUT, "repair", str(EXAMPLE)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)  # fmt: skip
    assert run.returncode == 0 and run.stdout.strip()
    run = subprocess.run([sys.executable, "-c", _WITHOUT, "pack", "info", "--json"], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)  # fmt: skip
    assert run.returncode == 0 and json.loads(run.stdout)["compiled"] is False


@needs_pack
def test_pack_info_says_the_extension_is_present() -> None:
    from click.testing import CliRunner

    from unspin.pack.cli import pack as pack_cli

    result = CliRunner().invoke(pack_cli, ["info", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["compiled"] is True


# --- the language model's form of a token ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "form"),
    [("Turkey", "turkey"), ("Turkey’s", "turkey's"), ("1,000", "0,000"), ("10:30", "00:00"), ("ÉCOLE", "école"),
     ("İstanbul", "i̇stanbul"), ("١٢٣", "000"), ("don’t", "don't"), ("M5", "m0"), ("", ""), ("’", "'")],
)  # fmt: skip
def test_lm_form_of_hand_checked_tokens(text: str, form: str) -> None:
    assert lm_form(text) == form
    assert type(lm_form(_Str(text))) is str and lm_form(_Str(text)) == form


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_property_lm_form_is_lower_case_with_straight_apostrophes_and_zeros(text: str) -> None:
    form = lm_form(text)
    assert form == "".join("0" if c.isdecimal() else "'" if c == "’" else c for c in text.lower())
    assert form == lm_form(form)  # a form is its own form


def test_a_build_of_other_sources_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A checkout updated without `make setup` keeps its old in-place build: refused in one clear error,
    # not half used (a function missing or answering in an older shape).
    import types

    import unspin.pack
    from unspin import native

    stale = types.ModuleType("unspin.pack._kenlm_batch")
    stale.__file__ = "/old/checkout/_kenlm_batch.so"
    monkeypatch.setitem(sys.modules, "unspin.pack._kenlm_batch", stale)
    monkeypatch.setattr(unspin.pack, "_kenlm_batch", stale, raising=False)
    monkeypatch.setattr(native, "_MODULE", [])
    with pytest.raises(native.ExtensionMissing, match=r"built from other sources \(API 1, this unspin needs"):
        native.module()
    assert not native.available()
