"""The engine's fast paths give the answers of the slow ones they replace (bench/answers.py checks whole
reports; these pin each shortcut to its reference)."""

from __future__ import annotations

import math

import lemminflect
import numpy as np
import pytest

from unspin.decode import channel, decoder, neighbours
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


def test_eligibility_in_one_pass_matches_token_by_token(pack: LanguagePack) -> None:
    more = " Then Reuters reported that the Foreign Ministry and the Overseas Ministry met."
    sentences = sentence_tokens(TEXT + more)
    flags = channel.eligible_flags(pack, sentences)
    assert flags == [[channel.eligible(t, k == 0, pack) for k, t in enumerate(s)] for s in sentences]


def test_continuation_from_a_shared_context_state(pack: LanguagePack) -> None:
    model = pack.lm.model
    left, right = ["the", "council"], ["the", "bridge", "</s>"]
    for middle in (["promised"], ["pledged", "to"], []):
        for bos in (True, False):
            want = pack.lm.logprob([*left, *middle, *right], bos=bos) - pack.lm.logprob(left, bos=bos)
            start = decoder.context_state(model, left, bos)
            got = decoder.continuation_score(model, start, (*middle, *right))
            assert got == pytest.approx(want, abs=1e-6)
            assert decoder.continuation_score(model, start, (*middle, *right)) == got  # the state is left as it was


def test_prepare_warms_the_packs_memos_and_changes_no_answer() -> None:
    from unspin.decode.engine import check, prepare

    cold, warm = LanguagePack.load(), LanguagePack.load()  # two objects: two sets of memos
    assert prepare(warm) is warm
    assert {"channel.originals", "neighbours.index"} <= set(warm.memo)
    assert not cold.memo
    assert check(TEXT, warm).to_dict() == check(TEXT, cold).to_dict()


def test_compiled_window_gains_equal_the_reference(pack: LanguagePack) -> None:
    if pack.lm.batch is None:
        pytest.skip("the compiled scorer is not built (scripts/build-kenlm-tools.sh)")
    model, order = pack.lm.model, pack.lm.order
    for sent in sentence_tokens(TEXT + " Xyzzyq frobbed the wibble."):
        forms = [lm_form(t.text) for t in sent]
        spans = channel.propose_spans(pack, sent)
        groups = [(sp.start, sp.end, [w for _, w in sp.found]) for sp in spans]
        # windows at both sentence ends, phrases, unknown words and an empty candidate list
        groups += [(0, 1, [("the",), ("xyzzyq", "a")]), (len(forms) - 1, len(forms), [("end",)]), (1, 1, [])]
        want = decoder.window_gains(model, forms, groups, order)
        got = pack.lm.batch.window_gains(forms, groups)
        assert got == want  # bit for bit: the same float sums in the same order
        assert len(got) == sum(len(c) for _, _, c in groups)
    assert pack.lm.batch.window_gains(("not", "a", "list"), []) is None  # unexpected input: the caller's path


def test_phrases_the_thesaurus_lacks_are_answered_without_the_channel(pack: LanguagePack) -> None:
    for phrase in ("phone call", "men and women", "the flood had", "council promised", "xyzzyq frob"):
        assert channel.originals(pack, phrase) == channel.compute_originals(pack, phrase)
    assert pack.thesaurus.has_term("phone call") and not pack.thesaurus.has_term("council promised")
