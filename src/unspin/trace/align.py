"""Align a copy with its source passage by passage.

Sentences are compared by what a spinner leaves alone: their names, numbers and rare words, their
content words that were not swapped, and their skeleton (function words and anchors, with every
other content word a wildcard). A monotone dynamic programme then picks the best order-preserving
sentence pairing, skipping sentences that have no counterpart (a copy that covers another stretch
of the story, or a source paragraph the copier left out); runs of nearly consecutive pairs are passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..decode.channel import FUNCTION_WORDS
from ..tokens import PUNCT, WORD, Token, lm_form, sentence_tokens

__all__ = ["MAX_ALIGN_CHARS", "Passage", "align", "prepare", "source_window"]

# A reference longer than this is aligned only within a window of it (``source_window``): alignment
# costs time and memory in proportion to copy x reference sentences, and one 10 MB reference made
# every trace that found it take 15.7 s and 800 MB. The window is several times the copy's length.
MAX_ALIGN_CHARS = 200_000
_ANCHOR_RE = re.compile(r"\b(?:\d[\d.,]*\d|\d|[A-Z][a-z]+[A-Za-z]*|[a-z]{9,})\b")
MIN_SIMILARITY = 0.25  # Dice overlap below which two sentences are not counterparts
MAX_GAP = 1


@dataclass(frozen=True, slots=True)
class Passage:
    """Aligned runs: ``copy[copy_start:copy_end]`` corresponds to ``source[source_start:source_end]``.

    ``pairs`` lists the aligned sentence pairs inside the passage, as (copy, source) spans.
    """

    copy_start: int
    copy_end: int
    source_start: int
    source_end: int
    similarity: float
    pairs: tuple[tuple[tuple[int, int], tuple[int, int]], ...]


def _keys(sent: list[Token]) -> set[str]:
    words = [t for t in sent if t.kind != PUNCT]
    forms = [lm_form(t.text) for t in words]
    keys = {f for f in forms if f not in FUNCTION_WORDS}
    skeleton = [f if (t.kind != WORD or f in FUNCTION_WORDS) else "*" for t, f in zip(words, forms, strict=True)]
    keys.update(" ".join(skeleton[i : i + 3]) for i in range(len(skeleton) - 2) if skeleton[i : i + 3].count("*") < 3)
    return keys


def _similarity(a: list[set[str]], b: list[set[str]]) -> np.ndarray:
    sim = np.zeros((len(a), len(b)))
    for i, ka in enumerate(a):
        if not ka:
            continue
        for j, kb in enumerate(b):
            if kb:
                shared = len(ka & kb)
                if shared:
                    sim[i, j] = 2 * shared / (len(ka) + len(kb))
    return sim


def _monotone_pairs(sim: np.ndarray) -> list[tuple[int, int]]:
    """The order-preserving sentence pairing with the largest total (similarity − threshold)."""
    n, m = sim.shape
    gain = np.where(sim >= MIN_SIMILARITY, sim - MIN_SIMILARITY + 1e-3, -np.inf)
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        row, prev, g = best[i], best[i - 1], gain[i - 1]
        for j in range(1, m + 1):
            row[j] = max(prev[j], row[j - 1], prev[j - 1] + g[j - 1])
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:
        if best[i, j] == best[i - 1, j]:
            i -= 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


Prepared = tuple[list[list[Token]], list[set[str]]]


def prepare(text: str) -> Prepared:
    """A text's sentences and their comparison keys: compute a copy's once to align it with several sources."""
    sents = [s for s in sentence_tokens(text) if any(t.kind != PUNCT for t in s)]
    return sents, [_keys(s) for s in sents]


def align(copy: str, source: str, prepared: Prepared | None = None) -> list[Passage]:
    """Passages of ``copy`` and ``source`` that correspond, in order; offsets index each text.

    ``prepared`` is ``prepare(copy)``, when the caller aligns one copy with several sources. A huge
    source is aligned only within `source_window` (offsets still index the whole source)."""
    copy_sents, copy_keys = prepared if prepared is not None else prepare(copy)
    source, shift = source_window(copy, source)
    source_sents, source_keys = prepare(source)
    if not copy_sents or not source_sents:
        return []
    sim = _similarity(copy_keys, source_keys)
    pairs = _monotone_pairs(sim)
    passages: list[Passage] = []
    run: list[tuple[int, int]] = []

    def close() -> None:
        if not run:
            return
        (ci, si), (cj, sj) = run[0], run[-1]
        passages.append(
            Passage(
                copy_start=copy_sents[ci][0].start,
                copy_end=copy_sents[cj][-1].end,
                source_start=source_sents[si][0].start + shift,
                source_end=source_sents[sj][-1].end + shift,
                similarity=round(float(np.mean([sim[c, s] for c, s in run])), 3),
                pairs=tuple(
                    (
                        (copy_sents[c][0].start, copy_sents[c][-1].end),
                        (source_sents[s][0].start + shift, source_sents[s][-1].end + shift),
                    )
                    for c, s in run
                ),
            )
        )
        run.clear()

    for c, s in pairs:
        # A passage tolerates one unpaired sentence on either side (a sentence split in two, a
        # line the copier dropped or added); a longer gap starts a new passage.
        if run and (c - run[-1][0] > MAX_GAP + 1 or s - run[-1][1] > MAX_GAP + 1):
            close()
        run.append((c, s))
    close()
    return passages


def source_window(copy: str, source: str, limit: int = MAX_ALIGN_CHARS) -> tuple[str, int]:
    """(part of ``source`` to align ``copy`` with, its offset): the whole source when it is at most
    ``limit`` characters, else the ``limit``-character stretch holding the most occurrences of the
    copy's names, numbers and long words (what a spinner leaves alone), cut at line breaks.

    Each anchor is looked up with ``str.find`` (C speed), at most 40 of them, the rarest in the copy
    first, so the cost stays a few passes over the reference however long it is.
    """
    if len(source) <= limit:
        return source, 0
    counts: dict[str, int] = {}
    for m in _ANCHOR_RE.finditer(copy):
        counts[m.group()] = counts.get(m.group(), 0) + 1
    anchors = sorted(counts, key=lambda a: (counts[a], -len(a)))[:40]
    hits: list[int] = []
    for a in anchors:
        pos = source.find(a)
        while pos >= 0 and len(hits) < 200_000:
            hits.append(pos)
            pos = source.find(a, pos + len(a))
    hits.sort()
    best, start = 0, 0
    lo = 0
    for hi, pos in enumerate(hits):  # the window [pos - limit, pos] with the most hits (two pointers)
        while pos - hits[lo] > limit * 0.9:
            lo += 1
        if hi - lo + 1 > best:
            best, start = hi - lo + 1, hits[lo]
    centre = start + int(limit * 0.45)  # the best stretch, in the middle
    a = max(0, min(centre - limit // 2, len(source) - limit))
    b = a + limit
    cut = source.find("\n", a, a + limit // 20)  # start and end at line breaks where there are any
    a = cut + 1 if a > 0 and cut >= 0 else a
    cut = source.rfind("\n", b - limit // 20, b)
    b = cut if b < len(source) and cut >= 0 else b
    return source[a:b], a
