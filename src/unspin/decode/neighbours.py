"""Candidates from word vectors: originals no thesaurus lists, but a spinner's table did.

Spinners' tables hold swaps no public thesaurus has ("said" → "explained", "next" → "upcoming").
A word's nearest neighbours in vector space, among words common enough to be an original, are
proposed too; the language model then decides whether any of them fits where the observed word
does not. The index is built on first use per pack and kept on it; neighbours are memoised per observed word.
"""

from __future__ import annotations

import numpy as np

from ..pack.memo import BoundedMemo, memo_for
from ..tokens import lm_form

MIN_COUNT = 300  # an original must be a common word: rare words are not what spinners replace
K = 12
MIN_SIMILARITY = 0.6
MEMO_WORDS = 100_000  # observed words whose neighbours an index remembers


class NeighbourIndex:
    """Nearest common words by cosine similarity over the pack's unit vectors."""

    def __init__(self, pack) -> None:
        vectors = pack.vectors
        words, matrix = vectors.table()
        alpha = [i for i, w in enumerate(words) if w.isalpha()]
        counts = pack.vocab.counts([lm_form(words[i]) for i in alpha]).tolist()  # one vectorised search
        keep = [i for i, c in zip(alpha, counts, strict=True) if c >= MIN_COUNT]
        self._words = [words[i] for i in keep]
        m = np.asarray(matrix[keep], dtype=np.float32)
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
        self._m = m
        self._vectors = vectors
        self._memo: dict[str, list[tuple[float, str]]] = BoundedMemo(MEMO_WORDS)

    def neighbours(self, word: str) -> list[tuple[float, str]]:
        """(similarity, word) of the K nearest common words with similarity ≥ MIN_SIMILARITY."""
        found = self._memo.get(word)
        if found is not None:
            return found
        v = self._vectors.vector(word)
        if v is None or not len(self._words):
            self._memo[word] = []
            return []
        v = v / max(float(np.linalg.norm(v)), 1e-9)
        sims = self._m @ v
        # Only words above the similarity floor can be kept: select the top K + 1 among those (a
        # few dozen) instead of partitioning the whole vocabulary.
        top = np.flatnonzero(sims >= MIN_SIMILARITY)
        if len(top) > K + 1:
            top = top[np.argpartition(-sims[top], K)[: K + 1]]
        found = sorted(
            ((float(sims[i]), self._words[i]) for i in top if sims[i] >= MIN_SIMILARITY and self._words[i] != word),
            reverse=True,
        )[:K]
        self._memo[word] = found
        return found


def index_for(pack) -> NeighbourIndex | None:
    """The pack's neighbour index, built on first use and kept on the pack (``pack.memo``)."""
    if getattr(pack, "vectors", None) is None:
        return None
    return memo_for(pack, "neighbours.index", lambda: NeighbourIndex(pack))
