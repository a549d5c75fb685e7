"""Reading records for batch runs: JSONL (plain, .gz, .zst), Parquet and WARC, as one stream.

Every input record gets a global index (its position across all inputs, in order), which is what
makes a run resumable: the same command over the same inputs numbers the records the same way, so a
rerun knows exactly which ones are already in committed output parts. A record that cannot be read
(malformed JSON, invalid UTF-8, no text field) still gets its index and comes out as an error row.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..textio import InputError


@dataclass(slots=True)
class Record:
    """One input record: its text, or why there is none."""

    index: int
    id: str
    text: str | None = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _open_lines(path: Path):
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(path.open("rb")))
    return path.open("rb")


_Row = tuple[str | None, str | None, str | None, dict]


def _jsonl(path: Path, text_field: str, id_field: str, keep: tuple[str, ...] = ()) -> Iterator[_Row]:
    with _open_lines(path) as fh:
        lineno = 0
        while True:
            try:
                raw = fh.readline()
            except (EOFError, OSError) as exc:  # a truncated .gz/.zst: keep what was read, say so
                yield f"{path.name}:line-{lineno + 1}", None, f"input truncated or corrupt ({exc})", {}
                return
            if not raw:
                return
            lineno += 1
            if not raw.strip():
                continue
            fallback = f"{path.name}:line-{lineno}"
            try:
                rec = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield fallback, None, "line is not valid UTF-8", {}
                continue
            except json.JSONDecodeError as exc:
                yield fallback, None, f"malformed JSON ({exc.msg} at column {exc.colno})", {}
                continue
            if not isinstance(rec, dict):
                yield fallback, None, "record is not a JSON object", {}
                continue
            yield _fields(rec, text_field, id_field, fallback, keep)


def _fields(
    rec: dict, text_field: str, id_field: str, fallback: str, keep: tuple[str, ...] = ()
) -> tuple[str, str | None, str | None, dict]:
    rid = rec.get(id_field)
    rid = fallback if rid is None else str(rid)
    text = rec.get(text_field)
    if not isinstance(text, str):
        return rid, None, f"field {text_field!r} missing or not a string", {}
    return rid, text, None, {k: str(rec[k]) for k in keep if rec.get(k) is not None}


def _parquet(path: Path, text_field: str, id_field: str, keep: tuple[str, ...] = ()) -> Iterator[_Row]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    n = 0
    for batch in pf.iter_batches(batch_size=1024):
        for rec in batch.to_pylist():
            n += 1
            yield _fields(rec, text_field, id_field, f"{path.name}:row-{n}", keep)


def _warc(path: Path) -> Iterator[tuple[str | None, str | None, str | None, dict]]:
    """HTML responses of a WARC file → main text (resiliparse), keeping the record's URL and date."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    with path.open("rb") as fh:
        n = 0
        for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
            n += 1
            url = rec.headers.get("WARC-Target-URI", "")
            meta = {"url": url, "date": rec.headers.get("WARC-Date", "")}
            rid = rec.headers.get("WARC-Record-ID", "") or f"{path.name}:record-{n}"
            ctype = (rec.http_content_type or "").lower()
            if rec.http_headers is not None and "html" not in ctype and "text" not in ctype:
                continue  # images, scripts, PDFs: not text to judge
            try:
                body = rec.reader.read()
                html = bytes_to_str(body, detect_encoding(body))
                text = extract_plain_text(html, main_content=True)
            except Exception as exc:  # a damaged record must not end the run
                yield rid, None, f"unreadable WARC record ({exc})", meta
                continue
            if not text.strip():
                yield rid, None, "no main text in the page", meta
                continue
            yield rid, text, None, meta


def read_records(paths: list[str], text_field: str, id_field: str, keep: tuple[str, ...] = ()) -> Iterator[Record]:
    """All records of all inputs, in order, each with its global index.

    ``keep`` names fields of JSONL/Parquet records copied into ``Record.meta`` when present (the
    trace index keeps a reference's url, title and date; WARC records always carry url and date).
    """
    for p in paths:
        if not Path(p).is_file():
            raise InputError(f"{p}: no such file")
    index = 0
    for p in paths:
        path = Path(p)
        name = path.name.lower()
        if name.endswith(".parquet"):
            stream = _parquet(path, text_field, id_field, keep)
        elif name.endswith((".warc", ".warc.gz")):
            stream = _warc(path)
        else:
            stream = _jsonl(path, text_field, id_field, keep)
        for rid, text, error, meta in stream:
            yield Record(index, rid or f"record-{index}", text, error, meta)
            index += 1
