"""Trace: find the source of a (spun) copy in a reference collection, align them, show changed facts.

    index = open_index("refs.idx")                  # or build_index([...], "refs.idx")
    report = trace(text, index)                     # a Report whose ``trace`` lists candidate sources
    report.trace[0]["passages"], report.trace[0]["changed_facts"]

Retrieval rests on what spinning leaves intact (``features``), storage on SQLite (``store``),
passage alignment on sentence overlap (``align``) and the fact comparison on ``facts``.
Offsets of the copy in a trace result index the input string, like every offset in a report.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..repair import input_span, repair_text
from ..report import Report
from .align import align
from .facts import changed_facts
from .features import Fingerprint
from .store import Candidate, IndexError_, Reference, TraceIndex, index_features

__all__ = [
    "IndexError_",
    "Reference",
    "Skipped",
    "TraceIndex",
    "add_references",
    "attach_trace",
    "open_index",
    "read_references",
    "trace",
]

DEFAULT_TOP = 3
REFERENCE_FIELDS = ("url", "title", "date")


def _pack(pack):
    from ..decode.engine import get_pack

    return get_pack(pack)


def open_index(directory: Path | str, pack=None, create: bool = False, shards: int | None = None):
    """Open (or with ``create``, create) the index in ``directory``: a ``TraceIndex``, or a
    ``ShardedIndex`` when the directory holds shards or ``shards`` asks for them."""
    from .shards import ShardedIndex, is_sharded

    if shards is not None or is_sharded(directory):
        return ShardedIndex(directory, _pack(pack), create=create, shards=shards)
    return TraceIndex(directory, _pack(pack), create=create)


# --- building --------------------------------------------------------------------------------------


@dataclass
class Skipped:
    """A reference record that could not be indexed, and why."""

    id: str
    reason: str


def read_references(paths: list[str], on_skip: Callable[[Skipped], None] | None = None) -> Iterator[Reference]:
    """References from JSONL (plain/.gz/.zst) or Parquet records ``{id, text, url?, title?, date?}``.

    A record without usable text is reported to ``on_skip`` and left out; it never stops a build.
    """
    from ..batch.sources import read_records

    for rec in read_records(paths, "text", "id", keep=REFERENCE_FIELDS):
        if rec.text is None or not rec.text.strip():
            if on_skip is not None:
                on_skip(Skipped(rec.id, rec.error or "empty text"))
            continue
        yield Reference(rec.id, rec.text, **{k: rec.meta.get(k) for k in REFERENCE_FIELDS})


_WORKER_VOCAB = None


def _init_worker(pack_path: str) -> None:
    global _WORKER_VOCAB
    from ..pack import load

    _WORKER_VOCAB = load(pack_path).vocab


def _fingerprints(texts: list[str]) -> list[tuple[Fingerprint, str]]:
    return [index_features(t, _WORKER_VOCAB) for t in texts]


def _parallel_fingerprints(
    refs: Iterable[Reference], pack, workers: int, chunk: int = 128
) -> Iterator[tuple[Reference, Fingerprint, str]]:
    """Fingerprints computed by ``workers`` processes, in input order, with a bounded window."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(str(pack.path),)) as pool:
        window: deque[tuple[list[Reference], Future]] = deque()
        batch: list[Reference] = []

        def drain(limit: int) -> Iterator[tuple[Reference, Fingerprint, str]]:
            while len(window) > limit:
                done, future = window.popleft()
                for ref, (fp, body) in zip(done, future.result(), strict=True):
                    yield ref, fp, body

        for ref in refs:
            batch.append(ref)
            if len(batch) >= chunk:
                window.append((batch, pool.submit(_fingerprints, [r.text for r in batch])))
                batch = []
                yield from drain(2 * workers)
        if batch:
            window.append((batch, pool.submit(_fingerprints, [r.text for r in batch])))
        yield from drain(0)


def add_references(
    index: TraceIndex,
    refs: Iterable[Reference],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add references to ``index`` (replacing any with the same id); returns how many were added.

    Fingerprinting runs on ``workers`` processes (default: all cores) and the writes (SQLite, then
    tantivy) in the calling one, one transaction per thousand references: a build killed mid-way
    keeps every committed batch, and rerunning it replaces rather than duplicates what was already in.
    """
    workers = workers or os.cpu_count() or 1

    def counted(pairs: Iterable[tuple[Reference, Fingerprint, str]]) -> Iterator[tuple[Reference, Fingerprint, str]]:
        for n, pair in enumerate(pairs, 1):
            if progress is not None and n % 1000 == 0:
                progress(1000)
            yield pair

    if workers > 1:
        pairs: Iterable[tuple[Reference, Fingerprint, str]] = _parallel_fingerprints(refs, index.pack, workers)
    else:
        pairs = ((r, *index_features(r.text, index.pack.vocab)) for r in refs)
    return index.add_fingerprinted(counted(pairs))


# --- querying --------------------------------------------------------------------------------------


def _source_result(index: TraceIndex, cand: Candidate, repaired: str, repairs) -> dict:
    """One trace item. Passages and changed facts only for a confident source: for the others the
    alignment would set a stranger's text beside the copy as if it were its source. A huge source is
    aligned only within a window around the copy's anchors (`align.source_window`)."""
    ref = index.source_of(cand)
    out = {"id": ref.id, "score": cand.score, "confidence": cand.confidence, "is_source": cand.is_source}
    out.update({k: v for k, v in (("url", ref.url), ("title", ref.title), ("date", ref.date)) if v})
    if not cand.is_source:
        out["passages"], out["changed_facts"] = [], []
        return out
    source = ref.text
    passages = cand.passages if cand.passages is not None else align(repaired, source)
    spans = [((p.copy_start, p.copy_end), (p.source_start, p.source_end)) for p in passages]
    facts = changed_facts(repaired, source, spans, index.pack.vocab)

    def to_input(s: int | None, e: int | None) -> tuple[int | None, int | None]:
        return (None, None) if s is None or e is None else input_span(repairs, s, e)

    for f in facts:
        f["copy_start"], f["copy_end"] = to_input(f["copy_start"], f["copy_end"])
    out["passages"] = [
        {
            "copy_start": cs,
            "copy_end": ce,
            "source_start": p.source_start,
            "source_end": p.source_end,
            "similarity": p.similarity,
            "source_text": source[p.source_start : p.source_end],
        }
        for p in passages
        for cs, ce in [input_span(repairs, p.copy_start, p.copy_end)]
    ]
    out["changed_facts"] = facts
    return out


def attach_trace(report: Report, index: TraceIndex, top: int = DEFAULT_TOP, restore: bool | None = None) -> Report:
    """Fill ``report.trace``: candidate sources of the report's text, best first (see docs/ARCHITECTURE.md §3).

    Every trace of a non-empty index lists candidates, each with a calibrated ``confidence``; only
    the first can be ``is_source`` (confident), and only it carries passages and changed facts.
    With ``restore`` (by default: when the report was checked, ``report.spun`` set), a confident
    source also restores the copy: its aligned word differences become spans whose ``original`` is
    the source's wording (``restore.py``), and ``report.restored`` follows them.
    """
    found = index.search(report.repaired, top=top)
    report.trace = [_source_result(index, c, report.repaired, report.repairs) for c in found]
    if restore is None:
        restore = report.spun is not None
    if restore and found and found[0].is_source and found[0].passages:
        from .restore import restore_from_source

        restore_from_source(report, found[0].id, index.source_of(found[0]).text, found[0].passages)
    return report


def trace(
    text: str, index: TraceIndex | Path | str, top: int = DEFAULT_TOP, pack=None, restore: bool = False
) -> Report:
    """Repair ``text`` and trace it in ``index``: a report with ``repairs`` and ``trace`` filled
    (and with ``restore``, spans and restored text from a confident source)."""
    if isinstance(index, (str, Path)):
        index = open_index(index, pack)
    repaired, repairs = repair_text(text)
    return attach_trace(Report(repaired=repaired, repairs=repairs), index, top, restore)
