"""What every bench script shares: where the evaluation data is, and how results are printed.

Each script prints one JSON object on stdout (the figures) and a one-line summary on stderr.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UNSPIN_SHARED", REPO.parent / "shared"))
DEV = SHARED / "dev"


def require_shared() -> None:
    if not DEV.is_dir():
        sys.exit(f"bench: evaluation data not found at {DEV} (set UNSPIN_SHARED)")


def load_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_checkpoint(path: Path) -> Iterator[dict[str, Any]]:
    """The rows a resumable job has appended to ``path`` so far (none if it does not exist yet),
    skipping a last line cut by a kill."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def machine() -> dict[str, Any]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }


def emit(result: dict[str, Any], summary: str) -> None:
    result.setdefault("machine", machine())
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(summary, file=sys.stderr)
