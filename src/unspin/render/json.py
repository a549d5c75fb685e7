"""The JSON face of a report: the contract other tools read (docs/ARCHITECTURE.md §3)."""

from __future__ import annotations

import json

from ..report import Report


def to_json(report: Report, indent: int | None = 2) -> str:
    """Report as JSON; non-ASCII stays readable rather than \\u-escaped."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=indent)
