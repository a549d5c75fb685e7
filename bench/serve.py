"""Load test of `unspin serve` on loopback: requests/s and latency under N concurrent clients.

Starts the real server (``python -m unspin serve``) on a free 127.0.0.1 port, then runs closed-loop
clients (each sends its next request when the previous answer arrives) for a bounded time, and prints
JSON: requests/s, p50/p90/p99/max latency, errors, per mode.

Two modes, because the server keeps an answer cache:

* ``same``     every request sends the same 500-word text (the issue's load test; after the first
               answer these are cache hits: it measures the HTTP layer and the cache);
* ``distinct`` every request sends a different text (a numbered sentence is prepended), so every
               request runs the engine: it measures the engine's throughput behind HTTP.

``--endpoint trace`` measures ``/v1/trace``: the bench first builds a reference index (in a temporary
folder) from the held-out Wikipedia articles (``unspin.pack.corpus.held_out_articles()``, needs
../shared), then sends spun copies (bench/spinner.py, "common" style, 25 % of content words) of the
first ``--words`` words of ``--trace-queries`` of them, a different copy each request in both modes
(so ``same`` differs from ``distinct`` only by the cache), and counts answers whose best source is
the right article (``top1``). ``--trace-check`` adds ``"check": true`` (what the page sends).

Usage: ``nice .venv/bin/python bench/serve.py [--duration 30] [--clients 32] [--words 500]
[--modes same,distinct] [--endpoint check|restore|repair|trace] [--pack DIR] [--workers N]
[--trace-queries 200] [--trace-check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit

EXAMPLE = REPO / "examples" / "spun-news.txt"
WINDOW_S = 5.0


def text_of(words: int) -> str:
    """The shipped example's paragraphs, repeated until the text has ``words`` words."""
    paragraphs = [p for p in EXAMPLE.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    out: list[str] = []
    n, i = 0, 0
    while n < words:
        p = paragraphs[i % len(paragraphs)]
        take = p.split()[: words - n]
        out.append(" ".join(take))
        n += len(take)
        i += 1
    return "\n\n".join(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


class Conn:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    httpx costs far more CPU per request than the server's cached answers; on a 2-core machine the
    load generator would measure itself. This one does only what the bench needs.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# A request: (body, the id the best traced source should have, or None when not tracing).
Request = tuple[bytes, str | None]


def text_requests(text: str, distinct: bool) -> Callable[[int], Request]:
    same = json.dumps({"text": text}).encode()
    if not distinct:
        return lambda _: (same, None)
    return lambda n: (json.dumps({"text": f"Report {n} from the desk.\n\n{text}"}).encode(), None)


def trace_requests(queries: list[tuple[str, str]], distinct: bool, check: bool) -> Callable[[int], Request]:
    """Spun copies in turn; ``distinct`` also numbers them, so no answer comes from the cache."""

    def make(n: int) -> Request:
        text, truth = queries[n % len(queries)]
        if distinct:
            text = f"Report {n} from the desk.\n\n{text}"
        return json.dumps({"text": text, "top": 3, "check": check}).encode(), truth

    return make


def process_cpu(root: int) -> dict[str, float]:
    """CPU seconds so far of the server process and of its children (the engine workers), from /proc.

    With both cores busy, this says whether the HTTP process takes a share the engine could use.
    """
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    workers, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        workers += cpu.get(pid, 0.0)
        todo += children.get(pid, [])
    return {"http": cpu.get(root, 0.0), "workers": workers}


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all processes, all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def best_source(data: bytes) -> str | None:
    trace = json.loads(data).get("trace") or []
    return trace[0]["id"] if trace else None


async def load(
    port: int, path: str, make: Callable[[int], Request], clients: int, duration: float, server: int
) -> dict[str, Any]:
    load_before = [round(x, 2) for x in os.getloadavg()]
    cpu_before, own_before, busy_before = process_cpu(server), time.process_time(), machine_busy()
    latencies: list[float] = []
    finished: list[tuple[float, float]] = []  # (when it was answered, latency)
    statuses: dict[str, int] = {}
    found = traced = 0
    counter = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal counter, found, traced
        conn = Conn("127.0.0.1", port)
        while time.perf_counter() < deadline:
            counter += 1
            body, truth = make(counter)
            t0 = time.perf_counter()
            try:
                code, data = await conn.post(path, body)
                status = str(code)
                if code == 200 and not data.startswith(b'{"version":1'):
                    status = "bad-body"
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
                status = type(exc).__name__
                await conn.close()
            latencies.append(time.perf_counter() - t0)
            finished.append((time.perf_counter(), latencies[-1]))
            statuses[status] = statuses.get(status, 0) + 1
            if truth is not None and status == "200":
                traced += 1
                found += best_source(data) == truth
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cpu_after, own = process_cpu(server), time.process_time() - own_before
    busy = machine_busy() - busy_before
    http, workers = (cpu_after[k] - cpu_before[k] for k in ("http", "workers"))
    lat = sorted(latencies)
    ok = statuses.get("200", 0)
    # p50/p99 of each 5 s stretch: shows a warm-up, or a stretch when someone else had the cores.
    windows: dict[int, list[float]] = {}
    for when, latency in finished:
        windows.setdefault(int((when - started) // WINDOW_S), []).append(latency)
    by_window = [sorted(windows[k]) for k in sorted(windows)]
    extra = {"top1": round(found / traced, 4) if traced else None} if traced else {}
    return {
        **extra,
        "requests": len(lat),
        "ok": ok,
        "errors": len(lat) - ok,
        "statuses": statuses,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(lat) / elapsed, 2),
        "latency_s": {
            "p50": round(percentile(lat, 0.50), 4),
            "p90": round(percentile(lat, 0.90), 4),
            "p99": round(percentile(lat, 0.99), 4),
            "max": round(lat[-1], 4) if lat else None,
        },
        # Where the machine's CPU went, as cores busy on average: the HTTP process, the engine
        # processes, this load generator, and everything else ("other": anything well above 0 means
        # someone else's work shared the cores and the figures are not the server's alone); and the
        # load average when the mode started.
        "cores_used": {
            "http": round(http / elapsed, 2),
            "workers": round(workers / elapsed, 2),
            "client": round(own / elapsed, 2),
            "other": round(max(0.0, busy - http - workers - own) / elapsed, 2),
        },
        "loadavg_before": load_before,
        "window_s": WINDOW_S,
        "p50_by_window": [round(percentile(w, 0.50), 3) for w in by_window],
        "p99_by_window": [round(percentile(w, 0.99), 3) for w in by_window],
    }


def build_trace_index(where: Path, pack_dir: str | None, n_queries: int, words: int) -> tuple[dict, list]:
    """An index of the held-out Wikipedia articles, and spun copies of some of them: (info, queries)."""
    from common import require_shared
    from spinner import spin, table_for
    from unspin.pack import LanguagePack
    from unspin.pack.corpus import held_out_articles
    from unspin.trace import Reference, add_references, open_index

    require_shared()
    pack = LanguagePack.load(pack_dir)
    articles = held_out_articles()
    t0 = time.perf_counter()
    with open_index(where, pack, create=True) as index:
        add_references(index, (Reference(f"wiki-{a['id']}", a["text"], title=a["title"]) for a in articles))
        documents = len(index)
    build_s = time.perf_counter() - t0
    table, rng = table_for("common", pack), random.Random(7)
    eligible = [a for a in articles if len(a["text"].split()) >= 100][:n_queries]
    queries = [(spin(" ".join(a["text"].split(" ")[:words]), table, 0.25, rng, pack).text, f"wiki-{a['id']}")
               for a in eligible]
    info = {"index": str(where), "documents": documents, "build_s": round(build_s, 1), "queries": len(queries)}
    return info, queries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per mode")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--words", type=int, default=500)
    ap.add_argument("--modes", default="same,distinct")
    ap.add_argument("--endpoint", default="check", choices=["check", "restore", "repair", "trace"])
    ap.add_argument("--pack", default=None, help="language pack (default: $UNSPIN_PACK or the shipped one)")
    ap.add_argument("--workers", type=int, default=None, help="server engine processes (default: its own)")
    ap.add_argument("--trace-queries", type=int, default=200, help="spun held-out articles sent to /v1/trace")
    ap.add_argument("--trace-check", action="store_true", help="trace with check too, as the page does")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="unspin-bench-serve-")
    index_info: dict[str, Any] = {}
    queries: list[tuple[str, str]] = []
    if args.endpoint == "trace":
        index_info, queries = build_trace_index(Path(tmp.name) / "index", args.pack, args.trace_queries, args.words)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "unspin", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if args.pack:
        cmd += ["--pack", args.pack]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    if args.endpoint == "trace":
        cmd += ["--index", index_info["index"]]
    env = {k: v for k, v in os.environ.items() if k != "UNSPIN_API_KEY"}
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=2).json()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"bench: the server did not start: {server.stderr.read() if server.stderr else ''}")
                time.sleep(0.2)
        text = queries[0][0] if queries else text_of(args.words)
        path = f"/v1/{args.endpoint}"
        first = httpx.post(f"{url}{path}", json={"text": text}, timeout=120)
        if first.status_code != 200:
            sys.exit(f"bench: {path} answered {first.status_code}: {first.text[:300]}")
        results: dict[str, Any] = {}
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            distinct = mode == "distinct"
            make = (
                trace_requests(queries, distinct, args.trace_check) if queries else text_requests(text, distinct)
            )
            results[mode] = asyncio.run(load(port, path, make, args.clients, args.duration, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        tmp.cleanup()
    out = {
        "endpoint": path,
        "clients": args.clients,
        "words": round(sum(len(q.split()) for q, _ in queries) / len(queries)) if queries else len(text.split()),
        **({"trace": {**index_info, "check": args.trace_check}} if queries else {}),
        "duration_s_per_mode": args.duration,
        "pack": health.get("pack"),
        "server_workers": health.get("workers", args.workers or 1),
        "results": results,
        "target": {"errors": 0, "p99_s_max": 1.0},
    }
    summary = " · ".join(
        f"{m}: {r['requests_per_s']} req/s, p50 {r['latency_s']['p50']}s, p99 {r['latency_s']['p99']}s, "
        f"{r['errors']} errors" + (f", top-1 {r['top1']}" if "top1" in r else "")
        + f" (other load {r['cores_used']['other']} cores)"
        for m, r in results.items()
    )
    emit(out, f"serve {path}, {args.clients} clients, {out['words']} words: {summary}")


if __name__ == "__main__":
    main()
