"""Phrase lists (unspin.phrases): the format, matching, fingerprint queries, bad lists, the engine hook."""

from __future__ import annotations

import pickle

import pytest

from unspin.phrases import PhraseListError, from_text, load_phrases, normalise, parse_query

LIST = (
    "# a list we wrote for these tests\n"
    "counterfeit consciousness\tartificial intelligence\tPPS-style example\n"
    "profound learning\tdeep learning\n"
    "bosom peril\tbreast cancer\t\t0.9\n"
    "irregular woodland\trandom forest\n"
    "irregular woodland classifier\trandom forest classifier\n"
    "flag to clamor\t-\n"
)


@pytest.fixture(scope="module")
def plist():
    return from_text(LIST, "test.tsv")


def found(plist, text):
    return [(text[m.start : m.end], m.original, m.entry.line) for m in plist.find(text)]


def test_case_line_breaks_spaces_and_hyphens(plist):
    text = "We use Counterfeit\n   Consciousness, profound-learning and\tBOSOM  PERIL here."
    assert found(plist, text) == [
        ("Counterfeit\n   Consciousness", "Artificial Intelligence", 1 + 1),
        ("profound-learning", "deep learning", 3),
        ("BOSOM  PERIL", "BREAST CANCER", 4),
    ]


def test_inflections_carry_to_the_original(plist):
    text = "Two counterfeit consciousnesses and three irregular woodlands were compared."
    got = found(plist, text)
    assert [g[0] for g in got] == ["counterfeit consciousnesses", "irregular woodlands"]
    assert got[1][1] == "random forests"  # the plural of the match reaches the original


def test_word_boundaries(plist):
    # Inside longer words, or a prefix of a longer word: no match.
    assert found(plist, "unprofound learning and profound learnings x") == [("profound learnings", "deep learnings", 3)]
    assert found(plist, "xcounterfeit consciousness") == []
    assert found(plist, "counterfeit consciousnessy") == []


def test_longest_cover_not_leftmost(plist):
    text = "an irregular woodland classifier was used"
    assert found(plist, text) == [("irregular woodland classifier", "random forest classifier", 6)]


def test_offsets_survive_non_ascii_and_unicode_lowercasing(plist):
    text = "İ “Bosom—peril” é café counterfeit consciousness ✓"
    for start_text, _, _ in found(plist, text):
        assert start_text in text
    assert [g[0] for g in found(plist, text)] == ["Bosom—peril", "counterfeit consciousness"]


def test_unknown_original_flags_without_restoring(plist):
    assert found(plist, "the flag to clamor ratio") == [("flag to clamor", None, 7)]


def test_compiled_list_is_reusable_and_picklable(plist):
    again = pickle.loads(pickle.dumps(plist))
    text = "profound learning, profound learning"
    assert found(again, text) == found(plist, text) == [("profound learning", "deep learning", 3)] * 2


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("a b\t\n", "test.tsv:1: empty original"),
        ("\tx\n", "test.tsv:1: empty spun phrase"),
        ("deep learning\tDeep  Learning\n", "test.tsv:1: 'deep learning' is its own original"),
        ("a b\tc\nA  B\td\n", "test.tsv:2: duplicate of line 1"),
        ("just one field\n", "test.tsv:1: expected spun<TAB>original"),
        ("a b\tc\tnote\tmaybe\n", "test.tsv:1: confidence 'maybe' is not a number in (0, 1]"),
        ("a b\tc\tnote\t1.5\n", "test.tsv:1: confidence '1.5'"),
        ('"a b" AND (c\tx\n', "test.tsv:1: bad fingerprint query: a '(' is not closed"),
        ('NOT "a b"\tx\n', "test.tsv:1: bad fingerprint query: the query has no term outside a NOT"),
        ("ok one\tx\n\n# c\nbad\xff line\tx\n", "test.tsv:4: not valid UTF-8"),
        ("(" * 5000 + '"a"' + ")" * 5000 + "\tx\n", "test.tsv:1: bad fingerprint query: more than 128"),
        ("NOT " * 3000 + '"a"\tx\n', "test.tsv:1: bad fingerprint query: more than 128"),
    ],
)
def test_bad_lists_say_which_line(tmp_path, body, problem):
    path = tmp_path / "test.tsv"
    path.write_bytes(body.encode("utf-8", "surrogateescape") if "\xff" not in body else body.encode("latin-1"))
    with pytest.raises(PhraseListError) as err:
        load_phrases([str(path)], cache=False)
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith(problem), err.value.problems


def test_every_bad_line_is_reported_once(tmp_path):
    path = tmp_path / "many.tsv"
    path.write_text("a b\t\nc d\tc d\ne f\tg\ne f\th\n", encoding="utf-8")
    with pytest.raises(PhraseListError) as err:
        load_phrases([str(path)], cache=False)
    assert [p.split(":")[1] for p in err.value.problems] == ["1", "2", "4"]


def test_unreadable_files(tmp_path):
    with pytest.raises(PhraseListError, match="cannot read"):
        load_phrases([str(tmp_path / "missing.tsv")])
    with pytest.raises(PhraseListError, match="is a directory"):
        load_phrases([str(tmp_path)])
    (tmp_path / "bin.tsv").write_bytes(b"\0\1\2binary")
    with pytest.raises(PhraseListError, match="binary"):
        load_phrases([str(tmp_path / "bin.tsv")])
    (tmp_path / "empty.tsv").write_text("# only a comment\n")
    with pytest.raises(PhraseListError, match="no entries"):
        load_phrases([str(tmp_path / "empty.tsv")])


def test_cache_is_keyed_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPIN_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "l.tsv"
    path.write_text("profound learning\tdeep learning\n", encoding="utf-8")
    first = load_phrases([str(path)])
    assert len(list((tmp_path / "cache" / "phrases").glob("*.pkl"))) == 1
    assert load_phrases([str(path)]).identity == first.identity
    path.write_text("bosom peril\tbreast cancer\n", encoding="utf-8")  # same file, new content
    second = load_phrases([str(path)])
    assert second.identity != first.identity
    assert [m.entry.spun for m in second.find("a bosom peril")] == ["bosom peril"]


# --- fingerprint queries (the Lucene/Dimensions reading; see the module docstring) ---


def test_query_parse_precedence():
    assert parse_query('"a b" OR c AND NOT d') == (
        "or",
        ("term", ("a", "b"), None),
        ("and", ("term", ("c",), None), ("not", ("term", ("d",), None))),
    )
    assert parse_query('"x y"~2 NOT z') == ("and", ("term", ("x", "y"), 2), ("not", ("term", ("z",), None)))


QUERIES = (
    '"flag to clamor" AND "signal"\tsignal to noise\tboth needed\n'
    '"irregular woodland"~2\trandom forest\n'
    '"bosom peril" NOT "oncology"\tbreast cancer\n'
    '("kidney disappointment" OR "renal disappointment")\tkidney failure\n'
)


@pytest.fixture(scope="module")
def queries():
    return from_text(QUERIES, "q.tsv")


def test_query_and(queries):
    assert found(queries, "a flag to clamor ratio") == []
    assert found(queries, "a flag to clamor ratio of the signal") == [
        ("flag to clamor", None, 1),
        ("signal", None, 1),
    ]


def test_query_proximity_any_order(queries):
    assert found(queries, "an irregular dense green woodland") == [("irregular dense green woodland", None, 2)]
    assert found(queries, "a woodland that is irregular") == [("woodland that is irregular", None, 2)]
    assert found(queries, "irregular spacing across the whole woodland") == []  # 3 words apart > ~2


def test_query_not_and_or(queries):
    assert found(queries, "bosom peril is common") == [("bosom peril", "breast cancer", 3)]
    assert found(queries, "bosom peril, said the oncology ward") == []
    assert found(queries, "acute renal disappointment") == [("renal disappointment", None, 4)]


# --- the engine hook ---


@pytest.fixture(scope="module")
def pack():
    from unspin.decode.engine import get_pack

    return get_pack()


def test_check_with_a_list(pack, plist):
    from unspin.decode import check

    text = "Researchers now use counterfeit\nconsciousness and profound learning to study the troopers of the ministry."
    plain = check(text, pack)
    report = check(text, pack, phrases=plist)
    listed = [s for s in report.spans if s.source == "list"]
    assert [(s.text, s.original, s.confidence) for s in listed] == [
        ("counterfeit\nconsciousness", "artificial intelligence", 1.0),
        ("profound learning", "deep learning", 1.0),
    ]
    assert listed[0].why.startswith("listed in test.tsv:2: “counterfeit consciousness”")
    assert report.spun and report.verdict == "spun" and report.score == 1.0
    assert report.stats["listed"] == 2
    # The engine's spans outside the list matches are kept; the two never overlap.
    model = [s for s in report.spans if s.source is None]
    assert all(not (a.start < b.end and b.start < a.end) for a in model for b in listed)
    assert {(s.start, s.text) for s in model} == {
        (s.start, s.text) for s in plain.spans if not any(s.start < b.end and b.start < s.end for b in listed)
    }
    assert "artificial intelligence and deep learning" in report.restored
    d = report.to_dict()
    assert [s.get("source") for s in d["spans"]].count("list") == 2
    assert all("source" not in s for s in plain.to_dict()["spans"])  # the engine's spans keep their shape


def test_a_list_match_decides_even_a_short_text(pack, plist):
    from unspin.decode import check

    report = check("It uses profound learning.", pack, phrases=plist)
    assert report.spun and report.verdict == "spun"
    assert report.restored == "It uses deep learning."
    low = from_text("profound learning\tdeep learning\t\t0.3\n")
    assert check("It uses profound learning.", pack, phrases=low).verdict == "too-short"


def test_offsets_through_repairs(pack, plist):
    from unspin.decode import check

    text = "He said &#39;hello&#39; about profound learning today."
    report = check(text, pack, phrases=plist)
    (span,) = [s for s in report.spans if s.source == "list"]
    assert text[span.start : span.end] == "profound learning"
    assert report.restored.endswith("about deep learning today.")


def test_api_takes_paths(pack, tmp_path):
    import unspin

    path = tmp_path / "mine.tsv"
    path.write_text("bosom peril\tbreast cancer\n", encoding="utf-8")
    assert unspin.restore("Bosom peril is treatable.", pack, phrases=str(path)) == "Breast cancer is treatable."
    assert unspin.check("Bosom peril is treatable.", pack, phrases=[path]).spans[0].source == "list"


def test_normalise():
    assert normalise("  Counterfeit\n--Consciousness! ") == "counterfeit consciousness"


# --- mining a list from (copy, source) pairs ---


def test_mine_finds_swaps_with_counts_and_keeps_phrases_whole():
    from unspin.phrases import mine

    pairs = [
        (
            "We apply counterfeit consciousness to scans. The profound learning model used 300 images.",
            "We apply artificial intelligence to scans. The deep learning model used 200 images.",
        ),
        (
            "Counterfeit consciousness helps doctors.\nA profound learning method, said the team.",
            "Artificial intelligence helps doctors. A deep learning method, the team said.",
        ),
        ("An unrelated sentence about the weather.", "Something else entirely was written here today."),
        ("The troopers went home. Then the troopers went away.", "The soldiers went home. Then the troops went away."),
    ]
    rows = {(s, o): (n, d) for s, o, n, d, _ in mine(pairs)}
    assert rows[("counterfeit consciousness", "artificial intelligence")] == (2, 2)
    assert rows[("profound learning", "deep learning")] == (2, 2)  # not "profound" → "deep" alone
    assert not any("300" in s for s, _ in rows)  # a changed figure is a fact, not a synonym
    # One spun phrase, two originals: the commonest is the entry (a tie: alphabetical), the other in the note.
    (troopers,) = [r for r in mine(pairs) if r[0] == "troopers went"]
    assert troopers[1] == "soldiers went" and troopers[4] == "seen 1× in 1 pair(s); also: troops went 1×"
    assert [r[0] for r in mine(pairs, min_count=2)] == ["counterfeit consciousness", "profound learning"]


def test_plurals_of_words_outside_the_dictionary_but_not_of_pronouns():
    pl = from_text("entangled qubit\tcoupled bit\nsaw her\tmet her\n")
    assert [m.original for m in pl.find("two entangled qubits")] == ["coupled bits"]
    assert pl.find("we saw hers") == []


def test_cover_is_the_most_text_not_the_leftmost_match():
    pl = from_text("profound learning\tdeep learning\nlearning curve fitting\tlearning curve estimation\n")
    # Leftmost-first would take "profound learning" and lose the longer overlapping entry.
    assert [(m.entry.line) for m in pl.find("a profound learning curve fitting step")] == [2]
    # Two lists at once: the same rule across them.
    from unspin.phrases import find_all

    other = from_text("curve fitting step\tx y z\n")
    text = "a profound learning curve fitting step"
    got = [(text[m.start : m.end], m.entry.source) for m in find_all([pl, other], text)]
    assert got == [("profound learning", "pasted list"), ("curve fitting step", "pasted list")]
