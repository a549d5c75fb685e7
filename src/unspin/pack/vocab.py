"""Vocabulary with corpus frequencies, cased and uncased, as memory-mapped sorted tables.

The engine needs "how common is this word" (uncased, in lm_form: what the LM saw) and "how is it
usually written" (cased: "Foreign Ministry" vs "foreign ministry"). Counts are uint32 beside a sorted
string table; rare types below ``min_count`` are dropped to keep the pack small, and ``total``
still counts every word token of the corpus.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ..native import module
from ..tokens import lm_form
from .store import StringTable, load_array, save_array

__all__ = ["Vocabulary", "build_vocabulary"]


def build_vocabulary(cased: Counter, out: Path, min_count: int = 2) -> dict:
    """Write cased and uncased tables of words seen at least ``min_count`` times."""
    uncased: Counter = Counter()
    for w, c in cased.items():
        uncased[lm_form(w)] += c
    out.mkdir(parents=True, exist_ok=True)
    info: dict = {"total": int(sum(cased.values())), "min_count": min_count}
    for name, counter in (("uncased", uncased), ("cased", cased)):
        keep = {w: c for w, c in counter.items() if c >= min_count}
        keys, strings = StringTable.build(keep, max_bytes=48)
        counts = np.array([min(keep[s], 2**32 - 1) for s in strings], dtype=np.uint32)
        save_array(out / f"{name}_words.npy", keys)
        save_array(out / f"{name}_counts.npy", counts)
        info[f"{name}_types"] = len(strings)
        info[f"{name}_types_all"] = len(counter)
    np.save(out / "total.npy", np.array([info["total"]], dtype=np.uint64))
    return info


class Vocabulary:
    """Query side: counts by word (0 when unknown or below the pack's ``min_count``)."""

    def __init__(self, directory: Path) -> None:
        self._u = StringTable(load_array(directory / "uncased_words.npy"))
        self._uc = load_array(directory / "uncased_counts.npy")
        self._c = StringTable(load_array(directory / "cased_words.npy"))
        self._cc = load_array(directory / "cased_counts.npy")
        self.total: int = int(load_array(directory / "total.npy")[0])
        # Memos of answers that depend only on these counts (trace's token forms; see pack/memo.py).
        self.memo: dict = {}
        # The same tables for the compiled per-token loops (detect.gate, channel.eligible_flags):
        # (uncased, cased), searched in place.
        ext = module()
        self.compiled_tables = tuple(
            ext.Table(t.keys, t.width, np.ascontiguousarray(c, dtype=np.uint32))
            for t, c in ((self._u, self._uc), (self._c, self._cc))
        )

    def __len__(self) -> int:
        return len(self._u)

    def count(self, word: str) -> int:
        """Uncased corpus count of ``word`` (given in lm_form, or normalised here)."""
        i = self._u.find(lm_form(word))
        return int(self._uc[i]) if i >= 0 else 0

    def cased_count(self, word: str) -> int:
        """Corpus count of ``word`` exactly as written."""
        i = self._c.find(word)
        return int(self._cc[i]) if i >= 0 else 0

    def cased_counts(self, words: list[str]) -> np.ndarray:
        """Cased counts of many words (exactly as written) at once."""
        idx = self._c.find_many(words)
        return np.where(idx >= 0, np.asarray(self._cc)[np.maximum(idx, 0)], 0).astype(np.int64)

    def counts(self, words: list[str]) -> np.ndarray:
        """Uncased counts of many lm_form words at once."""
        idx = self._u.find_many(words)
        return np.where(idx >= 0, np.asarray(self._uc)[np.maximum(idx, 0)], 0).astype(np.int64)

    def words_and_counts(self) -> tuple[list[str], np.ndarray]:
        """Every uncased word the pack kept, with its count, row for row."""
        return [self._u.string(i) for i in range(len(self._u))], np.asarray(self._uc)
