"""The HTTP service against hostile clients (issue 16): headers on every response, no CDN page, slow
clients let go. Real servers on loopback ports, real sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from unspin.serve.app import ServeConfig

from .serve_helpers import free_port, running, serve_pack_dir

SECURE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(ServeConfig(pack_dir=str(serve_pack_dir()), workers=1, timeout=120, api_key="k" * 32)) as base:
        yield base


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/static/index.html", 200),  # the report: the same page with no CSP, frameable
        ("GET", "/static/app.js", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/healthz", 200),
        ("GET", "/nowhere", 404),
        ("POST", "/v1/repair", 401),  # answered by the guard itself, before the app
        ("POST", "/v1/repair?key", 200),
    ],
)
def test_every_response_carries_the_security_headers(url: str, method: str, path: str, status: int) -> None:
    headers = {"Authorization": "Bearer " + "k" * 32} if path.endswith("?key") else {}
    r = httpx.request(method, url + path.removesuffix("?key"), json={"text": "caf&eacute;"}, headers=headers)
    assert r.status_code == status
    for name, value in SECURE.items():
        assert r.headers.get(name) == value, (path, name)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "default-src 'self'" in csp


def test_no_swagger_or_redoc_page_from_a_cdn(url: str) -> None:
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        r = httpx.get(url + page)
        assert r.status_code == 404 and "cdn" not in r.text.lower()
    assert "/v1/check" in httpx.get(url + "/openapi.json").json()["paths"]


# --- slow clients (slowloris) against `unspin serve` -------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`unspin serve` itself, as a user starts it, with a 1 s read deadline."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "unspin", "serve", "--port", str(port), "--workers", "1", "--read-timeout", "1",
         "--pack", str(serve_pack_dir())],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"unspin serve did not start: {proc.stderr.read().decode(errors='replace')}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _closed_by_server(sock: socket.socket, trickle: bytes, limit: float = 60.0) -> tuple[bool, bytes]:
    """Trickle ``trickle`` one byte at a time until the server closes the connection (or ``limit``
    passes, a generous bound for a loaded machine); returns (closed, what the server sent)."""
    got = b""
    sock.settimeout(0.2)
    deadline = time.monotonic() + limit
    i = 0
    while time.monotonic() < deadline:
        try:
            if i < len(trickle):
                sock.send(trickle[i : i + 1])
                i += 1
            data = sock.recv(4096)
            if not data:
                return True, got
            got += data
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True, got
    return False, got


def test_clients_trickling_headers_are_closed(served: str) -> None:
    """The report: 50 slowloris connections, none ever closed. Each must be let go; the service answers."""
    host, port = served.removeprefix("http://").split(":")
    socks = [socket.create_connection((host, int(port))) for _ in range(20)]
    try:
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10_000  # never finished
        for s in socks:
            s.send(head[:5])
        results = [_closed_by_server(s, head[5:]) for s in socks]
        assert all(closed for closed, _ in results)
        assert httpx.get(served + "/healthz").status_code == 200
    finally:
        for s in socks:
            s.close()


def test_client_stalling_its_body_gets_408_and_is_closed(served: str) -> None:
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(
            b"POST /v1/repair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            b'{"text": "'
        )
        closed, got = _closed_by_server(s, b"")
        assert closed and got.startswith(b"HTTP/1.1 408 ")
        assert b'"code":"request_timeout"' in got.replace(b" ", b"")


def test_keep_alive_client_slow_on_its_second_request_is_closed(served: str) -> None:
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(30)
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        closed, _ = _closed_by_server(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"b" * 10_000)
        assert closed


def test_a_prompt_client_is_unaffected(served: str) -> None:
    r = httpx.post(served + "/v1/repair", json={"text": "caf&eacute; &amp; more"}, timeout=60)
    assert r.status_code == 200 and r.json()["repaired"] == "café & more"


@pytest.mark.parametrize("ctype", [None, ""])
def test_a_body_without_content_type_is_read_as_json(url: str, ctype: str | None) -> None:
    """The report: no (or an empty) Content-Type passed the guard as JSON, then FastAPI ignored the body."""
    headers = {"Authorization": "Bearer " + "k" * 32}
    if ctype is not None:
        headers["Content-Type"] = ctype
    r = httpx.post(url + "/v1/repair", content=b'{"text": "caf&eacute;"}', headers=headers)  # raw: no type added
    assert r.request.headers.get("content-type") == ctype
    assert r.status_code == 200, r.text
    assert r.json()["repaired"] == "café"
