"""Repair: each kind of damage, the promise to leave clean text alone, and the edit log's offsets."""

from __future__ import annotations

import importlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unspin.repair import repair, repair_text

from .conftest import EXAMPLE, REPO, SEED, needs_shared


def fixed(text: str) -> str:
    return repair_text(text)[0]


def kinds(text: str) -> list[str]:
    return [r.kind for r in repair_text(text)[1]]


@pytest.mark.parametrize(
    ("damaged", "clean"),
    [
        ("It&#39;s here", "It's here"),
        ("It&#39s here", "It's here"),  # no semicolon
        ("It&#x27;s here", "It's here"),
        ("St Anne & # 39 s school", "St Anne's school"),  # spaced out by a scraper
        ("Turkey & # 39 hits 200 targets & # 39", "Turkey 'hits 200 targets'"),
        ("It & #39;s fine", "It's fine"),
        ("AT&amp;#39;s plan", "AT's plan"),  # double-escaped
        ("AT&amp;amp;T", "AT&T"),
        ("a truce,quot in talks", 'a truce" in talks'),
        ("a “sustainable truce,quot in talks", "a “sustainable truce” in talks"),  # follows the page's style
        ("zone,quot; arrangement", 'zone" arrangement'),
        ("he said &quot;no&quot;", 'he said "no"'),
        ("he said &quot no", 'he said " no'),
        ("don&rsquo;t", "don’t"),
        ("a&nbsp;b", "a b"),  # a plain space, not U+00A0
        ("a&nbsp b", "a  b"),
        ("Q&amp;A", "Q&A"),
    ],
)
def test_entities(damaged: str, clean: str) -> None:
    assert fixed(damaged) == clean
    assert set(kinds(damaged)) == {"entity"}


@pytest.mark.parametrize(
    "clean",
    [
        "The quota was met; a quotation followed, and quotes were checked.",
        "Tom & Jerry, R&D, Q& #1 seed, 5 & 6",
        "Say “hello” — it’s fine… ‘quoted’ text, naïve café, Zoë, Łódź, 北京, Ελληνικά, Москва.",
        "Price: 50% off; 100%% sure; {not a template}; [a list]; [[1, 2], [3]]",
        "An emoji family 👨\u200d👩\u200d👧 stays joined.",
        "",
        "\n\n  \t",
    ],
)
def test_clean_text_is_untouched(clean: str) -> None:
    assert repair_text(clean) == (clean, [])


def test_mojibake_uses_ftfy() -> None:
    assert fixed("Itâ€™s a cafÃ© â€” nice") == "It’s a café — nice"
    assert set(kinds("Itâ€™s a cafÃ©")) == {"mojibake"}


@pytest.mark.parametrize(
    ("damaged", "clean"),
    [
        (" date 2020-02-28 %MINIFYHTMLf3556dc8d8e07e77b9f15b02731be02211%", " date 2020-02-28"),
        ("Dear %%FIRSTNAME%%, hello", "Dear, hello"),
        ("Hello {{ user.name }} and welcome", "Hello and welcome"),
        ("{% if x %}Text", "Text"),
        ("Read [[related_posts]] more", "Read more"),
    ],
)
def test_template_tokens(damaged: str, clean: str) -> None:
    assert fixed(damaged) == clean
    assert set(kinds(damaged)) == {"template"}


def test_invisible_characters() -> None:
    assert fixed("spin\u200bning and soft\u00adhyphen") == "spinning and softhyphen"
    assert fixed("zero\u200cwidth") == "zerowidth"
    assert set(kinds("spin\u200bning")) == {"invisible"}


def test_homoglyphs_are_their_own_kind() -> None:
    text = "Log in to pаypal now, Gооgle said"  # Cyrillic а and о
    repaired, repairs = repair_text(text)
    assert repaired == "Log in to paypal now, Google said"
    assert {r.kind for r in repairs} == {"homoglyph"}
    assert fixed("Москва and Αθήνα") == "Москва and Αθήνα"  # genuine words stay


def test_edit_log_indexes_the_input() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    repaired, repairs = repair_text(text)
    assert repairs, "the shipped example has damage to repair"
    rebuilt, pos = [], 0
    for r in repairs:
        assert text[r.start : r.end] == r.before
        assert r.start >= pos, "edits are sorted and disjoint"
        rebuilt += [text[pos : r.start], r.after]
        pos = r.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == repaired


def test_composed_edits_still_index_the_input() -> None:
    # Removing the template token leaves "&amp;#39;", a double-encoded apostrophe, which the next pass
    # decodes: the second pass's edit is merged with the first, one edit from the input to the result.
    text = "a &amp;%%X%%#39;s b"
    repaired, repairs = repair_text(text)
    assert repaired == "a 's b"
    assert [(r.start, r.end, r.before, r.after) for r in repairs] == [(2, 16, "&amp;%%X%%#39;", "'")]
    for r in repairs:
        assert text[r.start : r.end] == r.before
    assert repair_text(repaired)[1] == []


def test_report_shape() -> None:
    d = repair("It&#39;s").to_dict()
    assert d["version"] == 1 and d["repaired"] == "It's"
    assert d["repairs"] == [{"start": 2, "end": 7, "before": "&#39;", "after": "'", "kind": "entity"}]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


@needs_shared
def test_seed_example() -> None:
    text = SEED.read_text(encoding="utf-8")
    repaired, repairs = repair_text(text)
    assert "MINIFYHTML" not in repaired and "& # 39" not in repaired and ",quot" not in repaired
    assert repaired.count("'") == text.count("& # 39")
    assert {r.before.strip() for r in repairs} == {
        "%MINIFYHTMLf3556dc8d8e07e77b9f15b02731be02211%",
        "& # 39",
        ",quot",
    }
    for r in repairs:
        if r.before == ",quot":
            assert r.after == "”"
    # Nothing else changes: the words are the same, less the template token and the entity debris.
    before = [w for w in _words(text) if not w.startswith("MINIFYHTML") and w not in ("quot", "39")]
    assert _words(repaired) == before


# --- properties -------------------------------------------------------------------------------------

# Honest prose: words of several scripts, numbers, punctuation, curly quotes, and near-misses of
# every damage pattern, separated the way prose separates them. (Arbitrary Unicode soup is not honest
# prose: "Ć¤" really is what mojibake of "Ƥ" looks like.)
_word = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'’-", min_size=1, max_size=10),
    st.sampled_from(
        ["quota", "quotation", "quote", "R&D", "Tom & Jerry", "50%", "{x}", "[y]", "it’s", "“a”", "—", "naïve",
         "café", "Zoë", "Łódź", "São", "Müller", "北京", "Москва", "Ελληνικά", "façade", "1,200", "3.5", "(b)",
         "e.g.", "…", "«oui»", "#1", "&", "x=1;", "a/b", "@home", "50 % off"]
    ),
)  # fmt: skip
_separator = st.sampled_from([" ", " ", ", ", ". ", "\n", "\n\n", " – "])
_clean_text = st.lists(st.tuples(_word, _separator), max_size=30).map(lambda ps: "".join(w + s for w, s in ps))
_damage_piece = st.sampled_from(
    ["&#39;", "& # 39", "&amp;#39;", ",quot", "&quot;", "&nbsp;", "â€™", "%MINIFYHTMLabc123%", "{{ x }}",
     "\u200b", "pаypal", "%%NAME%%", "&rsquo;", "&amp;", " & # 39 s"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(_clean_text)
def test_property_clean_text_unchanged(text: str) -> None:
    assert repair_text(text) == (text, [])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_word, _separator, _damage_piece), max_size=30).map("".join))
def test_property_idempotent_and_offsets_exact(text: str) -> None:
    repaired, repairs = repair_text(text)
    for r in repairs:
        assert text[r.start : r.end] == r.before
        assert r.before != r.after
    assert repair_text(repaired) == (repaired, [])


# --- the pre-checks change nothing ------------------------------------------------------------------
# Each finder first asks whether its damage can be present (repair._PRECHECKS); with them off every
# pattern scans the whole text, as before they existed. Both must give the same answer on any text.

_repair = importlib.import_module("unspin.repair")  # `unspin.repair` the attribute is the function


def _full_scan(text: str):
    """repair_text with every pre-check off (and ftfy's own is_bad for mojibake)."""
    saved = _repair._PRECHECKS
    _repair._PRECHECKS = False
    try:
        return repair_text(text)
    finally:
        _repair._PRECHECKS = saved


_probe = _repair._badness_probe()
# The characters the mojibake detector (ftfy's BADNESS_RE) reasons about, for text that trips it.
_MOJIBAKE_CHARS = "".join(sorted({chr(c) for c in range(0x80, 0x2600) if _repair.BADNESS_RE.search(chr(c))} |
                                 set("ÃÂâ€™œ\x9d©®°·»¢£¤¥¦§¨ª«¬¯±²³´µ¶¸¹º¼½¾¿ØÙÎÐВГРСΒΓΞΟ√≈‚Äāβ")))  # fmt: skip
_mojibake_text = st.text(alphabet=_MOJIBAKE_CHARS + "abcXYZ .,\n'", max_size=60)
_any_piece = st.one_of(
    _word, _separator, _damage_piece, st.text(max_size=3), st.text(alphabet=_MOJIBAKE_CHARS, max_size=3),
    st.sampled_from(["&", "quot", "%", "{", "[[", "{%", "%%", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",
                     "\u180e", "а", "о", "Ο", "&#", "&amp;", ";", "#", "39", " "]),
)  # fmt: skip


def test_badness_probe_covers_the_installed_ftfy() -> None:
    assert _probe is not None, "ftfy's BADNESS_RE changed shape: _looks_bad falls back to is_bad (slower)"
    need, width = _probe
    assert 1 < width <= 64
    assert not need.search("".join(map(chr, range(128)))), "a match always holds a non-ASCII character"


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_mojibake_text, st.text(max_size=80), st.lists(_any_piece, max_size=25).map("".join)))
def test_property_windowed_badness_equals_ftfy(text: str) -> None:
    assert _repair._looks_bad(text) == _repair.is_bad(text)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_clean_text, st.text(max_size=120), _mojibake_text,
                 st.lists(_any_piece, max_size=40).map("".join)))  # fmt: skip
def test_property_prechecks_change_nothing(text: str) -> None:
    assert repair_text(text) == _full_scan(text)


def test_prechecks_change_nothing_on_real_pages() -> None:
    texts = [EXAMPLE.read_text(encoding="utf-8"), (REPO / "README.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "tests").glob("test_*.py"))]
    if SEED.exists():
        texts.append(SEED.read_text(encoding="utf-8"))
    for text in texts:
        assert repair_text(text) == _full_scan(text)
