"""The HTML face of a report: the input split into segments, and a standalone page for people.

Offsets in a report are Python ``str`` indices (code points). Browsers index strings in UTF-16 code
units, so an emoji before a span would shift every highlight after it. Rather than make every client
convert offsets, :func:`segments` cuts the input into consecutive pieces (plain text, repaired damage,
flagged spans) that a client only has to concatenate: no offsets cross the wire to the page at all.

:func:`to_html` writes one self-contained file (inline CSS, no script, no external resource) that an
editor can attach to an e-mail or archive; every piece of text in it is escaped, since it is untrusted
web text by definition.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..report import Repair, Report, Span
from .common import confidence_level, input_text

__all__ = ["confidence_level", "segments", "to_html"]


def _pieces(text: str, base: int, end: int, repairs: Sequence[Repair], index: dict[int, int]) -> list[dict[str, Any]]:
    """Plain and repaired pieces of ``text[base:end]``; a repair straddling the border stays plain."""
    out: list[dict[str, Any]] = []
    pos = base
    for r in repairs:
        if r.start < pos or r.end > end or r.start >= end:
            continue
        if r.start > pos:
            out.append({"kind": "text", "text": text[pos : r.start]})
        out.append(
            {"kind": "repair", "text": text[r.start : r.end], "after": r.after, "repair": r.kind, "index": index[id(r)]}
        )
        pos = r.end
    if pos < end:
        out.append({"kind": "text", "text": text[pos:end]})
    return out


def segments(report: Report, text: str | None = None) -> list[dict[str, Any]]:
    """The input as consecutive segments; joining every segment's ``text`` gives the input back.

    ``{"kind": "text"}`` is untouched input, ``{"kind": "repair"}`` is damage that repair fixed (with
    ``after`` and the repair ``kind`` as ``repair``), ``{"kind": "span"}`` is a flagged span (``index``
    into ``spans``, ``original``, ``confidence``, ``level``, ``why``) whose ``parts`` are its own text
    and repair pieces, so a restored view can keep a rejected span's repairs.
    """
    text = input_text(report) if text is None else text
    index = {id(r): i for i, r in enumerate(report.repairs)}
    repairs = sorted(report.repairs, key=lambda r: r.start)
    spans: list[tuple[int, Span]] = sorted(enumerate(report.spans), key=lambda p: p[1].start)
    out: list[dict[str, Any]] = []
    pos = 0
    for i, s in spans:
        start, end = max(s.start, pos), min(s.end, len(text))
        if start >= end:  # overlapping or out-of-range span: nothing left of it to show
            continue
        out.extend(_pieces(text, pos, start, repairs, index))
        out.append(
            {
                "kind": "span",
                "text": text[start:end],
                "index": i,
                "original": s.original,
                "confidence": s.confidence,
                "level": confidence_level(s.confidence),
                "why": s.why,
                "parts": _pieces(text, start, end, repairs, index),
            }
        )
        if s.source is not None:
            out[-1]["source"] = s.source
        pos = end
    out.extend(_pieces(text, pos, len(text), repairs, index))
    return out


_STYLE = """
body{font:16px/1.6 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid #ccc;border-radius:6px;padding:1rem}
mark{border-radius:3px;padding:0 .1em}mark.high{background:#f8b4b4}mark.medium{background:#fcd9a8}
mark.low{background:#fdf1b8}mark.rejected{background:none;text-decoration:underline dotted}
ins{background:#d7f5dd;text-decoration:none}del{color:#8a1c1c}
.orig{font-size:.8em;color:#114e1a;background:#e9f7ec;border-radius:3px;padding:0 .2em;margin-left:.15em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;
vertical-align:top}.meta{color:#555}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def to_html(report: Report, decisions: Sequence[str | None] = (), title: str = "unspin report") -> str:
    """A standalone HTML document: verdict, highlighted input, restored text, spans and repairs.

    ``decisions[i]`` is what a reader decided about span ``i`` ("accepted", "rejected" or None): the
    web page lets editors overrule the engine, and the file they download should say so.
    """
    decisions = [*decisions, *[None] * (len(report.spans) - len(decisions))]
    parts: list[str] = []
    for seg in segments(report):
        if seg["kind"] == "text":
            parts.append(_e(seg["text"]))
        elif seg["kind"] == "repair":
            parts.append(f'<del title="{_e(seg["repair"])}">{_e(seg["text"])}</del>')
        else:
            rejected = decisions[seg["index"]] == "rejected"
            cls = "rejected" if rejected else seg["level"]
            parts.append(f'<mark class="{cls}" title="{_e(seg["why"])}">{_e(seg["text"])}</mark>')
            if seg["original"] and not rejected:
                parts.append(f'<span class="orig">{_e(seg["original"])}</span>')
    verdict = report.verdict or ("repaired" if report.spun is None else ("spun" if report.spun else "clean"))
    score = "" if report.score is None else f" · score {report.score:.2f}"
    rows = "".join(
        f"<tr><td>{_e(s.text)}</td><td>{_e(s.original or '—')}</td><td>{s.confidence:.2f}</td>"
        f"<td>{_e(decisions[i] or '')}</td><td>{_e(s.why)}</td></tr>"
        for i, s in enumerate(report.spans)
    )
    fixes = "".join(
        f"<tr><td>{r.start}–{r.end}</td><td>{_e(r.kind)}</td><td><code>{_e(r.before)}</code></td>"
        f"<td><code>{_e(r.after)}</code></td></tr>"
        for r in report.repairs
    )
    restored = report.restored if report.restored is not None else report.repaired
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="meta"><strong>{_e(verdict.upper())}</strong>{_e(score)} · '
        f"{len(report.spans)} spans · {len(report.repairs)} repairs</p>"
        f'<h2>Text, with flagged spans</h2><div class="text">{"".join(parts)}</div>'
        f'<h2>Restored</h2><div class="text">{_e(restored)}</div>'
        "<h2>Spans</h2><table><tr><th>text</th><th>original</th><th>confidence</th><th>decision</th>"
        f"<th>why</th></tr>{rows}</table>"
        "<h2>Repairs</h2><table><tr><th>where</th><th>kind</th><th>before</th><th>after</th></tr>"
        f'{fixes}</table><p class="meta">Made by unspin.</p></body></html>\n'
    )
