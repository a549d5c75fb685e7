"""The terminal face of a report: the text with what changed marked.

Colour only when writing to a terminal; piped output is the plain text, byte for byte, so
``unspin repair page.txt > fixed.txt`` gives exactly the repaired text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.text import Text

from ..report import Repair, Report
from .common import confidence_level, input_text

_KIND_STYLE = {
    "entity": "bold green",
    "mojibake": "bold cyan",
    "template": "bold magenta",
    "invisible": "bold yellow",
    "homoglyph": "bold red",
}


def render_repaired(report: Report, out: TextIO, color: bool) -> None:
    """Write the repaired text; with colour, each repair's result is highlighted by kind."""
    if not color:
        out.write(report.repaired)
        return
    text = Text()
    repaired = report.repaired
    pos_in = pos_out = 0
    for r in report.repairs:  # walk input and output together: repairs are sorted, disjoint
        gap = r.start - pos_in
        text.append(repaired[pos_out : pos_out + gap])
        pos_out += gap
        text.append(r.after if r.after.strip() else "·", style=_KIND_STYLE.get(r.kind, "bold"))
        pos_out += len(r.after)
        pos_in = r.end
    text.append(repaired[pos_out:])
    Console(file=out, force_terminal=True, highlight=False, soft_wrap=True).print(text, end="")


def repair_summary(repairs: Iterable[Repair]) -> str:
    """One line: how many repairs of each kind."""
    counts = Counter(r.kind for r in repairs)
    if not counts:
        return "repairs: none needed"
    return "repairs: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


_LEVEL_STYLE = {"high": "bold white on red", "medium": "black on dark_orange", "low": "black on yellow"}


def _confidence_style(confidence: float) -> str:
    return _LEVEL_STYLE[confidence_level(confidence)]


def render_check(report: Report, out: TextIO, color: bool) -> None:
    """A verdict line, the text with each flagged span marked "[spun → original]", and the spans.

    Without colour the marks are plain brackets, so the output still reads in a log file.
    """
    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False, soft_wrap=True)
    score = "n/a" if report.score is None else f"{report.score:.2f}"
    words = report.stats.get("words", 0)
    flagged = report.stats.get("flagged_words", 0)
    head = Text()
    head.append(f"{(report.verdict or '?').upper()}", style="bold red" if report.spun else "bold green")
    head.append(f"  score {score} · {len(report.spans)} spans · {flagged}/{words} words flagged", style="dim")
    console.print(head)
    text = Text()
    # Spans index the input; show them over the input text so offsets stay honest.
    original_text = input_text(report)
    pos = 0
    for s in report.spans:
        text.append(original_text[pos : s.start])
        listed = s.source == "list"  # a phrase list's match: marked as such, in its own colour
        text.append(s.text, style="bold blue" if listed else _confidence_style(s.confidence))
        arrow = (f" → {s.original}" if s.original else " → ?") + (" · listed" if listed else "")
        text.append(f"[{arrow.strip()}]" if not color else arrow, style="bold" if color else "")
        pos = s.end
    text.append(original_text[pos:])
    console.print(text, end="" if original_text.endswith("\n") else "\n")


_FACT_STYLE = {"altered": "bold yellow", "missing": "bold red", "added": "bold cyan"}


def _marked(text: str, lo: int, hi: int, marks: list[tuple[int, int, str]]) -> Text:
    """``text[lo:hi]`` with the ``(start, end, style)`` marks that fall inside it."""
    out = Text()
    pos = lo
    for s, e, style in sorted(m for m in marks if lo <= m[0] and m[1] <= hi):
        if s < pos:
            continue
        out.append(text[pos:s])
        out.append(text[s:e], style=style)
        pos = e
    out.append(text[pos:hi])
    return out


def render_trace(report: Report, out: TextIO, color: bool) -> None:
    """Each candidate source, then its passages side by side (copy | source) with changed facts
    marked, then the list of changed facts. Plain text when not on a terminal."""
    from rich.table import Table

    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False, soft_wrap=not color)
    copy = input_text(report)
    if not report.trace:
        console.print("no source found in the index", style="bold")
        return
    for rank, src in enumerate(report.trace, 1):
        head = Text()
        head.append(f"#{rank} {src['id']}", style="bold")
        head.append(f"  score {src['score']:.2f} · {len(src['passages'])} passages", style="dim")
        for key in ("title", "url", "date"):
            if src.get(key):
                head.append(f" · {src[key]}", style="dim")
        console.print(head)
        facts = src["changed_facts"]
        copy_marks = [(f["copy_start"], f["copy_end"], _FACT_STYLE[f["change"]]) for f in facts if f["copy"]]
        if rank > 1:
            continue  # the runners-up: a line each is enough
        table = Table(show_header=True, header_style="bold", expand=True, show_lines=True)
        table.add_column("copy", ratio=1)
        table.add_column(f"source {src['id']}", ratio=1)
        for p in src["passages"]:
            base = p["source_start"]
            source_marks = [
                (f["source_start"] - base, f["source_end"] - base, _FACT_STYLE[f["change"]])
                for f in facts
                if f["source"] and base <= f["source_start"] < p["source_end"]
            ]
            table.add_row(
                _marked(copy, p["copy_start"], p["copy_end"], copy_marks),
                _marked(p["source_text"], 0, len(p["source_text"]), source_marks),
            )
        console.print(table)
        if facts:
            console.print(Text("changed facts", style="bold"))
            for f in facts:
                line = Text(f"  {f['change']:8} {f['kind']:7} ")
                line.append(str(f["source"]) if f["source"] else "—", style="dim")
                line.append("  →  ")
                line.append(str(f["copy"]) if f["copy"] else "—", style=_FACT_STYLE[f["change"]])
                console.print(line)
