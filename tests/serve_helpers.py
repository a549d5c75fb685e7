"""What the serve tests share: a real uvicorn server on a free loopback port, and a language pack.

The server runs in a thread of the test process (same code path as ``unspin serve``: uvicorn over
``create_app``), so tests talk real HTTP without the cost of a subprocess per configuration.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from click.testing import CliRunner

from unspin.pack import LanguagePack, default_pack_path
from unspin.serve.app import ServeConfig, create_app

from .conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "news-small.txt"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(config: ServeConfig) -> Iterator[str]:
    """Serve ``create_app(config)`` on 127.0.0.1 until the block ends; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        httpx.get(f"{url}/healthz").raise_for_status()
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


_built: list[Path] = []


def serve_pack_dir() -> Path:
    """The shipped pack when it is there; else a tiny pack built from our fixture, as test_pack does.

    Built at most once per test session (the serve test modules share it).
    """
    shipped = default_pack_path()
    try:
        LanguagePack.load(shipped)
        return shipped
    except (OSError, ValueError, KeyError):
        pass  # not built (yet): the tiny one does for testing the service
    if _built:
        return _built[0]
    from unspin.pack.cli import pack as pack_cli

    subprocess.run(["bash", str(REPO / "scripts" / "build-kenlm-tools.sh")], check=True, capture_output=True)
    subprocess.run(["bash", str(REPO / "scripts" / "fetch-pack-sources.sh")], check=True, capture_output=True)
    out = Path(tempfile.mkdtemp(prefix="unspin-serve-pack-")) / "tiny"
    result = CliRunner().invoke(
        pack_cli,
        [
            "build",
            "--corpus",
            str(FIXTURE),
            "--out",
            str(out),
            "--order",
            "4",
            "--prune",
            "0",
            "--min-count",
            "1",
            "--vector-words",
            "5000",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    _built.append(out)
    return out
