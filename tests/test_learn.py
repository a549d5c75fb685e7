"""The learned channel: pairs aligned, spinner tables counted and written into a pack, and used by the decoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unspin.decode import check, learned, scorer
from unspin.learn.pairs import align_pair, site
from unspin.learn.table import FILE_NAME, LICENCE_HEADING, SpinnerTable, add_to_pack, learn
from unspin.pack import load, pack_identity
from unspin.pack.manifest import read_manifest, write_manifest

SOURCE = (
    "The company announced on Monday that the film will be released next year. "
    "Officials said the production had been delayed by the storm. "
    "The show will return to television in the spring, the producers said."
)
SPUN = (
    "The company introduced on Monday that the movie will be released subsequent year. "
    "Officials stated the manufacturing had been delayed by the storm. "
    "The present will return to tv in the spring, the producers stated."
)


def _pair(i: int = 0, url: str = "https://www.spinfarm.example/a") -> dict:
    return {"id": f"p{i}", "spun_text": SPUN, "source_text": SOURCE, "spun_url": url, "style": "spinner"}


def test_alignment_finds_the_swaps_and_what_the_spinner_kept() -> None:
    aligned = align_pair(SPUN, SOURCE)
    swaps = {(" ".join(s.spun), " ".join(s.original)) for s in aligned.swaps}
    assert {("introduced", "announced"), ("movie", "film"), ("stated", "said"), ("manufacturing", "production"),
            ("present", "show"), ("tv", "television")} <= swaps  # fmt: skip
    assert "storm" in aligned.kept and "stated" not in aligned.kept
    for s in aligned.swaps:  # offsets index the spun text
        assert SPUN[s.start : s.end].lower() == " ".join(s.spun)
    assert aligned.covers(0, 10) and len(aligned.sentences) == 3


def test_table_counts_swaps_outputs_and_leaves_sites_out() -> None:
    table = learn([_pair(0), _pair(1), {**_pair(2, "https://other.example/x")}])
    assert table.pairs["stated"]["said"] == 6  # twice a page, three pages
    assert table.pairs["movie"] == {"film": 3}
    assert table.output["stated"] == 6 and "storm" in table.kept
    assert [s["site"] for s in table.sources] == ["other.example", "spinfarm.example"]
    pages = [_pair(0), _pair(1), _pair(2, "https://other.example/x")]
    held_out = learn(pages, exclude_sites=frozenset({"spinfarm.example"}))
    assert held_out.pairs["stated"]["said"] == 2
    # mt / paraphraser pages are not a spinner's table
    assert learn([{**_pair(), "style": "mt"}]).pairs == {}
    assert site({"spun_url": "https://www.Example.com/x"}) == "example.com"
    again = SpinnerTable.from_json(json.loads(json.dumps(table.to_json())))
    assert again.pairs == table.pairs and again.kept == table.kept


def test_add_to_pack_writes_the_table_licence_and_manifest_once(tmp_path: Path) -> None:
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    (pack_dir / "LICENSES.md").write_text("# Licences\n\n## Other data\n\ntext\n", encoding="utf-8")
    write_manifest(pack_dir, {"name": "tiny"})
    before = pack_identity(read_manifest(pack_dir))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps(_pair()) + "\n", encoding="utf-8")
    add_to_pack(pack_dir, [pairs])
    m = add_to_pack(pack_dir, [pairs])  # twice: replaced, not doubled
    assert m["spinner_table"]["swaps"] >= 6 and m["spinner_table"]["pages"] == 1
    assert FILE_NAME in m["files"] and pack_identity(m) != before
    licences = (pack_dir / "LICENSES.md").read_text(encoding="utf-8")
    assert licences.count(LICENCE_HEADING) == 1 and "## Other data" in licences
    assert SpinnerTable.read(pack_dir / FILE_NAME).pairs["movie"] == {"film": 1}
    empty = tmp_path / "mt.jsonl"
    empty.write_text(json.dumps({**_pair(), "style": "mt"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no spinner-style pair"):
        add_to_pack(pack_dir, [empty])


@pytest.fixture()
def pack():
    p = load()
    yield p
    learned.use_own_table(p)
    scorer.use_scorer(scorer._shipped())


def test_a_learned_swap_is_proposed_and_preferred(pack) -> None:
    """An original no thesaurus lists for the observed word ("unencumber" <- "release", a real spinner's
    wrong-sense swap) is proposed once the table has seen it, and restored."""
    text = ("The studio said it would unencumber the new album in March, and fans have waited two years for it. " * 3)
    scorer.use_scorer(None)  # the decoder's own rules: this tests the channel, not the span scorer
    learned.use_table(pack, SpinnerTable({}, {}, {}))
    without = {s.text.lower(): s.original for s in check(text, pack, threshold=0.0).spans}
    learned.use_table(pack, SpinnerTable({"unencumber": {"release": 12}}, {"unencumber": 12}, {}))
    with_table = {s.text.lower(): s.original for s in check(text, pack, threshold=0.0).spans}
    assert without.get("unencumber") != "release"
    assert with_table.get("unencumber") == "release"


def test_output_record_moves_the_swap_prior(pack) -> None:
    table = SpinnerTable({}, {"stated": 30, "storm": 0}, {"stated": 1, "storm": 40})
    assert learned.output_bonus(table, "stated") > 0 > learned.output_bonus(table, "storm")
    assert learned.output_bonus(table, "unseen") == 0.0
    lo, _hi = learned.OUTPUT_CLIP
    assert learned.OUTPUT_WEIGHT * lo <= learned.output_bonus(table, "storm")


def test_the_screen_counts_what_real_spinners_output(pack) -> None:
    """The screen's table features: a text full of spinners' favourite outputs ("stated", "whereas",
    "physician") scores above its honest wording, and nothing without a table (and the memo follows
    the table in use, so a leave-one-site-out table is never answered for by the pack's own)."""
    from unspin.decode import detect
    from unspin.tokens import sentence_tokens

    spun = "The minister stated on Monday that the talks went well, whereas the physician stated the opposite."
    honest = "The minister said on Monday that the talks went well, while the doctor said the opposite."

    def table_features(text: str) -> tuple[float, ...]:
        got = dict(zip(detect.SCREEN_FEATURES, detect.screen(pack, sentence_tokens(text)), strict=True))
        return got["spinner_output_share"], got["spinner_output_bonus"], got["spinner_term_share"]

    try:
        pairs = {"stated": {"said": 9}, "whereas": {"while": 4}}
        output = {"stated": 9, "whereas": 4, "physician": 5}
        learned.use_table(pack, SpinnerTable(pairs, output, {"said": 20, "doctor": 20, "while": 10}))
        s, h = table_features(spun), table_features(honest)
        assert all(a > b for a, b in zip(s, h, strict=True)), (s, h)
        assert h[:2] == (0.0, 0.0)
        learned.use_table(pack, None)
        assert table_features(spun) == (0.0, 0.0, 0.0)
    finally:
        learned.use_own_table(pack)


def test_shipped_scorer_states_originals_only_when_confident(pack) -> None:
    """With the span scorer, a stated original is one whose P(right) reaches ORIGINAL_P: checked
    against the scorer itself on every substitution of the example."""
    model = scorer.scorer()
    assert model is not None, "data/span-scorer.json is shipped"
    text = (Path(__file__).resolve().parents[1] / "examples" / "spun-news.txt").read_text(encoding="utf-8")
    explain: list = []
    report = check(text, pack, explain=explain)
    by_offsets = {(a, b): x for x, a, b, _ in explain}
    assert report.spans
    for sp in report.spans:
        x = by_offsets[(sp.start, sp.end)]
        assert sp.confidence == round(model.p_swap(x), 4) and sp.confidence >= model.span_p
        assert (sp.original is not None) == (model.p_right(x) >= scorer.ORIGINAL_P)
