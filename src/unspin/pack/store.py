"""Memory-mapped building blocks shared by the pack's parts: sorted string tables and CSR graphs.

Everything in a pack is a ``.npy`` file opened with ``np.load(mmap_mode="r")``, so loading a pack is
a handful of ``mmap`` calls and no parsing; the OS pages in only what queries touch. Strings are kept
as a sorted fixed-width byte array (UTF-8, NUL-padded) so that lookups are one ``np.searchsorted``,
vectorised for batches; the padding compresses to almost nothing in git.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["StringTable", "load_array", "save_array"]


def save_array(path: Path, array: np.ndarray) -> None:
    """Save one array as ``.npy`` (the only on-disk format of a pack besides the KenLM binary)."""
    np.save(path, np.ascontiguousarray(array), allow_pickle=False)


def load_array(path: Path) -> np.ndarray:
    """Memory-map one ``.npy`` array read-only.

    Returned as a plain ndarray view of the mapping: the same shared pages, but element access skips
    ``np.memmap.__getitem__``, which cost a third of a cold check's time in per-item lookups.
    """
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))


class StringTable:
    """A sorted table of distinct UTF-8 strings; maps a string to its row (or -1)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys
        self.width = keys.dtype.itemsize

    @staticmethod
    def build(strings: Iterable[str], max_bytes: int = 64) -> tuple[np.ndarray, list[str]]:
        """Sorted fixed-width array of the distinct strings that fit ``max_bytes``, and those strings.

        Sorting is by UTF-8 bytes, the order ``np.searchsorted`` uses on ``S`` arrays.
        """
        enc = sorted({s.encode("utf-8") for s in strings if s and len(s.encode("utf-8")) <= max_bytes})
        # A NUL would be lost to the padding; such strings cannot be looked up, so they are dropped.
        enc = [b for b in enc if b"\x00" not in b]
        width = max((len(b) for b in enc), default=1)
        arr = np.array(enc, dtype=f"S{width}") if enc else np.zeros(0, dtype="S1")
        return arr, [b.decode("utf-8") for b in enc]

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, s: str) -> int:
        """Row of ``s``, or -1."""
        b = s.encode("utf-8")
        if not b or len(b) > self.width or len(self.keys) == 0:
            return -1
        i = int(np.searchsorted(self.keys, b))
        if i < len(self.keys) and self.keys[i] == b:
            return i
        return -1

    def find_many(self, strings: Sequence[str]) -> np.ndarray:
        """Rows of many strings at once (-1 where absent), in one vectorised search."""
        if not len(strings) or len(self.keys) == 0:
            return np.full(len(strings), -1, dtype=np.int64)
        enc = [s.encode("utf-8") for s in strings]
        q = np.array([b if len(b) <= self.width else b"" for b in enc], dtype=f"S{self.width}")
        idx = np.searchsorted(self.keys, q)
        idx_c = np.minimum(idx, len(self.keys) - 1)
        ok = (self.keys[idx_c] == q) & (q != b"")
        return np.where(ok, idx_c, -1).astype(np.int64)

    def string(self, row: int) -> str:
        """The string at ``row``."""
        return bytes(self.keys[row]).decode("utf-8")

    def strings(self, rows: np.ndarray) -> list[str]:
        """The strings at many rows (one gather; NUL padding dropped as in `string`)."""
        return [b.decode("utf-8") for b in self.keys[np.asarray(rows, dtype=np.int64)].tolist()]
