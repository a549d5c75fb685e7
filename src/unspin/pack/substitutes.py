"""Distributional substitutes: which words can stand where a word stands, learnt from the corpus.

A thesaurus says which words *may* replace each other, in some sense; it cannot say which of its
links are the everyday ones ("toll" → "demand" is in Moby; no spinner's table has it). The corpus can:
two words are substitutes when they fill the same slots ("the Foreign Ministry ___ that", "___ the
outbreak"). Following Lin (1998) and Levy & Goldberg's PPMI recipe, every common word is described
by the words just before and just after it, and by the pair of the two, weighted by positive pointwise
mutual information (with the context distribution smoothed, exponent 0.75); the cosine of two such
descriptions is their substitutability. For each word the pack keeps its nearest ``K`` words.

Measured on the real spun pages (bench/pack.py, ``substitutes_recall``): for most of their single-word
swaps the original is among the spun word's substitutes, which is far more often than for the wrong
originals the language model alone picks; the channel (`unspin.decode.channel`) rewards it.

On disk: a string table of the described words and, per word, the row numbers (uint16) of its
nearest words and their similarities (uint8, x255), best first.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .store import StringTable, load_array, save_array

__all__ = ["Substitutes", "build_substitutes"]

K = 24  # neighbours kept per word
MIN_PAIR_COUNT = 20  # a (left, right) context pair is a feature only when this frequent overall
MIN_FEATURE_COUNT = 2  # (word, feature) counts below this are noise
SMOOTHING = 0.75  # context distribution smoothing of PPMI
BLOCK = 2000  # rows per similarity block (a dense BLOCK x words float32 matrix)


def _ids(path: Path, index: dict[str, int], bos: int, eos: int, oov: int) -> np.ndarray:
    """One tokenized corpus file (a sentence per line, lm_form tokens) as context ids, each sentence
    framed by ``bos``/``eos``."""
    out: list[int] = []
    get = index.get
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append(bos)
            out.extend([get(t, oov) for t in line.split()])
            out.append(eos)
    return np.asarray(out, dtype=np.int32)


def _counts(args: tuple[Path, dict[str, int], int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(word, left) and (word, right) keys with counts, and (word, left*C + right) keys, for one file."""
    path, index, n = args
    c = n + 3
    a = _ids(path, index, n, n + 1, n + 2).astype(np.int64)
    w, left, right = a[1:-1], a[:-2], a[2:]
    m = w < n
    w, left, right = w[m], left[m], right[m]
    lk, lc = np.unique(w * c + left, return_counts=True)
    rk, rc = np.unique(w * c + right, return_counts=True)
    pk, pc = np.unique(w * (c * c) + left * c + right, return_counts=True)
    return np.concatenate([lk, rk + n * c]), np.concatenate([lc, rc]), pk, pc


def _merge(keys: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    k = np.concatenate(keys)
    v = np.concatenate(counts)
    u, inv = np.unique(k, return_inverse=True)
    return u, np.bincount(inv, weights=v).astype(np.int64)


def build_substitutes(
    texts: Iterable[Path], vocabulary: list[str], out: Path, k: int = K, workers: int = 2, log=None
) -> dict:
    """Compute every word of ``vocabulary``'s nearest substitutes from tokenized corpus files.

    ``vocabulary``: the words to describe (and to find as substitutes), commonest first; they are
    also the context vocabulary (other tokens count as one "rare word" context).
    """
    import scipy.sparse as sp

    say = log or (lambda message: None)
    words = [w for w in dict.fromkeys(vocabulary) if 0 < len(w.encode("utf-8")) <= 48]
    if len(words) > 65535:
        raise ValueError("substitutes: at most 65,535 words (rows are stored as uint16)")
    n = len(words)
    if n < 2:
        raise ValueError("substitutes: the corpus has fewer than two words to compare")
    k = min(k, n - 1)
    index = {w: i for i, w in enumerate(words)}
    c = n + 3  # contexts: the words, sentence start, sentence end, any other token
    files = list(texts)
    lr_keys, lr_counts, pair_keys, pair_counts = [], [], [], []
    jobs = [(p, index, n) for p in files]
    if workers > 1 and len(jobs) > 1:
        with mp.get_context("fork").Pool(min(workers, len(jobs))) as pool:
            results = pool.imap_unordered(_counts, jobs)
            for done, (a, b, e, f) in enumerate(results, 1):
                lr_keys.append(a), lr_counts.append(b), pair_keys.append(e), pair_counts.append(f)
                say(f"counted contexts in {done}/{len(jobs)} file(s)")
    else:
        for done, job in enumerate(jobs, 1):
            a, b, e, f = _counts(job)
            lr_keys.append(a), lr_counts.append(b), pair_keys.append(e), pair_counts.append(f)
            say(f"counted contexts in {done}/{len(jobs)} file(s)")
    single_k, single_c = _merge(lr_keys, lr_counts)
    pair_k, pair_c = _merge(pair_keys, pair_counts)
    del lr_keys, lr_counts, pair_keys, pair_counts
    # Features: left word (0..c), right word (c..2c), frequent (left, right) pairs (2c..).
    rows = [np.where(single_k < n * c, single_k // c, (single_k - n * c) // c)]
    cols = [np.where(single_k < n * c, single_k % c, c + (single_k - n * c) % c)]
    vals = [single_c]
    pair_ctx = pair_k % (c * c)
    ctx_ids, ctx_inv = np.unique(pair_ctx, return_inverse=True)
    ctx_total = np.bincount(ctx_inv, weights=pair_c)
    frequent = ctx_total >= MIN_PAIR_COUNT
    remap = np.full(len(ctx_ids), -1, dtype=np.int64)
    remap[frequent] = np.arange(int(frequent.sum()))
    feature = remap[ctx_inv]
    keep = feature >= 0
    rows.append(pair_k[keep] // (c * c))
    cols.append(2 * c + feature[keep])
    vals.append(pair_c[keep])
    n_features = 2 * c + int(frequent.sum())
    r, col, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(np.float64)
    ok = v >= MIN_FEATURE_COUNT
    m = sp.csr_matrix((v[ok], (r[ok], col[ok])), shape=(n, n_features))
    say(f"{n:,} words x {n_features:,} context features, {m.nnz:,} non-zero")
    total = m.sum()
    p_word = np.asarray(m.sum(axis=1)).ravel() / total
    smoothed = np.asarray(m.sum(axis=0)).ravel() ** SMOOTHING
    p_feature = smoothed / smoothed.sum()
    coo = m.tocoo()
    with np.errstate(divide="ignore"):
        pmi = np.log((coo.data / total) / (p_word[coo.row] * p_feature[coo.col]))
    pos = pmi > 0
    m = sp.csr_matrix((pmi[pos], (coo.row[pos], coo.col[pos])), shape=(n, n_features))
    norm = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    m = (sp.diags(1.0 / np.maximum(norm, 1e-12)) @ m).tocsr().astype(np.float32)
    mt = m.T.tocsr()
    nbr = np.zeros((n, k), dtype=np.uint16)
    sim = np.zeros((n, k), dtype=np.uint8)
    for s0 in range(0, n, BLOCK):
        block = (m[s0 : s0 + BLOCK] @ mt).toarray()
        block[np.arange(block.shape[0]), np.arange(s0, s0 + block.shape[0])] = -1.0  # not its own substitute
        top = np.argpartition(-block, k, axis=1)[:, :k]
        top_v = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_v, axis=1)
        nbr[s0 : s0 + BLOCK] = np.take_along_axis(top, order, axis=1)
        sim[s0 : s0 + BLOCK] = np.clip(np.rint(np.take_along_axis(top_v, order, axis=1) * 255), 0, 255)
        say(f"similarities {min(n, s0 + BLOCK):,}/{n:,}")
    keys, strings = StringTable.build({w: i for i, w in enumerate(words)}, max_bytes=48)
    # StringTable sorts its strings: store rows in that order, and neighbours as indices into it.
    position = {w: i for i, w in enumerate(strings)}
    old_to_new = np.array([position[w] for w in words], dtype=np.int64)
    new_nbr = np.zeros_like(nbr)
    new_sim = np.zeros_like(sim)
    new_nbr[old_to_new] = old_to_new[nbr].astype(np.uint16)
    new_sim[old_to_new] = sim
    out.mkdir(parents=True, exist_ok=True)
    save_array(out / "words.npy", keys)
    save_array(out / "neighbours.npy", new_nbr)
    save_array(out / "similarity.npy", new_sim)
    return {
        "words": n,
        "neighbours_per_word": k,
        "features": n_features,
        "method": "PPMI (context smoothing 0.75) over left word, right word and frequent (left, right) pairs; "
        "cosine; nearest K kept",
    }


class Substitutes:
    """Query side: a word's substitutes and the substitutability of two words."""

    def __init__(self, directory: Path) -> None:
        self._t = StringTable(load_array(directory / "words.npy"))
        self._nbr = load_array(directory / "neighbours.npy")
        self._sim = load_array(directory / "similarity.npy")
        self._memo: dict[str, dict[str, float]] = {}

    def __len__(self) -> int:
        return len(self._nbr)

    def of(self, word: str) -> dict[str, float]:
        """The word's substitutes with their similarity in (0, 1], best first ({} if not described)."""
        found = self._memo.get(word)
        if found is None:
            r = self._t.find(word)
            if r < 0:
                found = {}
            else:
                names = self._t.strings(self._nbr[r])
                found = {w: s / 255.0 for w, s in zip(names, self._sim[r].tolist(), strict=True) if s}
            if len(self._memo) > 100_000:
                self._memo.clear()
            self._memo[word] = found
        return found

    def similarity(self, a: str, b: str) -> float:
        """Substitutability of two words: listed either way round, else 0."""
        return self.of(a).get(b) or self.of(b).get(a) or 0.0
