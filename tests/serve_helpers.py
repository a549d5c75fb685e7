"""What the serve tests share: a real uvicorn server on a free loopback port, and a language pack.

The server runs in a thread of the test process (same code path as ``unspin serve``: uvicorn over
``create_app``, whose engine processes are real children of the test process), so tests talk real
HTTP and can see the pool (``running_app``) to stop or kill a worker at a chosen moment.
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
from typing import Any

import httpx
import uvicorn
from click.testing import CliRunner

from unspin.pack import LanguagePack, default_pack_path
from unspin.serve.app import ServeConfig, create_app, uvicorn_options
from unspin.trace import Reference, open_index

from .conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "news-small.txt"


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    """The response is the server's one error shape, with this status and code; returns the error."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert err["status"] == status and err["code"] == code and err["message"]
    return err


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(config: ServeConfig) -> Iterator[str]:
    """Serve ``create_app(config)`` on 127.0.0.1 until the block ends; yields the base URL."""
    with running_app(config) as (url, _):
        yield url


@contextmanager
def running_app(config: ServeConfig) -> Iterator[tuple[str, Any]]:
    """``running``, also yielding the app (``app.state.pool`` is its engine pool)."""
    port = free_port()
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **uvicorn_options(config)))
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
        yield url, app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def wait_until(condition: Any, what: str, limit: float = 120.0) -> None:
    """Poll ``condition()`` until it is true (a state, never a duration, is what tests assert)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


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


# --- a reference collection written for these tests (no shared data needed) ---------------------
# Five short articles; SPUN is a spun copy of the first (ten words swapped), with a number (33 → 34)
# and a name (Ortiz → Ruiz) changed. (A copy of these 75 words with twice the swaps and two changed
# facts is listed first but not confidently named: it is as close to its source as a template
# sibling's copy is to the sibling, and the calibration puts precision first.) The second article
# repeats part of the first, so it is a weaker candidate.

REFERENCES = [
    Reference(
        "harbour-bridge",
        "The city council voted on Tuesday to close the Harbour Bridge for repairs. Engineers found 33 cracked "
        "beams during an inspection last month. Mayor Helen Ortiz said the work would take about six weeks.\n\n"
        "Traffic will be diverted through the tunnel, which the council expects to add ten minutes to the morning "
        "commute. Local shop owners worry that fewer visitors will come to the old town while the bridge is closed.",
        url="https://news.example/2024/harbour-bridge",
        title="Council closes the Harbour Bridge",
        date="2024-03-05",
    ),
    Reference(
        "old-town-shops",
        "Shops in the old town are preparing for a quiet spring. Mayor Helen Ortiz said the work would take about "
        "six weeks. Traffic will be diverted through the tunnel, which the council expects to add ten minutes to "
        "the morning commute. Local shop owners worry that fewer visitors will come to the old town while the "
        "bridge is closed. The chamber of commerce plans a weekend market to "
        "draw shoppers back.",
        title="Old town shops brace for a quiet spring",
        date="2024-03-07",
    ),
    Reference(
        "lantern-festival",
        "Thousands of people gathered along the river on Saturday for the annual lantern festival. Organisers said "
        "more than 12,000 lanterns were released this year, a record. The festival began in 1998 as a small "
        "neighbourhood event and has grown into one of the largest in the region.",
        title="Lantern festival sets a record",
    ),
    Reference(
        "school-breakfasts",
        "The education ministry announced a new programme to provide free breakfasts in primary schools. Minister "
        "David Chen said the plan would reach 450 schools by the end of the year. Teachers have long argued that "
        "hungry children find it hard to concentrate in class.",
    ),
    Reference(
        "orchard-frost",
        "A late frost damaged apple orchards across the valley this week. Growers said up to half of the blossom "
        "was lost on some farms. The regional farmers union has asked the government for emergency support.",
    ),
]
SPUN = (
    "The city council voted on Tuesday to shut the Harbour Bridge for fixes. Engineers discovered 34 cracked beams "
    "during an examination last month. Mayor Helen Ruiz stated the work would take around six weeks.\n\n"
    "Traffic will be redirected through the tunnel, which the council expects to add ten minutes to the morning "
    "commute. Local store owners fear that fewer visitors will come to the old town while the bridge is shut."
)


def build_index(directory: Path, pack_dir: Path) -> Path:
    """A real SQLite reference index of ``REFERENCES`` in ``directory``, built with the serve pack."""
    with open_index(directory, LanguagePack.load(pack_dir), create=True) as index:
        index.add(REFERENCES)
    return directory
