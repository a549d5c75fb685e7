"""Language pack: build a tiny pack from our own fixture and check what the engine relies on.

The tiny pack is built once per session through the real CLI (KenLM tools and the thesaurus/vector
sources are fetched or compiled by the repository's scripts when missing, never skipped).
"""

from __future__ import annotations

import json
import lzma
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from unspin.pack import LanguagePack, default_pack_path
from unspin.pack import corpus as corpus_mod
from unspin.pack.cli import pack as pack_cli
from unspin.pack.corpus import HELD_OUT_COUNT, corpus_shards, held_out_articles, training_articles
from unspin.tokens import WORD, lm_form, tokenize

from .conftest import REPO, SHARED

FIXTURE = REPO / "tests" / "fixtures" / "news-small.txt"
ENWIKI = SHARED / "corpora" / "enwiki"


def _forms(text: str) -> list[str]:
    return [lm_form(t.text) for t in tokenize(text)]


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the tiny pack from the fixture (seconds), making sure the build tools and sources exist."""
    subprocess.run(["bash", str(REPO / "scripts" / "build-kenlm-tools.sh")], check=True, capture_output=True)
    subprocess.run(["bash", str(REPO / "scripts" / "fetch-pack-sources.sh")], check=True, capture_output=True)
    out = tmp_path_factory.mktemp("packs") / "tiny"
    result = CliRunner().invoke(
        pack_cli,
        ["build", "--corpus", str(FIXTURE), "--out", str(out), "--order", "4", "--prune", "0",
         "--min-count", "1", "--vector-words", "5000", "--workers", "1"],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def pack(tiny_pack: Path) -> LanguagePack:
    return LanguagePack.load(tiny_pack)


def test_manifest_records_sources_counts_and_parameters(pack: LanguagePack) -> None:
    m = pack.manifest
    assert m["format"] == 1
    assert set(m["sources"]) == {"wikipedia", "moby", "wordnet", "glove"}
    assert m["sources"]["moby"]["licence"] == "public domain"
    assert m["build"]["order"] == 4 and m["build"]["prune"] == [0, 0, 0, 0]
    words = sum(1 for line in FIXTURE.read_text().splitlines() for t in tokenize(line) if t.kind == WORD)
    assert m["corpus"]["words"] == words
    assert m["lm"]["ngrams"]["4"] > 0
    assert "lm.bin" in m["files"] and m["files"]["lm.bin"]["bytes"] > 0
    assert (pack.path / "LICENSES.md").read_text().count("CC BY-SA 3.0") >= 1
    assert "Princeton" in (pack.path / "LICENSES.md").read_text()


def test_pack_info_cli(tiny_pack: Path) -> None:
    r = CliRunner().invoke(pack_cli, ["info", str(tiny_pack)])
    assert r.exit_code == 0, r.output
    assert "order 4" in r.output and "thesaurus" in r.output
    r = CliRunner().invoke(pack_cli, ["info", "--json", str(tiny_pack)])
    assert json.loads(r.output)["lm"]["order"] == 4
    r = CliRunner().invoke(pack_cli, ["info", str(tiny_pack / "nope")])
    assert r.exit_code == 2


def _mapped(array: np.ndarray) -> bool:
    """True when the array's memory is a file mapping (a view of an np.memmap), not a copy."""
    base = array
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


def test_parts_are_memory_mapped(pack: LanguagePack) -> None:
    assert _mapped(pack.vocab._u.keys)
    assert _mapped(pack.thesaurus._g["rev"][1])
    assert _mapped(pack.vectors._v)
    assert not _mapped(np.array([1, 2, 3]))


def test_lm_prefers_the_seen_collocation(pack: LanguagePack) -> None:
    lm = pack.lm
    assert lm.order == 4
    assert lm.logprob(_forms("The Foreign Ministry said")) > lm.logprob(_forms("The Overseas Ministry said"))
    assert lm.logprob(_forms("backed by Russian air power")) > lm.logprob(_forms("backed by Russian air electricity"))
    assert lm.logprob(_forms("a phone call")) > lm.logprob(_forms("a cellphone contact"))


def test_lm_queries_agree_with_each_other(pack: LanguagePack) -> None:
    lm = pack.lm
    words = _forms("Dozens of soldiers were killed in air strikes")
    per = lm.token_logprobs(words, bos=True, eos=True)
    assert len(per) == len(words) + 1 and np.all(per < 0)
    assert lm.logprob(words, bos=True, eos=True) == pytest.approx(per.sum())
    ngrams = [tuple(["<s>", *words][max(0, i - 3): i + 1]) for i in range(1, len(words) + 1)]
    assert np.allclose(lm.score_ngrams(ngrams), per[:-1])
    seen = lm.ngram_order(_forms("the soldiers were killed"))
    unseen = lm.ngram_order(_forms("the troopers were killed"))
    assert seen[-1] > unseen[-1] and seen.max() == 4


def test_batched_ngram_scores_are_kenlms(pack: LanguagePack) -> None:
    lm = pack.lm
    assert lm.compiled
    words = _forms("The Foreign Ministry said the phone call between the two leaders lasted an hour")
    ngrams = [tuple(["<s>", *words][max(0, i - 3): i + 1]) for i in range(1, len(words) + 1)]
    ngrams += [("russian", "air", w) for w in ("power", "electricity", "qwertyuiop")]
    ngrams += [("<s>", "the"), ("a", "b", "c", "d", "e", "the"), ["soldiers", "were"], ("qwertyuiop", "the")]
    got = lm.score_ngrams(ngrams)
    # log10 P(last | rest) = score(rest + last) - score(rest), from <s> when the n-gram starts with it;
    # a history longer than order - 1 words is cut to its last order - 1.
    for ng, score in zip(ngrams, got, strict=True):
        ng = tuple(ng)
        bos = ng[0] == "<s>"
        ws = ng[1:] if bos else ng
        if len(ws) > lm.order:
            ws, bos = ws[-lm.order :], False
        want = lm.model.score(" ".join(ws), bos=bos, eos=False) - lm.model.score(" ".join(ws[:-1]), bos=bos, eos=False)
        assert score == pytest.approx(want, abs=1e-5), ng
    assert np.allclose(got[: len(words)], lm.token_logprobs(words))


def test_vocabulary_counts(pack: LanguagePack) -> None:
    text = FIXTURE.read_text()
    expected = sum(1 for t in tokenize(text) if t.kind == WORD and lm_form(t.text) == "soldiers")
    assert pack.vocab.count("soldiers") == expected > 0
    assert pack.vocab.count("Soldiers") == expected  # uncased lookups normalise
    assert pack.vocab.cased_count("Foreign") > 0 and pack.vocab.cased_count("FOREIGN") == 0
    assert pack.vocab.count("qwertyuiop") == 0
    assert pack.vocab.total == pack.manifest["corpus"]["words"]
    assert list(pack.vocab.counts(["soldiers", "qwertyuiop"])) == [expected, 0]


def test_thesaurus_reverse_channel_is_inflection_aware(pack: LanguagePack) -> None:
    th = pack.thesaurus
    assert "soldiers" in {t for t, _ in th.sources("troopers")}
    assert "left" in {t for t, _ in th.sources("departed")}
    assert "electricity" in {t for t, _ in th.synonyms("power")}
    assert "power" in {t for t, _ in th.sources("electricity")}
    assert ("soldiers", "n") in th.sources("troopers")
    assert th.degree("people") > 10 and th.degree("qwertyuiop") == 0
    assert th.max_phrase_words >= 3


def test_thesaurus_has_phrases(pack: LanguagePack) -> None:
    th = pack.thesaurus
    assert any(" " in t for t, _ in th.synonyms("phone call"))
    assert any(" " in t for t, _ in th.sources("people"))
    assert th.sources("qwertyuiop") == []


def test_vectors_relatedness(pack: LanguagePack) -> None:
    v = pack.vectors
    assert v.similarity("soldiers", "troops") > v.similarity("soldiers", "festival")
    assert v.similarity("soldiers", "soldiers") == pytest.approx(1.0, abs=0.01)
    assert v.similarity("phone call", "phone") > 0.5
    assert v.similarity("qwertyuiop", "soldiers") is None


def test_substitutes_are_words_that_fill_the_same_slots(pack: LanguagePack) -> None:
    subs = pack.substitutes
    assert subs is not None and len(subs) > 100
    assert _mapped(subs._nbr)
    near = subs.of("said")
    assert near and all(0.0 < s <= 1.0 for s in near.values())
    assert list(near.values()) == sorted(near.values(), reverse=True), "best first"
    assert "said" not in near, "a word is not its own substitute"
    # Symmetric lookup, and nothing for a word the corpus never described.
    for other, s in near.items():
        assert subs.similarity("said", other) == s
    assert subs.of("qwertyuiop") == {} and subs.similarity("qwertyuiop", "said") == 0.0


def test_add_substitutes_leaves_the_rest_of_the_pack_as_it_was(tiny_pack: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "pack"
    shutil.copytree(tiny_pack, copy)
    before = json.loads((copy / "manifest.json").read_text())
    shutil.rmtree(copy / "substitutes")
    r = CliRunner().invoke(pack_cli, ["add-substitutes", "--corpus", str(FIXTURE), "--pack", str(copy),
                                      "--words", "300", "--workers", "1"])
    assert r.exit_code == 0, r.output
    after = json.loads((copy / "manifest.json").read_text())
    assert after["substitutes"]["words"] <= 300 and LanguagePack.load(copy).substitutes is not None
    for name, entry in before["files"].items():
        if not name.startswith("substitutes/") and name != "LICENSES.md":
            assert after["files"][name] == entry, name


def _write_shard(path: Path, ids: range) -> None:
    with lzma.open(path, "wt", encoding="utf-8") as f:
        for i in ids:
            f.write(json.dumps({"id": f"a{i}", "title": f"T{i}", "text": f"Article {i} text."}) + "\n")


def test_held_out_split_is_the_tail_of_the_last_shard(tmp_path: Path) -> None:
    _write_shard(tmp_path / "enwiki-00.jsonl.xz", range(0, 10))
    _write_shard(tmp_path / "enwiki-01.jsonl.xz", range(10, 10 + HELD_OUT_COUNT + 7))
    held = held_out_articles(tmp_path)
    assert len(held) == HELD_OUT_COUNT
    assert held[0]["id"] == "a17" and held[-1]["id"] == f"a{10 + HELD_OUT_COUNT + 6}"
    shards = corpus_shards(tmp_path)
    train = [a["id"] for s in shards for a in training_articles(s, tmp_path)]
    assert train == [f"a{i}" for i in range(17)]
    assert not set(train) & {a["id"] for a in held}


@pytest.mark.skipif(not ENWIKI.is_dir(), reason=f"Wikipedia corpus not found at {ENWIKI}")
def test_real_held_out_set() -> None:
    held = held_out_articles()
    assert len(held) == 2000
    last = corpus_shards()[-1]
    assert last.name == "enwiki-08.jsonl.xz"
    train_ids = [a["id"] for a in training_articles(last)]
    assert not set(train_ids) & {a["id"] for a in held}
    assert len(train_ids) + len(held) == sum(1 for _ in corpus_mod.read_articles(last))


DEFAULT = default_pack_path()


@pytest.mark.skipif(not (DEFAULT / "manifest.json").is_file(), reason="default pack not built into the repository")
def test_default_pack_knows_the_seed_swaps() -> None:
    p = LanguagePack.load()
    assert p.lm.order >= 3
    lp = p.lm.logprob
    assert lp(_forms("backed by Russian air power")) > lp(_forms("backed by Russian air electricity"))
    assert lp(_forms("the Foreign Ministry said")) > lp(_forms("the Overseas Ministry said"))
    assert "soldiers" in {t for t, _ in p.thesaurus.sources("troopers")}
    assert p.vocab.count("the") > 1_000_000
    assert p.vectors.similarity("power", "electricity") > p.vectors.similarity("power", "banana")
    assert p.substitutes is not None and "said" in p.substitutes.of("stated")
    assert p.substitutes.similarity("movie", "film") > p.substitutes.similarity("movie", "said")


def test_channel_cache_holds_exactly_what_the_channel_computes(
    pack: LanguagePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unspin.decode import channel, channel_cache

    monkeypatch.setenv("UNSPIN_CACHE_DIR", str(tmp_path))
    assert channel_cache.load(pack) == {}, "no cache yet"
    done = channel_cache.warm(pack, workers=2, min_count=2)
    assert done["words"] > 50 and Path(done["path"]).parent == tmp_path
    table = channel_cache.load(pack)
    assert len(table) == done["words"]
    for word in list(table)[:200]:
        assert table[word] == channel.compute_originals(pack, word)
    # A changed channel parameter is another cache: the old file is not used.
    monkeypatch.setattr(channel, "ALPHA", channel.ALPHA + 0.1)
    assert channel_cache.load(pack) == {}
    # Warming for the new parameters replaces the old table rather than piling up beside it.
    channel_cache.warm(pack, workers=1, min_count=50)
    assert [p.name for p in tmp_path.glob("channel-*.pickle")] == [channel_cache.cache_path(pack).name]
