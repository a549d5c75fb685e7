"""Bounded per-pack memos.

The engine memoises answers that depend on a pack (a word's possible originals, its unigram cost, its
vector neighbours, trace's token forms). Each memo hangs on the object whose data it depends on
(``LanguagePack.memo``, ``Vocabulary.memo``), so one process can use two packs without one answering
for the other, and a memo dies with its pack. Each is bounded, so a long-running server that meets new
words forever does not grow forever.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

__all__ = ["BoundedMemo", "memo_for"]


class BoundedMemo(dict):
    """A dict that forgets its oldest entries (a quarter of ``limit`` at a time) when it holds ``limit``.

    Reads are plain ``dict`` reads (the hot path stays in C); only inserting a new key is checked. The
    entries it starts with (``initial``: a precomputed table) are kept for good, on top of ``limit``.
    Insert through ``memo[key] = value`` only: ``setdefault`` and ``update`` bypass the bound.
    """

    __slots__ = ("keep", "limit")

    def __init__(self, limit: int, initial: Mapping | None = None) -> None:
        super().__init__(initial or {})
        self.keep = len(self)  # the first `keep` entries (in insertion order) are never evicted
        self.limit = self.keep + max(1, limit)

    def __setitem__(self, key, value) -> None:
        if len(self) >= self.limit and key not in self:
            drop = max(1, (self.limit - self.keep) // 4)
            for old in list(islice(self, self.keep, self.keep + drop)):
                super().__delitem__(old)
        super().__setitem__(key, value)


def memo_for(owner: Any, name: str, factory: Callable[[], Any]) -> Any:
    """``owner.memo[name]``, made by ``factory()`` on first use (``owner``: a pack, or a pack's part)."""
    memos = owner.memo
    found = memos.get(name)
    if found is None:
        found = memos[name] = factory()
    return found
