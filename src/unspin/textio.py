"""Reading what the user hands us: a file or stdin, as text, or one clear error.

Bad input is the normal case for a tool pointed at the web. Binary files, invalid UTF-8, empty files
and oversized files each get one line that says what is wrong and what to do; never a traceback.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["MAX_INPUT_BYTES", "InputError", "decode", "max_input_bytes", "read_text", "stream_text"]

# Whole-document commands (check, restore, repair --json) hold the text and its report in memory and
# index offsets into it; beyond this size use `unspin batch`, which streams records. Plain
# `unspin repair` streams and has no limit.
MAX_INPUT_BYTES = 32 * 1024 * 1024  # the default; UNSPIN_MAX_BYTES sets another (``max_input_bytes``)
_SNIFF = 8192
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def max_input_bytes() -> int:
    """The size limit for one document: ``UNSPIN_MAX_BYTES`` (a whole number of bytes) or 32 MiB."""
    raw = os.environ.get("UNSPIN_MAX_BYTES", "").strip()
    if not raw:
        return MAX_INPUT_BYTES
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise InputError(f"UNSPIN_MAX_BYTES must be a positive whole number of bytes (got {raw!r}), e.g. 33554432")
    return value


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n} bytes"


class InputError(Exception):
    """Input we cannot or will not process; the message is shown to the user as it is."""


def _name(source: str) -> str:
    return "standard input" if source == "-" else source


def _open(source: str) -> BinaryIO:
    if source == "-":
        return sys.stdin.buffer
    path = Path(source)
    if path.is_dir():
        raise InputError(f"{source}: is a directory, not a text file")
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except PermissionError:
        raise InputError(f"{source}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot open ({exc.strerror or exc})") from None


def _check_not_binary(head: bytes, name: str) -> None:
    if b"\x00" in head:
        raise InputError(f"{name}: looks like a binary file (it contains NUL bytes); give unspin text")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if head and controls / len(head) > 0.1:
        raise InputError(f"{name}: looks like a binary file (many control bytes); give unspin text")


def decode(data: bytes, name: str = "input", warn=None) -> str:
    """UTF-8 text from bytes; invalid bytes become U+FFFD with one warning, never an exception.

    UTF-16 with a byte-order mark (what Windows tools write as "Unicode") is decoded too: the mark
    names the encoding without ambiguity."""
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        bad = text.count("\ufffd") - data.decode("utf-8-sig", errors="ignore").count("\ufffd")
        if warn is not None:
            warn(
                f"{name}: not valid UTF-8 (first bad byte at offset {exc.start}); "
                f"{bad} invalid sequence(s) replaced by U+FFFD"
            )
        return text


def read_text(source: str, max_bytes: int | None = None, warn=None) -> str:
    """The whole input as text, for commands that need all of it at once."""
    name = _name(source)
    max_bytes = max_input_bytes() if max_bytes is None else max_bytes
    fh = _open(source)
    try:
        head = fh.read(_SNIFF)
        if not head.startswith(_UTF16_BOMS):
            _check_not_binary(head, name)  # first: /dev/zero is binary, not "too large"
        data = head + fh.read(max(0, max_bytes + 1 - len(head)))
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
    if len(data) > max_bytes:
        raise InputError(
            f"{name}: larger than the {_size(max_bytes)} limit for one document; "
            "split it, or use `unspin batch` for collections (set UNSPIN_MAX_BYTES to raise the limit)"
        )
    text = decode(data, name, warn)
    if not text.strip():
        raise InputError(f"{name}: is empty; there is no text to examine")
    return text


def stream_text(source: str, chunk_bytes: int = 1 << 20, warn=None) -> Iterator[str]:
    """The input as text chunks that end at line breaks, for line-local stages of any size.

    Raises :class:`InputError` before yielding anything for a missing, binary or empty input, so
    nothing half-written reaches stdout for input we reject outright.
    """
    name = _name(source)
    fh = _open(source)
    try:
        first = fh.read(chunk_bytes)
        encoding = "utf-16" if first.startswith(_UTF16_BOMS) else "utf-8"
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        if encoding == "utf-8":
            _check_not_binary(first[:_SNIFF], name)
        if not first.strip() or not first.strip(b"\x00\r\n\t \xff\xfe"):
            raise InputError(f"{name}: is empty; there is no text to examine")
        if first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8) :]
        pending = ""
        offset = 0
        warned = False
        block = first
        while block:
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                # The strict decoder still holds the start of a character the last block cut in two
                # ("ab\xc3" + "\xa9..."): hand those bytes on, or a valid character is lost with them.
                held = decoder.getstate()[0]
                if not warned and warn is not None:
                    warn(
                        f"{name}: not valid UTF-8 (first bad byte at offset {offset - len(held) + exc.start}); "
                        "invalid sequences replaced by U+FFFD"
                    )
                    warned = True
                decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
                text = decoder.decode(held + block)
            offset += len(block)
            pending += text
            cut = pending.rfind("\n")
            if cut >= 0:
                yield pending[: cut + 1]
                pending = pending[cut + 1 :]
            block = fh.read(chunk_bytes)
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def require_text(text: object, unicode: bool = True) -> None:
    """The Python API's door: ``text`` must be a ``str`` (and, with ``unicode``, encodable: no lone
    surrogate, which the language model cannot take). Raises a clear ``TypeError``/``ValueError``."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise TypeError("text must be str, not bytes: decode it first, e.g. data.decode('utf-8', errors='replace')")
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if unicode:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"text is not valid Unicode: unpaired surrogate code point at index {exc.start}") from None


def require_threshold(threshold: object) -> None:
    """``threshold`` must be None or a number in [0, 1] (NaN would make every text clean)."""
    if threshold is None:
        return
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"threshold must be a number in [0, 1] or None, not {type(threshold).__name__}")
    if not 0.0 <= threshold <= 1.0:  # False for NaN too
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
