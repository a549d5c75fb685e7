"""Reading input: streamed text equals the whole text read at once, whatever the chunk boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from unspin.textio import read_text, stream_text


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 7, 64])
@pytest.mark.parametrize(
    "data",
    [
        b"ab\xc3\xa9\xff cd\n",  # code review §3 item 3: a character cut by the boundary, then a bad byte
        b"x\xe2\x80\x99s \xff\xfe y\n\xf0\x9f\x98\x80 z\n",  # three- and four-byte characters around bad bytes
        b"ok \xc3\xa9t\xc3\xa9\nthen \xc3 broken\n\xc3\xa9 after\n",  # a truncated character mid-line
    ],
)
def test_streamed_text_equals_the_text_read_whole(tmp_path: Path, data: bytes, chunk: int) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    warnings: list[str] = []
    streamed = "".join(stream_text(str(path), chunk_bytes=chunk, warn=warnings.append))
    assert streamed == read_text(str(path))
    assert len(warnings) == 1 and "not valid UTF-8" in warnings[0]


def test_the_reported_offset_is_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"ab\xc3\xa9\xff cd\n")
    for chunk in (1, 3, 64):
        warnings: list[str] = []
        assert "".join(stream_text(str(path), chunk_bytes=chunk, warn=warnings.append)) == "abé\ufffd cd\n"
        assert "offset 4" in warnings[0], (chunk, warnings)
