"""What every renderer shares: the input text a report indexes, and the confidence bands."""

from __future__ import annotations

from ..report import Report


def confidence_level(confidence: float) -> str:
    """Three bands shared by every renderer, so a span looks equally sure in a terminal and a page."""
    if confidence >= 0.95:
        return "high"
    if confidence >= 0.8:
        return "medium"
    return "low"


def input_text(report: Report) -> str:
    """The input the report's offsets index: the repaired text with the repairs undone."""
    parts, pos = [], 0
    shift = 0
    for r in report.repairs:
        out_start = r.start + shift
        parts.append(report.repaired[pos:out_start])
        parts.append(r.before)
        pos = out_start + len(r.after)
        shift += len(r.after) - (r.end - r.start)
    parts.append(report.repaired[pos:])
    return "".join(parts)
