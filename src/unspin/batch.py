"""Batch: one report per input record, and an error row (never a crash) for a bad record.

This is the single-process version; records are read as a stream, so memory stays bounded whatever
the input size.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .decode import check
from .textio import InputError

MAX_RECORD_CHARS = 2_000_000


def _records(path: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, record or None, error or None) for every line of a JSONL file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield lineno, None, "line is not valid UTF-8"
                continue
            except json.JSONDecodeError as exc:
                yield lineno, None, f"malformed JSON ({exc.msg} at column {exc.colno})"
                continue
            if not isinstance(record, dict):
                yield lineno, None, "record is not a JSON object"
                continue
            yield lineno, record, None


def report_row(record: dict[str, Any], lineno: int, text_field: str, id_field: str, fast: bool, pack) -> dict:
    """The output row for one record: its report, or an error row saying why there is none."""
    rid = record.get(id_field, f"line-{lineno}")
    text = record.get(text_field)
    if not isinstance(text, str):
        return {"version": 1, "id": rid, "error": f"field {text_field!r} missing or not a string"}
    if len(text) > MAX_RECORD_CHARS:
        return {"version": 1, "id": rid, "error": f"text longer than {MAX_RECORD_CHARS} characters"}
    if not text.strip():
        return {"version": 1, "id": rid, "error": "empty text"}
    report = check(text, pack, fast=fast)
    report.id = rid
    return report.to_dict()


def run_batch(inputs: list[str], output: str, text_field: str, id_field: str, fast: bool, pack) -> str:
    """Check every record of ``inputs`` into the JSONL file ``output``; returns a summary line."""
    t0 = time.perf_counter()
    docs = spun = errors = 0
    with open(output, "w", encoding="utf-8") as out:
        for path in inputs:
            for lineno, record, error in _records(path):
                if record is None:
                    row = {"version": 1, "id": f"{Path(path).name}:line-{lineno}", "error": error}
                else:
                    row = report_row(record, lineno, text_field, id_field, fast, pack)
                docs += 1
                errors += "error" in row
                spun += bool(row.get("spun"))
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elapsed = time.perf_counter() - t0
    return f"unspin batch: {docs} documents, {spun} spun, {errors} errors, {elapsed:.1f} s"
