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
        text.append(s.text, style=_confidence_style(s.confidence))
        arrow = f" → {s.original}" if s.original else " → ?"
        text.append(f"[{arrow.strip()}]" if not color else arrow, style="bold" if color else "")
        pos = s.end
    text.append(original_text[pos:])
    console.print(text, end="" if original_text.endswith("\n") else "\n")
