"""Restoration from a traced source: where a copy aligns with its confident source, the source's words.

For a publisher the source of a spun copy is usually their own article, and then no guess is needed:
each aligned sentence pair is compared word by word (difflib's matching blocks over word and number
tokens, case-insensitive), and every run of the copy's words that the source words differently
becomes a span whose ``original`` is the source's wording and whose ``why`` names the source.

The spans replace the engine's (``check``) inside aligned sentences, where the source is the better
witness, and leave the engine's spans elsewhere; ``restored`` is rebuilt from the merged spans.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from ..render.common import input_text
from ..repair import input_span
from ..report import Report, Span
from ..tokens import NUMBER, WORD, tokenize
from .align import Passage

__all__ = ["restore_from_source"]

# A differing run longer than this (on either side) is a rewrite, not a word swap: the source's
# wording still stands in ``passages``, but it is not offered as the copy's "original" word for word.
MAX_RUN = 4
SOURCE_CONFIDENCE = 0.99


def _words(text: str, lo: int, hi: int) -> list:
    return [t for t in tokenize(text, lo, hi) if t.kind in (WORD, NUMBER)]


def _norm(t) -> str:
    return t.text.lower().replace("’", "'")


def source_spans(copy: str, source: str, passages: list[Passage]) -> list[tuple[int, int, str]]:
    """(start, end, source wording) over ``copy`` for each differing run of the aligned sentence pairs."""
    out = []
    for p in passages:
        for (cs, ce), (ss, se) in p.pairs:
            cw, sw = _words(copy, cs, ce), _words(source, ss, se)
            sm = SequenceMatcher(None, [_norm(t) for t in cw], [_norm(t) for t in sw], autojunk=False)
            for op, i1, i2, j1, j2 in sm.get_opcodes():
                if op != "replace" or i2 - i1 > MAX_RUN or j2 - j1 > MAX_RUN:
                    continue
                out.append((cw[i1].start, cw[i2 - 1].end, source[sw[j1].start : sw[j2 - 1].end]))
    return out


def _to_repaired(repairs, pos: int) -> int:
    """A position in the input mapped into the repaired text (the inverse of ``input_span``)."""
    shift = 0
    for r in repairs:
        if pos < r.start:
            break
        if pos < r.end:
            return r.start + shift
        shift += len(r.after) - (r.end - r.start)
    return pos + shift


def restore_from_source(report: Report, source_id: str, source: str, passages: list[Passage]) -> Report:
    """Put the source's wording into ``report``'s spans and restored text (see the module docstring)."""
    copy = report.repaired
    found = source_spans(copy, source, passages)
    covered = [pair[0] for p in passages for pair in p.pairs]
    repairs = report.repairs
    given = input_text(report)
    edits: list[tuple[int, int, str | None, Span]] = []
    for s, e, original in found:
        i, j = input_span(repairs, s, e)
        why = f"the copy's source {source_id} says “{original}” here"
        edits.append((s, e, original, Span(i, j, given[i:j], original, SOURCE_CONFIDENCE, why)))
    for span in report.spans:
        s, e = _to_repaired(repairs, span.start), _to_repaired(repairs, span.end)
        if any(cs < e and s < ce for cs, ce in covered):
            continue  # inside an aligned sentence: the source has spoken
        edits.append((s, e, span.original, span))
    edits.sort(key=lambda x: x[0])
    pieces, pos, spans = [], 0, []
    for s, e, original, span in edits:
        if s < pos:
            continue
        spans.append(span)
        if original is not None:
            pieces.append(copy[pos:s])
            pieces.append(original)
            pos = e
    pieces.append(copy[pos:])
    report.spans = spans
    report.restored = "".join(pieces)
    return report
