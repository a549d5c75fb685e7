"""Memos hang on the pack they depend on, are bounded, and never answer for another pack."""

from __future__ import annotations

import dataclasses

import pytest

from unspin.pack import LanguagePack, default_pack_path
from unspin.pack.memo import BoundedMemo
from unspin.trace.features import fingerprint

needs_pack = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)

TEXT = (
    "Officials in Kandahar said on Monday that the new bridge over the river would open in 1987, after "
    "engineers from Ankara finished the survey. The council thanked the engineers and the builders."
)


def test_a_bounded_memo_keeps_its_table_and_at_most_limit_more() -> None:
    memo = BoundedMemo(8, {"table": 1, "kept": 2})
    for k in range(100):
        memo[f"w{k}"] = k
        assert len(memo) <= 2 + 8
    assert memo["table"] == 1 and memo["kept"] == 2  # the precomputed entries are never evicted
    assert "w99" in memo and "w0" not in memo  # the oldest go first
    memo["w99"] = -1  # overwriting an entry evicts nothing
    assert len(memo) <= 10 and memo["w99"] == -1


class _Vocab:
    """A vocabulary where every word has the same count."""

    def __init__(self, count: int) -> None:
        self._count = count
        self.memo: dict = {}

    def count(self, word: str) -> int:
        return self._count


def test_trace_forms_answer_for_the_vocabulary_they_are_given() -> None:
    """Code review §3 item 2: the token-form memo was module-level, so a second vocabulary got the first
    one's anchors (an all-rare vocabulary makes every content word an anchor, an all-common one none)."""
    rare, common = _Vocab(0), _Vocab(10**9)
    with_rare = fingerprint(TEXT, rare).anchors.size
    with_common = fingerprint(TEXT, common).anchors.size
    assert with_rare > 8
    # with an all-common vocabulary only the number and the names mid-sentence stay anchors
    assert with_common == fingerprint(TEXT, _Vocab(10**9)).anchors.size < with_rare
    assert with_common == 4  # 1987, Kandahar, Monday, Ankara


@needs_pack
def test_two_packs_in_one_process_keep_their_own_channel_memos() -> None:
    from unspin.decode.channel import channel_memo, originals

    a, b = LanguagePack.load(), LanguagePack.load()
    found = originals(a, "troopers")
    assert channel_memo(a) is not channel_memo(b)
    assert "troopers" in channel_memo(a)
    # an edited memo on one pack is not what the other answers
    channel_memo(a)["troopers"] = []
    assert originals(a, "troopers") == [] and originals(b, "troopers") == found


@needs_pack
def test_the_channel_cache_is_keyed_by_pack_identity_not_path(tmp_path) -> None:
    from unspin.decode.channel_cache import cache_path

    pack = LanguagePack.load()
    link = tmp_path / "same-pack-elsewhere"
    link.symlink_to(pack.path.resolve(), target_is_directory=True)
    assert cache_path(LanguagePack.load(link)) == cache_path(pack)
    files = dict(pack.manifest["files"])
    name = "lm.bin"  # a part the channel reads; a new spinner table keeps the cache (test_pack_identity)
    files[name] = {**files[name], "sha256": "0" * 64}
    rebuilt = dataclasses.replace(pack, manifest={**pack.manifest, "files": files})
    assert rebuilt.identity != pack.identity
    assert cache_path(rebuilt) != cache_path(pack)

