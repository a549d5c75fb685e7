"""The shared tokenizer: offsets, kinds, sentences and the language-model form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from unspin.tokens import lm_form, sentences, tokenize


def texts(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def test_words_numbers_punctuation() -> None:
    toks = tokenize("Some 309 Syrian troops, 1,000 people and 3.5% of al-Assad’s M5 road.")
    assert [(t.text, t.kind) for t in toks][:6] == [
        ("Some", "word"), ("309", "number"), ("Syrian", "word"), ("troops", "word"), (",", "punct"), ("1,000", "number")
    ]  # fmt: skip
    assert texts("3.5% of al-Assad’s M5 road")[:9] == ["3.5", "%", "of", "al", "-", "Assad", "’s", "M5", "road"]


def test_unicode_passes_through_with_exact_offsets() -> None:
    text = "“Zoë’s café” — Łódź, 北京 und Москва…"
    for t in tokenize(text):
        assert text[t.start : t.end] == t.text
    assert "Zoë" in texts(text) and "北京" in texts(text) and "Москва" in texts(text)


def test_contractions_stay_whole() -> None:
    assert texts("don't can’t O'Brien") == ["don't", "can’t", "O'Brien"]


def test_sentences() -> None:
    text = "Dr. Smith arrived at 10.30 a.m. on Friday. He said: “It is over.” Then he left!\nA headline\nNext."
    got = [text[s:e] for s, e in sentences(text)]
    assert got == [
        "Dr. Smith arrived at 10.30 a.m. on Friday.",
        "He said: “It is over.”",
        "Then he left!",
        "A headline",
        "Next.",
    ]


def test_lm_form() -> None:
    assert [lm_form(t) for t in texts("Turkey’s 33 Troops")] == ["turkey", "'s", "00", "troops"]


@given(st.text(max_size=200))
def test_offsets_always_index_the_input(text: str) -> None:
    pos = 0
    for t in tokenize(text):
        assert text[t.start : t.end] == t.text and t.start >= pos
        pos = t.end
    for s, e in sentences(text):
        assert 0 <= s < e <= len(text)
