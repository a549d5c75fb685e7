"""A long fuzzing run: hostile text through repair, check and the batch readers; counts crashes.

Inputs are built from the pieces hostile web text is made of (mojibake, entities whole and mangled,
template tokens, invisible and look-alike characters, lone surrogates, control bytes, deep brackets,
code, huge words) mixed with random code points, so the run reaches the repair rules' corners far
more often than uniform noise would. Targets, in proportion:

* ``repair_text`` on every input: must not raise, its log must index the input and rebuild the output;
* ``check(fast=True)`` on every ``--check-every``-th input: must not raise (a lone surrogate must give
  the documented ValueError);
* the batch readers on every ``--reader-every``-th input: a JSONL, .gz, .zst, WARC or Parquet file of a
  few such records, whole or cut short or with flipped bytes; every record read or reported, never an
  exception (a damaged Parquet footer is the documented InputError).

Prints inputs tried per target, crashes (with the first few inputs that caused them, repr'd) and the
process's peak RSS.

    .venv/bin/python bench/fuzz.py --count 1000000 --seed 1
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

PIECES = [
    "Itâ€™s", "cafÃ©", "Ã\xad", "Ã", "â€œ", "â€", "Ã¢â‚¬â„¢", "10Î&frac14;s", "&amp;", "&#39;", "& # 39 ;",
    "&amp;#39;", ",quot;", "quot;", "&nbsp", "&#x1F600;", "&#0;", "&#99999999;", "&", "#", ";",
    "%MINIFYHTML1a%", "%%NAME%%", "{{ x }}", "{% if %}", "[[x]]", "\u200b", "\u00ad", "\u200d", "\ufeff",
    "\u202e", "а", "о", "Е", "SENSЕ", "pаypal", "\ud800", "\udc00", "\x00", "\x1b[31m", "\r\n", "\n\n",
    "\t", " ", "(", ")" * 50, "[" * 200, "'", '"', "“", "”", "\u0301" * 30, "x" * 5000, "The ", "river ",
    "burst ", "its banks ", "in 1987. ", "def f(x):\n    return x;\n", "#include <stdio.h>\n", "<div>",
    "</p>", "😀", "\U0010ffff", "\ufffd", "ǅ", "ß", "İ", "ﬁ", "١٢٣", "中文", "한국어",
]  # fmt: skip


def make_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        if r < 0.7:
            parts.append(rng.choice(PIECES))
        elif r < 0.9:
            parts.append("".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 8))))
        else:
            parts.append("".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 4))))
    return "".join(parts)


def check_repair(text: str) -> None:
    from unspin.repair import repair_text

    out, log = repair_text(text)
    pieces, pos = [], 0
    for r in log:
        assert text[r.start : r.end] == r.before, "a repair's before is not the input's text there"
        assert r.start >= pos, "repairs overlap or are out of order"
        pieces += [text[pos : r.start], r.after]
        pos = r.end
    pieces.append(text[pos:])
    assert "".join(pieces) == out, "the log does not rebuild the repaired text"


def check_check(text: str, pack) -> None:
    from unspin import check

    try:
        report = check(text, pack, fast=True)
    except ValueError as exc:
        assert "surrogate" in str(exc), exc
        return
    assert report.verdict in ("spun", "clean", "too-short", "not-english", "not-prose")


def _warc_record(html: bytes) -> bytes:
    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(html) + html
    head = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%d>\r\nWARC-Target-URI: https://ex.test/\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n"
    ) % (len(html), len(body))
    return head + body + b"\r\n\r\n"


def check_readers(rng: random.Random, texts: list[str], tmp: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    from unspin.batch import report_row
    from unspin.batch.sources import read_records
    from unspin.textio import InputError

    ids = [rng.choice([f"d{i}", i, None, {"k": i}, [i], "a\udc00", ""]) for i in range(len(texts))]
    lines = b"".join(json.dumps({"id": i, "text": t}).encode() + b"\n" for i, t in zip(ids, texts, strict=True))
    kind = rng.choice(["jsonl", "gz", "zst", "warc", "parquet"])
    if kind == "jsonl":
        name, data = "f.jsonl", lines
    elif kind == "gz":
        name, data = "f.jsonl.gz", gzip.compress(lines)
    elif kind == "zst":
        name, data = "f.jsonl.zst", zstandard.ZstdCompressor().compress(lines)
    elif kind == "warc":
        name = "f.warc"
        data = b"".join(_warc_record(t.encode("utf-8", "surrogatepass")) for t in texts)
    else:
        name = "f.parquet"
        buf = io.BytesIO()
        safe = [t.encode("utf-8", "backslashreplace").decode() for t in texts]
        pq.write_table(pa.table({"id": [str(i).encode("utf-8", "backslashreplace").decode() for i in ids],
                                 "text": safe}), buf)  # fmt: skip
        data = buf.getvalue()
    damage = rng.random()
    whole = damage < 0.5
    if not whole and data:
        if damage < 0.75:
            data = data[: rng.randrange(len(data))]
        else:
            b = bytearray(data)
            for _ in range(rng.randint(1, 5)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            data = bytes(b)
    path = tmp / name
    path.write_bytes(data)
    try:
        records = list(read_records([str(path)], "text", "id"))
    except InputError:
        assert kind == "parquet", "only a damaged Parquet file is refused whole"
        return
    for r in records:  # every row must be writable, as the batch writes it
        row = report_row(r, "fast", None) if r.text is None else {"id": r.id, "error": r.error, **r.meta}
        json.dumps(row, ensure_ascii=False).encode("utf-8", "backslashreplace")
    if whole and kind in ("jsonl", "gz", "zst", "parquet"):
        assert len(records) == len(texts), f"{kind}: {len(records)} records for {len(texts)} lines"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100_000, help="inputs to try (repair gets every one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-every", type=int, default=200, help="also check(fast=True) every Nth input")
    ap.add_argument("--reader-every", type=int, default=500, help="also read a damaged file every Nth input")
    args = ap.parse_args()

    from unspin.pack import load

    pack = load(None)
    rng = random.Random(args.seed)
    tried = {"repair": 0, "check": 0, "readers": 0}
    crashes: dict[str, list[str]] = {k: [] for k in tried}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.count):
            text = make_text(rng)
            jobs = [("repair", lambda t=text: check_repair(t))]
            if n % args.check_every == 0:
                jobs.append(("check", lambda t=text: check_check(t, pack)))
            if n % args.reader_every == 0:
                texts = [make_text(rng) for _ in range(rng.randint(1, 6))]
                jobs.append(("readers", lambda ts=texts: check_readers(rng, ts, Path(tmp))))
            for name, job in jobs:
                tried[name] += 1
                try:
                    job()
                except Exception as exc:  # a crash: keep the input to reproduce it
                    crashes[name].append(f"{type(exc).__name__}: {exc} <- {text[:200]!r}")
                    if len(crashes[name]) <= 3:
                        traceback.print_exc()
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fuzz: {args.count:,} inputs in {elapsed:.0f} s (seed {args.seed}); peak RSS {peak_mb:.0f} MB")
    for name in tried:
        print(f"  {name:8s} tried {tried[name]:>10,}   crashes {len(crashes[name]):,}")
        for c in crashes[name][:5]:
            print(f"      {c}")
    sys.exit(1 if any(crashes.values()) else 0)


if __name__ == "__main__":
    main()
