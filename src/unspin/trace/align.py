"""Align a copy with its source passage by passage.

Sentences are compared by what a spinner leaves alone: their names, numbers and rare words, their
content words that were not swapped, and their skeleton (function words and anchors, with every
other content word a wildcard). A monotone dynamic programme then picks the best order-preserving
sentence pairing, skipping sentences that have no counterpart (a copy that covers another stretch
of the story, or a source paragraph the copier left out); runs of nearly consecutive pairs are passages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..decode.channel import FUNCTION_WORDS
from ..tokens import PUNCT, WORD, Token, lm_form, sentence_tokens

__all__ = ["Passage", "align", "prepare"]

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

    ``prepared`` is ``prepare(copy)``, when the caller aligns one copy with several sources."""
    copy_sents, copy_keys = prepared if prepared is not None else prepare(copy)
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
                source_start=source_sents[si][0].start,
                source_end=source_sents[sj][-1].end,
                similarity=round(float(np.mean([sim[c, s] for c, s in run])), 3),
                pairs=tuple(
                    (
                        (copy_sents[c][0].start, copy_sents[c][-1].end),
                        (source_sents[s][0].start, source_sents[s][-1].end),
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
