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
# Within that, a reference is aligned only within a window of WINDOW_PER_COPY times the copy's length
# (at least MIN_WINDOW characters): a copy is an excerpt or a version of its source, so its
# counterpart lies within such a stretch, and the work per candidate (tokenising, keys, the
# sentence-by-sentence comparison) stays bounded however long the retrieved articles are.
MIN_WINDOW = 20_000
WINDOW_PER_COPY = 4
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


# Per token string: its form and whether it is a function word (a bounded memo: a collection repeats
# the same few hundred thousand strings, and keys are computed for every sentence of every source
# a trace aligns).
_FORMS: dict[str, tuple[str, bool]] = {}
_FORMS_LIMIT = 500_000
_STAR = "*"


def _form(text: str) -> tuple[str, bool]:
    if len(_FORMS) >= _FORMS_LIMIT:
        _FORMS.clear()
    f = lm_form(text)
    found = _FORMS[text] = (f, f in FUNCTION_WORDS)
    return found


def _keys(sent: list[Token]) -> set[str]:
    """A sentence's comparison keys: its content words' forms, and the trigrams of its skeleton
    (function words and numbers as themselves, other words a wildcard) that are not all wildcards."""
    keys: set[str] = set()
    skeleton: list[str] = []
    memo = _FORMS
    for t in sent:
        if t.kind == PUNCT:
            continue
        f, function = memo.get(t.text) or _form(t.text)
        if function:
            skeleton.append(f)
        else:
            keys.add(f)
            skeleton.append(_STAR if t.kind == WORD else f)
    for i in range(len(skeleton) - 2):
        a, b, c = skeleton[i], skeleton[i + 1], skeleton[i + 2]
        if a != _STAR or b != _STAR or c != _STAR:
            keys.add(f"{a} {b} {c}")
    return keys


def _similarity(a: list[set[str]], b: list[set[str]]) -> np.ndarray:
    """Dice overlap of every pair of key sets, ``2·|a∩b| / (|a| + |b|)`` (0 when either is empty).

    Counted through an inverted index of ``a``'s keys (numpy, no Python loop over pairs): a copy
    of 40 sentences against a 4,000-sentence reference is 160,000 pairs, most sharing nothing.
    """
    n, m = len(a), len(b)
    sim = np.zeros((n, m))
    ids: dict[str, int] = {}
    key_of, sent_of = [], []
    for i, ka in enumerate(a):
        for k in ka:
            key_of.append(ids.setdefault(k, len(ids)))
            sent_of.append(i)
    if not ids or not m:
        return sim
    # The copy's postings grouped by key (CSR): the sentences of a[...] holding key k.
    order = np.argsort(np.array(key_of), kind="stable")
    holders = np.array(sent_of, dtype=np.int64)[order]
    starts = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.array(key_of), minlength=len(ids)), out=starts[1:])
    # The reference's postings restricted to the copy's keys, each joined with the copy's holders.
    flat = [ids.get(k, -1) for kb in b for k in kb]
    src_all = np.repeat(np.arange(m, dtype=np.int64), [len(kb) for kb in b])
    ks_all = np.array(flat, dtype=np.int64)
    kept = ks_all >= 0
    if not kept.any():
        return sim
    src_sent = src_all[kept]
    ks = ks_all[kept]
    counts = starts[ks + 1] - starts[ks]
    total = int(counts.sum())
    first = np.repeat(starts[ks] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    rows = holders[first + np.arange(total)]
    cols = np.repeat(src_sent, counts)
    shared = np.bincount(rows * m + cols, minlength=n * m).reshape(n, m)
    size_a = np.array([len(k) for k in a], dtype=np.float64)
    size_b = np.array([len(k) for k in b], dtype=np.float64)
    r, c = np.nonzero(shared)
    sim[r, c] = 2 * shared[r, c] / (size_a[r] + size_b[c])
    return sim


def _monotone_pairs(sim: np.ndarray) -> list[tuple[int, int]]:
    """The order-preserving sentence pairing with the largest total (similarity − threshold).

    The programme ``best[i, j] = max(best[i-1, j], best[i, j-1], best[i-1, j-1] + gain)`` is run a
    row at a time: the first and last terms need only the previous row, and the middle one is a
    running maximum along the row (``np.maximum.accumulate``), the same values as cell by cell.
    """
    n, m = sim.shape
    gain = np.where(sim >= MIN_SIMILARITY, sim - MIN_SIMILARITY + 1e-3, -np.inf)
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        prev = best[i - 1]
        row = best[i]
        row[1:] = np.maximum(prev[1:], prev[:-1] + gain[i - 1])
        np.maximum.accumulate(row, out=row)
    return _traceback(best)


def _traceback(best: np.ndarray) -> list[tuple[int, int]]:
    """The pairs of the programme's best path, from its filled table ``best`` ((n + 1) × (m + 1))."""
    pairs = []
    i, j = best.shape[0] - 1, best.shape[1] - 1
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
    source, shift = source_window(copy, source, min(MAX_ALIGN_CHARS, max(MIN_WINDOW, WINDOW_PER_COPY * len(copy))))
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
