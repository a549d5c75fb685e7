"""Batch runs as a crawl-filtering user meets them: real processes, real files, SIGKILL and resume."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from unspin.pack import default_pack_path

from .conftest import EXAMPLE

pytestmark = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)

PARAGRAPHS = [p for p in EXAMPLE.read_text(encoding="utf-8").split("\n\n") if len(p.split()) > 8]


def records(n: int) -> list[dict]:
    """n distinct documents built from the example's paragraphs (distinct ids, varied texts)."""
    out = []
    for i in range(n):
        k = len(PARAGRAPHS)
        text = "\n\n".join(PARAGRAPHS[(i + j) % k] for j in range(1 + i % 3))
        out.append({"id": f"doc-{i:04d}", "text": f"Report number {i}. " + text})
    return out


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unspin", "batch", *args], capture_output=True, timeout=timeout)


def read_out(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_two_workers_give_the_same_reports_as_one(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_jsonl(src, records(70))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert run(str(src), str(one), "--workers", "1").returncode == 0
    p = run(str(src), str(two), "--workers", "2")
    assert p.returncode == 0, p.stderr
    assert read_out(one) == read_out(two)
    assert [r["id"] for r in read_out(two)] == [f"doc-{i:04d}" for i in range(70)]
    assert b"70 documents" in p.stderr
    assert not (tmp_path / "two.jsonl.parts").exists()


def test_sigkill_then_rerun_is_exactly_once_and_equal(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    rows = records(300)
    write_jsonl(src, rows)
    reference = tmp_path / "reference.jsonl"
    assert run(str(src), str(reference), "--workers", "2").returncode == 0

    out = tmp_path / "out.jsonl"
    parts = tmp_path / "out.jsonl.parts"
    proc = subprocess.Popen(
        [sys.executable, "-m", "unspin", "batch", str(src), str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(parts.glob("part-*.jsonl"))) < 3:
        time.sleep(0.05)
    import os

    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: workers too
    proc.wait()
    committed = len(list(parts.glob("part-*.jsonl")))
    assert committed >= 3 and not out.exists(), "killed mid-run, with some parts committed"

    p = run(str(src), str(out), "--workers", "2")
    assert p.returncode == 0, p.stderr
    assert b"already done" in p.stderr
    got = read_out(out)
    ids = [r["id"] for r in got]
    assert sorted(ids) == sorted(r["id"] for r in rows) and len(ids) == len(set(ids)), "every id exactly once"
    assert got == read_out(reference), "reports equal an uninterrupted run's"


def test_bad_records_become_error_rows(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    good = records(2)
    src.write_bytes(
        (json.dumps(good[0]) + "\n").encode()
        + b"{not json\n"
        + b'{"id": "u", "text": "bad \xff byte"}\n'
        + b'{"id": "m", "body": "no text"}\n'
        + b'{"id": "e", "text": "   "}\n'
        + b"[1, 2]\n"
        + (json.dumps(good[1]) + "\n").encode()
    )
    out = tmp_path / "out.jsonl"
    p = run(str(src), str(out), "--workers", "1")
    assert p.returncode == 0, p.stderr
    got = read_out(out)
    assert len(got) == 7
    assert [("error" in r) for r in got] == [False, True, True, True, True, True, False]
    assert got[1]["id"] == "in.jsonl:line-2" and "malformed JSON" in got[1]["error"]
    assert "UTF-8" in got[2]["error"] and "missing" in got[3]["error"] and got[4]["error"] == "empty text"


def test_compressed_parquet_and_warc_inputs_parquet_output(tmp_path: Path) -> None:
    rows = records(6)
    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows[:2])
    zst = tmp_path / "b.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress("".join(json.dumps(r) + "\n" for r in rows[2:4]).encode()))
    parquet = tmp_path / "c.parquet"
    pq.write_table(pa.Table.from_pylist(rows[4:6]), parquet)
    warc = tmp_path / "d.warc"
    warc.write_bytes(
        _warc_response("https://example.invalid/story", "<html><body><p>" + rows[0]["text"] + "</p></body></html>")
    )
    out = tmp_path / "out.parquet"
    p = run(str(gz), str(zst), str(parquet), str(warc), str(out), "--workers", "1", "--fast")
    assert p.returncode == 0, p.stderr
    table = pq.read_table(out).to_pylist()
    assert [r["id"] for r in table][:6] == [r["id"] for r in rows]
    assert len(table) == 7 and all(r["error"] is None for r in table)
    last = json.loads(table[6]["report"])
    assert last["url"] == "https://example.invalid/story" and last["stats"]["mode"] == "fast"


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records(40))
    data = gz.read_bytes()
    gz.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out.jsonl"
    p = run(str(gz), str(out), "--workers", "1", "--fast")
    assert p.returncode == 2, p.stderr  # the output is written, and the status says the input was not whole
    got = read_out(out)
    assert got[-1].get("error", "").startswith("input truncated") and got[-1]["incomplete"] is True
    assert 0 < len(got) - 1 < 40 and all("error" not in r for r in got[:-1])


def test_a_different_command_does_not_mix_with_old_parts(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_jsonl(src, records(3))
    out = tmp_path / "out.jsonl"
    parts = tmp_path / "out.jsonl.parts"
    parts.mkdir()
    (parts / "run.json").write_text(json.dumps({"inputs": ["elsewhere"]}), encoding="utf-8")
    p = run(str(src), str(out), "--workers", "1")
    assert p.returncode == 2 and b"different batch command" in p.stderr and p.stderr.count(b"\n") == 1


def _warc_response(url: str, html: str) -> bytes:
    body = html.encode("utf-8")
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:12345678-1234-1234-1234-123456789abc>\r\n"
        f"WARC-Date: 2024-03-14T10:00:00Z\r\nWARC-Target-URI: {url}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n"
    ).encode()
    return head + http + b"\r\n\r\n"


CLEAN_PAGE = (
    "The city library of Brannock will reopen on 4 May after a renovation that lasted two years. Architects "
    "kept the reading room's oak shelves and added a glass roof over the courtyard, which now holds a cafe and "
    "space for exhibitions. The project cost 12 million pounds, most of it paid by a grant from the Arts "
    "Council, and the rest by a public appeal that raised more than expected. Librarian Tomas Reyes said the "
    "children's section is now twice as large as before, with a story corner and a room for homework clubs."
)


def test_cascade_gives_the_full_checks_verdicts_and_is_part_of_the_run(tmp_path: Path) -> None:
    """--cascade: records the screen clears get its report, the others the full check's; the mode is a
    run setting, so a rerun without it does not mix the two."""
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [{"id": "spun", "text": EXAMPLE.read_text(encoding="utf-8")}, {"id": "clean", "text": CLEAN_PAGE}])
    full, cascaded = tmp_path / "full.jsonl", tmp_path / "cascade.jsonl"
    assert run(str(src), str(full), "--workers", "1").returncode == 0
    p = run(str(src), str(cascaded), "--workers", "1", "--cascade")
    assert p.returncode == 0, p.stderr
    by_id = {r["id"]: r for r in read_out(cascaded)}
    assert by_id["clean"]["stats"]["mode"] == "cascade-cleared" and by_id["clean"]["spun"] is False
    assert by_id["spun"]["stats"]["mode"] == "full" and by_id["spun"]["spans"]
    assert {r["id"]: r["spun"] for r in read_out(full)} == {k: r["spun"] for k, r in by_id.items()}
    assert by_id["spun"] == {r["id"]: r for r in read_out(full)}["spun"]
    # A run interrupted under one mode is not resumed under another.
    parts = tmp_path / "again.jsonl.parts"
    parts.mkdir()
    from unspin.batch import run_settings

    (parts / "run.json").write_text(json.dumps(run_settings([str(src)], cascade=True)), encoding="utf-8")
    p = run(str(src), str(tmp_path / "again.jsonl"), "--workers", "1")
    assert p.returncode == 2 and b"cascade" in p.stderr
