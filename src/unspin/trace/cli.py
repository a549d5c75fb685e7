"""``unspin index build|add|remove|info`` and ``unspin trace``: reference collections and tracing."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import time

import click

from ..textio import InputError, read_text

__all__ = ["index", "trace_cmd"]

_index_option = click.option(
    "--index", "index_dir", required=True, metavar="DIR", help="Index directory (one SQLite file inside)."
)
_pack_option = click.option(
    "--pack", "pack_dir", default=None, metavar="DIR", help="Language pack (default: $UNSPIN_PACK or the shipped one)."
)


def _fail(message: str) -> None:
    click.echo(f"unspin: error: {message}", err=True)
    sys.exit(2)


@contextlib.contextmanager
def _intact(index_dir: str):
    """One clear line, exit 2, for an index whose pages are damaged (it opened, a later read failed)."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        _fail(f"{index_dir}: the index is damaged ({exc}); rebuild it with: unspin index build REFS... --index DIR")


def _open(index_dir: str, pack_dir: str | None, create: bool = False, shards: int | None = None):
    from ..pack import load
    from . import IndexError_, open_index

    try:
        pack = load(pack_dir)
    except (FileNotFoundError, ValueError, OSError) as exc:
        _fail(f"cannot load the language pack: {exc}")
    try:
        return open_index(index_dir, pack, create=create, shards=shards)
    except IndexError_ as exc:
        _fail(str(exc))


def _add(
    refs_paths: tuple[str, ...],
    index_dir: str,
    pack_dir: str | None,
    workers: int | None,
    create: bool,
    shards: int | None = None,
) -> None:
    from tqdm import tqdm

    from . import IndexError_, Skipped, add_references, read_references

    idx = _open(index_dir, pack_dir, create=create, shards=shards)
    skipped: list[Skipped] = []

    def on_skip(s: Skipped) -> None:
        skipped.append(s)
        if len(skipped) <= 20:
            click.echo(f"unspin: warning: reference {s.id} skipped: {s.reason}", err=True)

    start = time.perf_counter()
    bar = tqdm(unit=" docs", disable=None, file=sys.stderr, mininterval=1.0)
    try:
        with _intact(index_dir):
            n = add_references(idx, read_references(list(refs_paths), on_skip), workers, progress=bar.update)
    except (InputError, IndexError_) as exc:
        _fail(str(exc))
    finally:
        bar.close()
    elapsed = time.perf_counter() - start
    if idx.duplicates:
        shown = ", ".join(repr(d) for d in idx.duplicates[:5]) + (" ..." if len(idx.duplicates) > 5 else "")
        click.echo(
            f"unspin: warning: {len(idx.duplicates)} reference id(s) given more than once; the last one of each "
            f"was kept: {shown}",
            err=True,
        )
    more = f" ({len(skipped) - 20} more not shown)" if len(skipped) > 20 else ""
    click.echo(
        f"indexed {n} references in {elapsed:.1f} s ({n / max(elapsed, 1e-9):.0f}/s); "
        f"{len(skipped)} skipped{more}; index now holds {len(idx)}",
        err=True,
    )
    idx.close()


@click.group("index")
def index() -> None:
    """Build and maintain a reference collection to trace copies back to."""


_workers_option = click.option(
    "--workers", type=click.IntRange(1), default=None, help="Fingerprinting processes (default: all cores)."
)


@index.command("build")
@click.argument("refs", nargs=-1, required=True, metavar="REFS...")
@_index_option
@_workers_option
@click.option(
    "--shards",
    type=click.IntRange(1, 1024),
    default=None,
    help="Split the index into N shards (queried scatter-gather; served by Ray actors in batch --engine ray).",
)
@_pack_option
def build_cmd(
    refs: tuple[str, ...], index_dir: str, workers: int | None, shards: int | None, pack_dir: str | None
) -> None:
    """Create an index from JSONL (.gz/.zst) or Parquet records {id, text, url?, title?, date?}.

    Each thousand references is committed as one transaction: an interrupted build keeps what it
    committed, and running it again continues (ids already in the index are replaced, not doubled).
    """
    _add(refs, index_dir, pack_dir, workers, create=True, shards=shards)


@index.command("add")
@click.argument("refs", nargs=-1, required=True, metavar="REFS...")
@_index_option
@_workers_option
@_pack_option
def add_cmd(refs: tuple[str, ...], index_dir: str, workers: int | None, pack_dir: str | None) -> None:
    """Add references to an existing index (a reference with a known id replaces the old one)."""
    _add(refs, index_dir, pack_dir, workers, create=False)


@index.command("remove")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@_index_option
@_pack_option
def remove_cmd(ids: tuple[str, ...], index_dir: str, pack_dir: str | None) -> None:
    """Remove references by id (in one transaction)."""
    from . import IndexError_

    idx = _open(index_dir, pack_dir)
    try:
        with _intact(index_dir):
            n = idx.remove(ids)
    except IndexError_ as exc:
        _fail(str(exc))
    click.echo(f"removed {n} of {len(ids)} ids; index now holds {len(idx)}", err=True)
    idx.close()


@index.command("info")
@_index_option
@_pack_option
def info_cmd(index_dir: str, pack_dir: str | None) -> None:
    """What an index holds: documents, postings, size on disk, versions (JSON)."""
    idx = _open(index_dir, pack_dir)
    with _intact(index_dir):
        click.echo(json.dumps(idx.info(), indent=1))
    idx.close()


@click.command("trace")
@click.argument("source", default="-", metavar="[FILE|-]")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the report (with its trace field) as JSON.")
@click.option("--top", type=click.IntRange(1, 100), default=3, show_default=True, help="Candidate sources to list.")
@click.option("--check", "with_check", is_flag=True, help="Also run spin detection (spans, verdict) on the copy.")
@click.option("--color/--no-color", default=None, help="Colour (default: only when stdout is a terminal).")
@_pack_option
def trace_cmd(
    source: str, index_dir: str, as_json: bool, top: int, with_check: bool, color: bool | None, pack_dir: str | None
) -> None:
    """Find where a copy came from: candidate sources, aligned passages side by side, changed facts.

    Exit status: 0 when a confident source was found (is_source), 1 when none was, 2 on error.
    """
    from ..render import render_trace, to_json
    from . import attach_trace, trace

    try:
        text = read_text(source, warn=lambda m: click.echo(f"unspin: warning: {m}", err=True))
    except InputError as exc:
        _fail(str(exc))
    idx = _open(index_dir, pack_dir)
    with _intact(index_dir):
        if with_check:
            from ..decode import check

            report = attach_trace(check(text, idx.pack), idx, top)
        else:
            report = trace(text, idx, top)
    if as_json:
        click.echo(to_json(report))
    else:
        out = click.get_text_stream("stdout")
        render_trace(report, out, out.isatty() if color is None else color)
    sys.exit(0 if any(s["is_source"] for s in report.trace) else 1)
