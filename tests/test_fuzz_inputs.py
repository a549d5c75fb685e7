"""Property tests over hostile input (issue 16): repair, check, the batch readers and the HTTP API.

Bounded so the suite stays short (a few dozen examples each); ``bench/fuzz.py`` is the long run.
Properties: no exception but the documented ones, no record lost, every edit logged against the input.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspin.batch.sources import read_records
from unspin.pack import default_pack_path
from unspin.repair import repair_text
from unspin.textio import InputError

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
needs_pack = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)

# Text as the web hands it over: any code point (lone surrogates included), weighted towards the pieces
# the repair rules look for.
PIECES = st.sampled_from(
    ["Itâ€™s", "cafÃ©", "Ã\xad", "&amp;", "&#39;", "& # 39 ;", ",quot;", "%MINIFYHTML1a%", "{{ x }}", "\u200b",
     "\u00ad", "pаypal", "SENSЕ", "\ud800", "\x00", "\n", " ", "x" * 300, "10Î&frac14;s", "“", "😀"]
)  # fmt: skip
HOSTILE = st.lists(st.one_of(PIECES, st.text(max_size=20), st.characters()), max_size=15).map("".join)


@BOUNDED
@given(HOSTILE)
def test_repair_never_raises_and_logs_every_edit_against_the_input(text: str) -> None:
    repaired, repairs = repair_text(text)
    pieces, pos = [], 0
    for r in repairs:
        assert text[r.start : r.end] == r.before and r.start >= pos
        pieces += [text[pos : r.start], r.after]
        pos = r.end
    assert "".join(pieces) + text[pos:] == repaired


@needs_pack
@settings(max_examples=30, deadline=None)
@given(HOSTILE)
def test_check_answers_or_refuses_at_the_door(text: str) -> None:
    import unspin

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(ValueError, match="unpaired surrogate"):
            unspin.check(text, fast=True)
        return
    report = unspin.check(text, fast=True)
    assert report.verdict in ("spun", "clean", "too-short", "not-english", "not-prose")
    assert 0.0 <= report.score <= 1.0


# --- the batch readers ---------------------------------------------------------------------------------

IDS = st.one_of(st.text(max_size=10), st.integers(), st.none(), st.dictionaries(st.text(max_size=3), st.integers()))
RECORDS = st.lists(st.tuples(IDS, HOSTILE), min_size=1, max_size=5)


def _warc(texts: list[str]) -> bytes:
    out = []
    for n, t in enumerate(texts):
        html = t.encode("utf-8", "surrogatepass")
        body = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(html) + html
        out.append(
            b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%d>\r\nWARC-Target-URI: https://ex.test/\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % (n, len(body))
            + body + b"\r\n\r\n"
        )  # fmt: skip
    return b"".join(out)


def _file(kind: str, records: list[tuple[object, str]]) -> tuple[str, bytes]:
    lines = b"".join(json.dumps({"id": i, "text": t}).encode() + b"\n" for i, t in records)
    if kind == "jsonl":
        return "f.jsonl", lines
    if kind == "gz":
        return "f.jsonl.gz", gzip.compress(lines)
    if kind == "zst":
        return "f.jsonl.zst", zstandard.ZstdCompressor().compress(lines)
    if kind == "warc":
        return "f.warc", _warc([t for _, t in records])
    buf = io.BytesIO()
    safe = [t.encode("utf-8", "backslashreplace").decode() for _, t in records]
    pq.write_table(pa.table({"id": [json.dumps(i) for i, _ in records], "text": safe}), buf)
    return "f.parquet", buf.getvalue()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["jsonl", "gz", "zst", "warc", "parquet"]),
    records=RECORDS,
    damage=st.one_of(st.none(), st.tuples(st.sampled_from(["cut", "flip"]), st.floats(0, 1), st.integers(0, 255))),
)
def test_readers_never_raise_and_lose_no_record(tmp_path: Path, kind: str, records, damage) -> None:
    name, data = _file(kind, records)
    if damage is not None and data:
        how, where, byte = damage
        at = min(len(data) - 1, int(where * len(data)))
        data = data[:at] if how == "cut" else data[:at] + bytes([byte]) + data[at + 1 :]
    path = tmp_path / name
    path.write_bytes(data)
    try:
        got = list(read_records([str(path)], "text", "id"))
    except InputError:
        assert kind == "parquet" and damage is not None  # a damaged footer: the file is refused whole
        return
    for r in got:
        assert isinstance(r.id, str) and r.id
        r.id.encode("utf-8")  # ids are always writable
        assert (r.text is None) != (r.error is None) or r.html is not None
    if damage is None and kind != "warc":
        assert len(got) == len(records)
        for r, (_, text) in zip(got, records, strict=True):
            if kind == "parquet":  # written with its lone surrogates escaped: Parquet strings are UTF-8
                text = text.encode("utf-8", "backslashreplace").decode()
            assert r.text == text or r.error is not None
    if damage is not None and kind in ("gz", "zst") and got and got[-1].meta.get("incomplete"):
        assert "truncated or corrupt" in got[-1].error


# --- the HTTP API ---------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["text", "fast", "x"]), inner),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    from unspin.serve.app import ServeConfig

    from .serve_helpers import running, serve_pack_dir

    with running(ServeConfig(pack_dir=str(serve_pack_dir()), workers=1, timeout=120)) as base:
        yield base


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/v1/repair", "/v1/check"]),
    body=st.one_of(JSON, st.fixed_dictionaries({"text": HOSTILE})),
)
def test_api_answers_every_body_without_a_server_error(url: str, path: str, body: object) -> None:
    raw = json.dumps(body, ensure_ascii=True)  # lone surrogates travel as JSON escapes, as a client sends them
    r = httpx.post(url + path, content=raw, headers={"Content-Type": "application/json"}, timeout=120)
    assert r.status_code in (200, 400, 413, 422), r.text
    assert r.headers["content-type"].startswith("application/json")
    if r.status_code == 200:
        assert "repaired" in r.json()
    else:
        assert r.json()["error"]["status"] == r.status_code
