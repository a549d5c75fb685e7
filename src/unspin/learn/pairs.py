"""Aligning a spun page with its source: sentences first, then words; the swaps a spinner made.

One alignment for everything that learns from or is measured on real pairs: the learned spinner table
(`unspin.learn.table`), the span calibration and ``bench/metrics.py`` see the same swaps.

Real pairs are excerpts of two pages (a spun copy and its source may cover different stretches of the
story), so each spun sentence is paired with its best source sentence by word overlap, and only pairs
that overlap enough count. Inside a pair, the word-level alignment's replaced blocks are the spinner's
swaps; equal blocks are words it kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import urlparse

from ..tokens import NUMBER, WORD, sentences, tokenize

#: Longest swap (in words, either side) taken as one spinner substitution; longer replaced blocks are
#: rewritten passages (or alignment noise), not table lookups.
MAX_SWAP_WORDS = 3


def words(text: str, lo: int = 0, hi: int | None = None) -> list[tuple[str, int, int]]:
    """(normalised word, start, end) for the words and numbers of ``text[lo:hi]``."""
    return [
        (t.text.lower().replace("’", "'"), t.start, t.end) for t in tokenize(text, lo, hi) if t.kind in (WORD, NUMBER)
    ]


def align_sentences(spun: str, src: str, min_ratio: float = 0.35) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Each spun sentence paired with its best source sentence by word overlap (excerpts may differ)."""
    src_sents = [(s, e, [w for w, _, _ in words(src, s, e)]) for s, e in sentences(src)]
    out = []
    for a, b in sentences(spun):
        sw = [w for w, _, _ in words(spun, a, b)]
        if len(sw) < 4:
            continue
        best, best_r = None, 0.0
        for sa, sb, tw in src_sents:
            sm = SequenceMatcher(None, sw, tw, autojunk=False)
            if sm.real_quick_ratio() <= best_r or sm.quick_ratio() <= best_r:
                continue
            r = sm.ratio()
            if r > best_r:
                best, best_r = (sa, sb), r
        if best is not None and best_r >= min_ratio:
            out.append(((a, b), best))
    return out


@dataclass(frozen=True, slots=True)
class Swap:
    """One replaced block: the spun words (with offsets into the spun text) and the source's words."""

    spun: tuple[str, ...]
    original: tuple[str, ...]
    start: int
    end: int
    offsets: tuple[tuple[int, int], ...] = ()  # each spun word's [start, end)

    def original_of(self, start: int, end: int) -> tuple[str, ...]:
        """The source words that the spun words inside ``[start, end)`` replaced: the counterparts
        position by position when the block swaps word for word, else the whole original."""
        inside = [k for k, (a, b) in enumerate(self.offsets) if a < end and start < b]
        if len(self.spun) == len(self.original) and inside:
            return tuple(self.original[k] for k in inside)
        return self.original

    def restores(self, start: int, end: int, original: tuple[str, ...]) -> bool:
        """Is ``original`` (for the spun words in ``[start, end)``) the source's wording?"""
        want = self.original_of(start, end)
        if original == want:
            return True
        n = len(original)
        return len(self.spun) != len(self.original) and any(
            self.original[k : k + n] == original for k in range(len(self.original) - n + 1)
        )


@dataclass
class AlignedPair:
    """A spun page against its source: the swaps, and the spun words the spinner kept."""

    swaps: list[Swap]
    kept: list[str]
    aligned_words: int
    sentences: list[tuple[int, int]]  # the spun sentences that have a source sentence

    def covers(self, start: int, end: int) -> bool:
        """Is ``[start, end)`` of the spun text inside an aligned sentence (so its truth is known)?"""
        return any(a <= start and end <= b for a, b in self.sentences)


def align_pair(spun: str, src: str) -> AlignedPair:
    """The swaps (replaced blocks of at most `MAX_SWAP_WORDS` words a side) and kept words of a pair."""
    swaps: list[Swap] = []
    kept: list[str] = []
    n = 0
    pairs = align_sentences(spun, src)
    for (a, b), (sa, sb) in pairs:
        sw, tw = words(spun, a, b), words(src, sa, sb)
        n += len(sw)
        sm = SequenceMatcher(None, [w for w, _, _ in sw], [w for w, _, _ in tw], autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                kept.extend(w for w, _, _ in sw[i1:i2])
            elif op == "replace" and i2 - i1 <= MAX_SWAP_WORDS and j2 - j1 <= MAX_SWAP_WORDS:
                block = sw[i1:i2]
                swaps.append(
                    Swap(tuple(w for w, _, _ in block), tuple(w for w, _, _ in tw[j1:j2]), block[0][1], block[-1][2],
                         tuple((x, y) for _, x, y in block))
                )  # fmt: skip
    return AlignedPair(swaps, kept, n, [a for a, _ in pairs])


def site(record: dict) -> str:
    """The spun page's site (its domain without ``www.``): the unit of leave-one-site-out folds."""
    host = urlparse(record.get("spun_url") or "").netloc.lower()
    return host.removeprefix("www.") or str(record.get("id"))


def spinner_pairs(records: Iterator[dict]) -> list[dict]:
    """The records of style ``spinner`` (synonym swaps; the seed is ``spinner+damage``): the ones a
    spinner table is learnt from."""
    return [r for r in records if r.get("style", "spinner").startswith("spinner")]
