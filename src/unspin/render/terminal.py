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
