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
import os
import re
import time
import zlib
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
    html: bytes | None = None  # a WARC page's body, turned into ``text`` by the worker (``html_text``)


# Every read is bounded before anything is decoded, so one hostile record (a gzip bomb expanding to
# gigabytes on one "line", a WARC record claiming a huge body) costs at most these bytes of memory and
# becomes an error row. A JSON line holding the longest text a report accepts (MAX_RECORD_CHARS
# characters, up to 4 bytes each in UTF-8, more when \u-escaped) fits in MAX_LINE_BYTES.
MAX_RECORD_CHARS = 2_000_000
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_WARC_BYTES = 8 * 1024 * 1024  # one WARC response body (Common Crawl truncates them at 1 MiB)
# The columns a Parquet row group holds for the fields read, uncompressed: pyarrow decodes a cell
# whole, so a row group above this (a Parquet "bomb", or one cell of gigabytes) is refused unread.
MAX_ROW_GROUP_BYTES = 1024 * 1024 * 1024
_SKIP = 1 << 20  # the piece size in which the rest of an oversize line is skipped


class _ZstdReader(io.RawIOBase):
    """A .zst stream (all its frames) with bounded memory that notices truncation.

    python-zstandard's ``stream_reader`` ends quietly at a frame cut short (the tail of a truncated file
    simply vanished) and stops after the first frame. This feeds the input in small pieces, so one
    piece cannot expand past ~32 MiB however it was crafted (a zstd block of 4 bytes can expand to
    128 KiB), and raises ``EOFError`` when the input ends inside a frame.
    """

    _PIECE = 1024

    def __init__(self, fh) -> None:
        import zstandard

        self._fh = fh
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._started = False  # bytes of the current frame were fed
        self._buf = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while self._pos >= len(self._buf):
            data = self._fh.read(self._PIECE)
            if not data:
                if self._started:
                    raise EOFError("the .zst input ends in the middle of a frame")
                return 0
            self._buf, self._pos = self._feed(data), 0
        n = min(len(b), len(self._buf) - self._pos)
        b[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n

    def _feed(self, data: bytes) -> bytes:
        out = []
        while data:
            self._started = True
            out.append(self._obj.decompress(data))
            if not self._obj.eof:
                break
            data = self._obj.unused_data  # the next frame starts here (concatenated or multi-frame files)
            self._obj = self._dctx.decompressobj()
            self._started = False
        return b"".join(out)

    def close(self) -> None:
        self._fh.close()
        super().close()


def _open_lines(path: Path):
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        return io.BufferedReader(_ZstdReader(path.open("rb")), buffer_size=1 << 16)
    return path.open("rb")


_Row = tuple[str | None, str | None, str | None, dict]


def _damaged(exc: BaseException) -> bool:
    """A read error that means the compressed input is cut short or corrupt (not a bug of ours)."""
    if isinstance(exc, (EOFError, OSError, zlib.error)):
        return True
    return type(exc).__name__ == "ZstdError"  # zstandard's, without importing it for plain inputs


def _jsonl(path: Path, text_field: str, id_field: str, keep: tuple[str, ...] = ()) -> Iterator[_Row]:
    with _open_lines(path) as fh:
        lineno = 0
        while True:
            try:
                raw = fh.readline(MAX_LINE_BYTES + 1)
                size = len(raw)
                while size > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    raw = fh.readline(_SKIP)  # the rest of an oversize line, dropped piece by piece
                    if not raw:
                        break
                    size += len(raw)
            except Exception as exc:  # a truncated or corrupt .gz/.zst: keep what was read, say so
                if not _damaged(exc):
                    raise
                raise _Incomplete(f"{path.name}:line-{lineno + 1}", f"input truncated or corrupt ({exc})") from None
            if not size:
                return
            lineno += 1
            fallback = f"{path.name}:line-{lineno}"
            if size > MAX_LINE_BYTES:
                yield fallback, None, f"record longer than {MAX_LINE_BYTES} bytes ({size} bytes); skipped", {}
                continue
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield fallback, None, "line is not valid UTF-8", {}
                continue
            except json.JSONDecodeError as exc:
                yield fallback, None, f"malformed JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})", {}
                continue
            except RecursionError:
                yield fallback, None, "malformed JSON (nested too deeply)", {}
                continue
            if not isinstance(rec, dict):
                yield fallback, None, "record is not a JSON object", {}
                continue
            yield _fields(rec, text_field, id_field, fallback, keep)


class _Incomplete(Exception):
    """An input that ends early or is damaged: its records so far are kept, and one error row says so."""

    def __init__(self, rid: str, reason: str) -> None:
        super().__init__(reason)
        self.rid, self.reason = rid, reason


def clean_str(value: str) -> str:
    """``value`` made encodable as UTF-8: a lone surrogate (valid in JSON, not in UTF-8) becomes its
    ``\\udXXX`` escape, so an id or a URL can always be written out and stored."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _id(value: Any, fallback: str) -> str:
    """A record id as text: ids are data, so whatever the input holds becomes a usable string."""
    if value is None:
        return fallback
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    elif isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return clean_str(str(value)) or fallback


def _surrogate(text: str) -> int | None:
    """The position of the first lone surrogate in ``text``, or None."""
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError as exc:
        return exc.start


def _fields(
    rec: dict, text_field: str, id_field: str, fallback: str, keep: tuple[str, ...] = ()
) -> tuple[str, str | None, str | None, dict]:
    rid = _id(rec.get(id_field), fallback)
    text = rec.get(text_field)
    if not isinstance(text, str):
        return rid, None, f"field {text_field!r} missing or not a string", {}
    bad = _surrogate(text)
    if bad is not None:
        return rid, None, f"text is not valid Unicode (unpaired surrogate at character {bad})", {}
    return rid, text, None, {k: clean_str(str(rec[k])) for k in keep if rec.get(k) is not None}


def _parquet(path: Path, text_field: str, id_field: str, keep: tuple[str, ...] = ()) -> Iterator[_Row]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    names = set(pf.schema_arrow.names)
    columns = [c for c in dict.fromkeys((id_field, text_field, *keep)) if c in names]
    wanted = {pf.schema_arrow.get_field_index(c) for c in columns}
    n = 0
    for g in range(pf.num_row_groups):
        group = pf.metadata.row_group(g)
        size = sum(group.column(i).total_uncompressed_size for i in range(group.num_columns) if i in wanted)
        if size > MAX_ROW_GROUP_BYTES:  # decoding it would take that much memory at once
            for _ in range(group.num_rows):
                n += 1
                yield (f"{path.name}:row-{n}", None, f"Parquet row group {g} holds {size} bytes uncompressed, over "
                       f"the {MAX_ROW_GROUP_BYTES} limit; rewrite the file with smaller row groups", {})  # fmt: skip
            continue
        try:
            batches = pf.iter_batches(batch_size=256, row_groups=[g], columns=columns)
            for batch in batches:
                for rec in batch.to_pylist():
                    n += 1
                    yield _fields(rec, text_field, id_field, f"{path.name}:row-{n}", keep)
        except Exception as exc:  # a damaged page: the rows read so far are kept, the rest is reported
            if isinstance(exc, (GeneratorExit, KeyboardInterrupt)):
                raise
            raise _Incomplete(f"{path.name}:row-{n + 1}", f"input truncated or corrupt ({exc})") from None


class _Guarded:
    """A file object reduced to ``read`` and ``tell``, whose read error becomes an end of file.

    fastwarc reads ahead: an exception from the stream would lose the whole records already in its
    buffer. Ending the stream instead lets it hand those over; the error is kept for afterwards.
    """

    def __init__(self, fh) -> None:
        self._fh, self.tell = fh, fh.tell
        # read1: one read of the layer below, so an error cannot take data already decompressed with it
        self._read = getattr(fh, "read1", fh.read)
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            return self._read(size)
        except Exception as exc:
            if not _damaged(exc):
                raise
            self.error = exc
            return b""


def _warc(path: Path) -> Iterator[_Row]:
    """HTML (and plain-text) responses of a WARC file, keeping the record's URL and date.

    The body is read here, bounded by ``MAX_WARC_BYTES``; turning HTML into text is left to the
    workers (``html_text``), so a page that is slow to extract never holds up the reading.
    """
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    # .warc.gz through Python's gzip, which raises on a file cut short (fastwarc's own reader ends quietly);
    # handed over as a bare ``read``/``tell`` (fastwarc reads the file descriptor itself when it finds one).
    fh = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")
    with fh:
        n = 0
        stream = _Guarded(fh)
        try:
            for rec in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
                n += 1
                url = clean_str(rec.headers.get("WARC-Target-URI", ""))
                meta = {"url": url, "date": clean_str(rec.headers.get("WARC-Date", ""))}
                rid = clean_str(rec.headers.get("WARC-Record-ID", "")) or f"{path.name}:record-{n}"
                ctype = (rec.http_content_type or "").lower()
                length = rec.content_length
                if rec.headers.get("Content-Length") is None:  # a header cut short: what fastwarc made of it
                    raise _Incomplete(rid, f"input truncated or corrupt ({stream.error or 'a record without length'})")
                if rec.http_headers is not None and "html" not in ctype and "text" not in ctype:
                    if rec.reader.consume() < length:  # images, scripts, PDFs: not text to judge
                        raise _Incomplete(rid, f"input truncated (record {n} ends before its {length} bytes)")
                    continue
                if length > MAX_WARC_BYTES:
                    rec.reader.consume()
                    yield rid, None, f"WARC record of {length} bytes, over the {MAX_WARC_BYTES} limit; skipped", meta
                    continue
                body = rec.reader.read(MAX_WARC_BYTES + 1)
                if len(body) < length:
                    raise _Incomplete(rid, f"input truncated (record {n} ends before its {length} bytes)")
                yield rid, None, None, {**meta, HTML: body}
        except _Incomplete:
            raise
        except Exception as exc:  # fastwarc: OSError "Invalid WARC header"
            if not _damaged(exc):
                raise
            what = "not a WARC file" if n == 0 and stream.error is None else "input truncated or corrupt"
            raise _Incomplete(f"{path.name}:record-{n + 1}", f"{what} ({stream.error or exc})") from None
        if stream.error is not None:
            raise _Incomplete(f"{path.name}:record-{n + 1}", f"input truncated or corrupt ({stream.error})")


HTML = "\0html"  # meta key carrying a WARC page's raw body to the worker that extracts its text
MAX_HTML_DEPTH = 2000  # estimated element nesting from which a page is extracted under a time budget
HTML_SECONDS = 10.0  # that time budget


def html_text(body: bytes) -> tuple[str | None, str | None]:
    """(main text, None) of an HTML page, or (None, why not).

    resiliparse's parser and main-content extraction take time quadratic in the nesting depth (40,000
    nested ``<div>``s: 40 s). A page whose tags suggest deep nesting is extracted in a forked child
    with a ``HTML_SECONDS`` budget; every other page (nearly all) in-process, at no extra cost.
    """
    try:
        if _nesting(body) <= MAX_HTML_DEPTH or not hasattr(os, "fork"):
            text = _extract(body)
        else:
            text = _extract_with_budget(body, HTML_SECONDS)
            if text is None:
                return None, f"HTML extraction over the {HTML_SECONDS:.0f} s budget (nested too deeply); skipped"
    except Exception as exc:  # a damaged page must not end the run
        return None, f"unreadable WARC record ({exc})"
    if not text.strip():
        return None, "no main text in the page"
    return text, None


def _extract(body: bytes) -> str:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return extract_plain_text(bytes_to_str(body, detect_encoding(body)), main_content=True)


_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
_VOID = {b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"source",
         b"track", b"wbr", b"p", b"li", b"td", b"tr", b"th", b"option", b"b", b"i", b"u", b"a", b"font"}  # fmt: skip


def _nesting(body: bytes) -> int:
    """The deepest nesting the page's tags suggest: opens minus closes, over the tags that nest
    (void elements, and those an HTML parser closes by itself or caps, do not count)."""
    depth = best = 0
    for m in _TAG.finditer(body):
        if m.group(2).lower() in _VOID:
            continue
        depth += -1 if m.group(1) else 1
        best = max(best, depth)
    return best


def _extract_with_budget(body: bytes, seconds: float) -> str | None:
    """``_extract`` in a forked child, killed after ``seconds``: the text, or None when over budget."""
    import select
    import signal

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: extract, send the text, leave without running any cleanup of the parent's
        try:
            os.close(r)
            data = _extract(body).encode("utf-8", "surrogatepass")
            view = memoryview(data)
            while view:
                view = view[os.write(w, view) :]
        finally:
            os._exit(0)
    os.close(w)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                return None
            data = os.read(r, 1 << 16)
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    return b"".join(chunks).decode("utf-8", "surrogatepass")


def check_inputs(paths: list[str]) -> None:
    """Raise :class:`InputError` for an input that is missing or not a regular file."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            raise InputError(f"{p}: is a directory, not an input file")
        if not path.exists():
            raise InputError(f"{p}: no such file")
        if not path.is_file():
            raise InputError(f"{p}: not a regular file")


def read_records(paths: list[str], text_field: str, id_field: str, keep: tuple[str, ...] = ()) -> Iterator[Record]:
    """All records of all inputs, in order, each with its global index.

    ``keep`` names fields of JSONL/Parquet records copied into ``Record.meta`` when present (the
    trace index keeps a reference's url, title and date; WARC records always carry url and date).
    An input that is cut short or damaged keeps the records read before the damage and ends with
    one error record whose ``meta`` has ``incomplete: True``.
    """
    check_inputs(paths)
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
        try:
            for rid, text, error, meta in stream:
                html = meta.pop(HTML, None)
                yield Record(index, rid or f"record-{index}", text, error, meta, html)
                index += 1
        except _Incomplete as bad:
            yield Record(index, bad.rid, None, bad.reason, {"incomplete": True})
            index += 1
