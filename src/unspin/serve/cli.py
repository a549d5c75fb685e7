"""``unspin serve``: the HTTP API and the web page on one port (uvicorn).

Listening beyond loopback exposes a CPU-heavy service to a network, so it needs an API key: set
``UNSPIN_API_KEY`` (or ``--api-key-file FILE``, which keeps the key out of the process list).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import click

EXIT_ERROR = 2


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fail(message: str) -> None:
    click.echo(f"unspin: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port.")
@click.option(
    "--pack", "pack_dir", default=None, metavar="DIR", help="Language pack (default: $UNSPIN_PACK or the shipped one)."
)
@click.option("--index", "index_dir", default=None, metavar="DIR", help="Reference index for /v1/trace.")
@click.option(
    "--phrases",
    "phrase_files",
    multiple=True,
    metavar="FILE",
    help="A phrase list matched in every check (repeatable; default: $UNSPIN_PHRASES). Requests may add their own.",
)
@click.option(
    "--api-key-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="File holding the API key (default: $UNSPIN_API_KEY).",
)
@click.option(
    "--max-bytes", type=click.IntRange(1), default=1024 * 1024, show_default=True, help="Largest request body (bytes)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1),
    default=30.0,
    show_default=True,
    help="Seconds a request may take, waiting included.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Engine processes, i.e. texts analysed at once (default: one per core). Each maps the same pack.",
)
@click.option("--concurrency", type=click.IntRange(1), default=None, hidden=True, help="Old name of --workers.")
@click.option(
    "--queue",
    type=click.IntRange(0),
    default=64,
    show_default=True,
    help="Requests that may wait for an engine process; more are refused with 503.",
)
@click.option(
    "--read-timeout",
    type=click.FloatRange(0.1),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send a request's head, and again its body; slower ones are let go.",
)
def serve(
    host: str,
    port: int,
    pack_dir: str | None,
    index_dir: str | None,
    phrase_files: tuple[str, ...],
    api_key_file: str | None,
    max_bytes: int,
    timeout: float,
    workers: int | None,
    concurrency: int | None,
    queue: int,
    read_timeout: float,
) -> None:
    """Serve the HTTP API (/v1/check, /v1/restore, /v1/repair, /v1/trace, /openapi.json) and the web page (/).

    Binding to an address other than loopback requires an API key: set UNSPIN_API_KEY or pass
    --api-key-file; clients send "Authorization: Bearer KEY" (the page asks for it).
    """
    import uvicorn

    from .app import ServeConfig, create_app, uvicorn_options  # here, so that `unspin repair` never imports FastAPI
    from .pool import default_workers

    api_key = Path(api_key_file).read_text(encoding="utf-8").strip() if api_key_file else None
    api_key = api_key or os.environ.get("UNSPIN_API_KEY") or None
    if not is_loopback(host) and not api_key:
        _fail(f"listening on {host} (not loopback) needs an API key: set UNSPIN_API_KEY or use --api-key-file")
    if pack_dir is not None and not Path(pack_dir).is_dir():
        _fail(f"{pack_dir}: no such language pack directory")
    if index_dir is not None and not Path(index_dir).is_dir():
        _fail(f"{index_dir}: no such index directory")
    from ..phrases import PhraseListError, load_phrases, phrases_from_env

    phrase_paths = [os.path.abspath(f) for f in (list(phrase_files) or phrases_from_env())]
    try:
        load_phrases(phrase_paths)  # compiled once here (and cached for the workers); a bad list stops
    except PhraseListError as exc:
        for problem in exc.problems[:-1]:
            click.echo(f"unspin: error: {problem}", err=True)
        _fail(exc.problems[-1])
    if workers is not None and concurrency is not None and workers != concurrency:
        _fail("--concurrency is the old name of --workers (engine processes); give one of them")
    config = ServeConfig(
        pack_dir=pack_dir,
        index_dir=index_dir,
        phrases=phrase_paths,
        api_key=api_key,
        max_bytes=max_bytes,
        timeout=timeout,
        workers=workers or concurrency or default_workers(),
        queue=queue,
        read_timeout=read_timeout,
    )
    app = create_app(config)
    health = app.state.health
    if health["pack_error"]:
        click.echo(f"unspin: warning: {health['pack_error']}; only /v1/repair works", err=True)
    if index_dir is not None and health["index"] is None:
        _fail(health["index_error"])
    click.echo(
        f"unspin: serving on http://{host}:{port}/ (API schema at /openapi.json), {config.workers} engine process"
        + ("es" if config.workers > 1 else ""),
        err=True,
    )
    # One HTTP process: the engine processes are its pool (serve/pool.py), started with the app.
    uvicorn.run(app, host=host, port=port, **uvicorn_options(config))
