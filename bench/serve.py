"""Load test of `unspin serve` on loopback: requests/s and latency under N concurrent clients.

Starts the real server (``python -m unspin serve``) on a free 127.0.0.1 port, then runs closed-loop
clients (each sends its next request when the previous answer arrives) for a bounded time, and prints
JSON: requests/s, p50/p90/p99/max latency, errors, per mode.

Two modes, because the server keeps an answer cache:

* ``same``     every request sends the same 500-word text (the issue's load test; after the first
               answer these are cache hits: it measures the HTTP layer and the cache);
* ``distinct`` every request sends a different text (a numbered sentence is prepended), so every
               request runs the engine: it measures the engine's throughput behind HTTP.

Usage: ``nice .venv/bin/python bench/serve.py [--duration 30] [--clients 32] [--words 500]
[--modes same,distinct] [--endpoint check] [--pack DIR] [--workers N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit

EXAMPLE = REPO / "examples" / "spun-news.txt"


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


async def load(port: int, path: str, text: str, clients: int, duration: float, distinct: bool) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    counter = 0
    same = json.dumps({"text": text}).encode()
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal counter
        conn = Conn("127.0.0.1", port)
        while time.perf_counter() < deadline:
            counter += 1
            body = json.dumps({"text": f"Report {counter} from the desk.\n\n{text}"}).encode() if distinct else same
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
            statuses[status] = statuses.get(status, 0) + 1
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    lat = sorted(latencies)
    ok = statuses.get("200", 0)
    return {
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
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per mode")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--words", type=int, default=500)
    ap.add_argument("--modes", default="same,distinct")
    ap.add_argument("--endpoint", default="check", choices=["check", "restore", "repair"])
    ap.add_argument("--pack", default=None, help="language pack (default: $UNSPIN_PACK or the shipped one)")
    ap.add_argument("--workers", type=int, default=None, help="server worker processes (default: its own)")
    args = ap.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "unspin", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if args.pack:
        cmd += ["--pack", args.pack]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
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
        text = text_of(args.words)
        path = f"/v1/{args.endpoint}"
        first = httpx.post(f"{url}{path}", json={"text": text}, timeout=120)
        if first.status_code != 200:
            sys.exit(f"bench: {path} answered {first.status_code}: {first.text[:300]}")
        results: dict[str, Any] = {}
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            results[mode] = asyncio.run(load(port, path, text, args.clients, args.duration, mode == "distinct"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    out = {
        "endpoint": path,
        "clients": args.clients,
        "words": len(text.split()),
        "duration_s_per_mode": args.duration,
        "pack": health.get("pack"),
        "server_workers": args.workers or 1,
        "results": results,
        "target": {"errors": 0, "p99_s_max": 1.0},
    }
    summary = " · ".join(
        f"{m}: {r['requests_per_s']} req/s, p50 {r['latency_s']['p50']}s, p99 {r['latency_s']['p99']}s, "
        f"{r['errors']} errors"
        for m, r in results.items()
    )
    emit(out, f"serve {path}, {args.clients} clients, {out['words']} words: {summary}")


if __name__ == "__main__":
    main()
