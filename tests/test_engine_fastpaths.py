"""The engine's shortcuts give the answers of what they stand for: lemminflect's tables, one-by-one
lookups, a full partition, KenLM's own scores (bench/answers.py checks whole reports)."""

from __future__ import annotations

import math

import lemminflect
import numpy as np
import pytest

from unspin.decode import channel, neighbours
from unspin.pack import LanguagePack, default_pack_path
from unspin.pack import thesaurus as th
from unspin.tokens import lm_form, sentence_tokens

pytestmark = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)

WORDS = ("troopers", "departed", "soldiers", "better", "went", "leaves", "data", "criteria", "Paris", "USA",
         "running", "happiest", "cellphone", "overseas", "quickly", "xyzzyq", "don't", "children", "mice")  # fmt: skip
TEXT = (
    "The troopers departed the town after a cellphone contact from the Overseas Ministry. Residents said the "
    "flood had damaged many houses, and the council promised to rebuild the bridge before the winter."
)


@pytest.fixture(scope="module")
def pack() -> LanguagePack:
    return LanguagePack.load()


@pytest.mark.parametrize("word", WORDS)
def test_lemma_and_inflection_tables_match_lemminflect(word: str) -> None:
    assert th._all_lemmas(word) == lemminflect.getAllLemmas(word)
    for upos in (None, "NOUN", "PROPN", "VERB", "ADJ", "ADV", "AUX", "X"):
        assert th._all_inflections(word, upos) == lemminflect.getAllInflections(word, upos)
    for tag in ("NN", "NNS", "NNP", "NNPS", "VB", "VBD", "VBG", "VBN", "VBZ", "JJ", "JJR", "JJS", "RB", "RBR"):
        assert th._inflection(word, tag) == lemminflect.getInflection(word, tag=tag)


def test_batched_degrees_match_one_by_one(pack: LanguagePack) -> None:
    terms = ["soldier", "soldiers", "phone call", "left", "xyzzyq", "air power", "departed"]
    assert pack.thesaurus.degrees(terms) == [pack.thesaurus.degree(t) for t in terms]


def test_batched_similarities_are_bit_identical(pack: LanguagePack) -> None:
    vectors = pack.vectors
    for observed in ("troopers", "electricity", "contact", "air electricity"):
        ranked = [tuple(t.split()) for t in ("soldiers", "troops", "power", "phone call", "xyzzyq", "force", "call")]
        got = channel._similarities(vectors, observed, ranked)
        own = vectors.vector(observed)
        for sim, words in zip(got, ranked, strict=True):
            vec = vectors.vector(" ".join(words))
            want = None
            if vec is not None:
                denom = float(np.linalg.norm(own) * np.linalg.norm(vec))
                want = float(own @ vec) / denom if denom > 0 else None
            assert sim == want, (observed, words)


def test_neighbour_selection_matches_a_full_partition(pack: LanguagePack) -> None:
    index = neighbours.index_for(pack)
    for word in ("said", "next", "soldiers", "house", "quickly"):
        v = pack.vectors.vector(word)
        v = v / max(float(np.linalg.norm(v)), 1e-9)
        sims = index._m @ v
        top = np.argpartition(-sims, neighbours.K + 1)[: neighbours.K + 1]
        want = sorted(
            ((float(sims[i]), index._words[i]) for i in top if sims[i] >= neighbours.MIN_SIMILARITY
             and index._words[i] != word),
            reverse=True,
        )[: neighbours.K]  # fmt: skip
        assert index.neighbours(word) == want


def test_originals_are_ranked_commonest_first_and_costed(pack: LanguagePack) -> None:
    found = channel.originals(pack, "troopers")
    assert ("soldiers",) in [w for _, w in found]
    assert len(found) <= channel.MAX_CANDIDATES
    assert all(math.isfinite(c) and c <= 0 for c, _ in found)


def test_prepare_warms_the_packs_memos_and_changes_no_answer() -> None:
    from unspin.decode.engine import check, prepare

    cold, warm = LanguagePack.load(), LanguagePack.load()  # two objects: two sets of memos
    assert prepare(warm) is warm
    assert {"channel.originals", "neighbours.index"} <= set(warm.memo)
    assert not cold.memo
    assert check(TEXT, warm).to_dict() == check(TEXT, cold).to_dict()


def test_window_gains_are_kenlms_score_differences(pack: LanguagePack) -> None:
    # A candidate's window gain: log10 P(candidate + right context | left context) minus the same for
    # the observed words, order - 1 words of context each side, <s> and </s> where the window reaches
    # the sentence's ends. With the left context in both, that is a difference of KenLM's own scores.
    model, ctx = pack.lm.model, pack.lm.order - 1
    for sent in sentence_tokens(TEXT + " Xyzzyq frobbed the wibble."):
        forms = [lm_form(t.text) for t in sent]
        spans = channel.propose_spans(pack, sent)
        groups = [(sp.start, sp.end, [w for _, w in sp.found]) for sp in spans]
        # windows at both sentence ends, phrases, unknown words and an empty candidate list
        groups += [(0, 1, [("the",), ("xyzzyq", "a")]), (len(forms) - 1, len(forms), [("end",)]), (1, 1, [])]
        got = pack.lm.batch.window_gains(forms, groups)
        want = []
        for i, j, candidates in groups:
            left, right = forms[max(0, i - ctx) : i], forms[j : j + ctx]
            bos, eos = i - ctx < 0, j + ctx > len(forms)
            observed = model.score(" ".join([*left, *forms[i:j], *right]), bos=bos, eos=eos)
            want += [model.score(" ".join([*left, *words, *right]), bos=bos, eos=eos) - observed
                     for words in candidates]  # fmt: skip
        assert got == pytest.approx(want, abs=1e-4)
        assert len(got) == sum(len(c) for _, _, c in groups)


def test_phrases_the_thesaurus_lacks_are_answered_without_the_channel(pack: LanguagePack) -> None:
    for phrase in ("phone call", "men and women", "the flood had", "council promised", "xyzzyq frob"):
        assert channel.originals(pack, phrase) == channel.compute_originals(pack, phrase)
    assert pack.thesaurus.has_term("phone call") and not pack.thesaurus.has_term("council promised")
