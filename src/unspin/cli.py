"""The command line: Unix conventions over the stages.

Exit codes: 0 clean / done, 1 spun (check), 2 error. Errors are one line on stderr, never a
traceback for bad input.
"""

from __future__ import annotations

import sys
from typing import ClassVar

import click

from . import __version__
from .pack.cli import pack
from .render import render_check, render_repaired, repair_summary, to_json
from .repair import repair
from .report import Report
from .serve.cli import serve
from .textio import InputError, read_text, stream_text

EXIT_CLEAN, EXIT_SPUN, EXIT_ERROR = 0, 1, 2


def _warn(message: str) -> None:
    click.echo(f"unspin: warning: {message}", err=True)


def _fail(message: str) -> None:
    click.echo(f"unspin: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


class _LazyGroup(click.Group):
    """Commands whose modules load the engine are imported when they run, so `unspin repair` and
    `unspin --help` never import KenLM, numpy or the tracer."""

    LAZY: ClassVar[dict[str, str]] = {
        "index": "unspin.trace.cli:index",
        "trace": "unspin.trace.cli:trace_cmd",
        "phrases": "unspin.phrases_cli:phrases",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            import importlib

            module, attr = self.LAZY[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="unspin")
def cli() -> None:
    """Find, explain and undo machine "spinning" in text."""


@cli.command("repair")
@click.argument("source", default="-", metavar="[FILE|-]")
@click.option("--json", "as_json", is_flag=True, help="Print the repairs as a JSON report.")
@click.option("--color/--no-color", default=None, help="Highlight repairs (default: only when stdout is a terminal).")
def repair_cmd(source: str, as_json: bool, color: bool | None) -> None:
    """Undo web-extraction damage; print the repaired text.

    Fixes HTML entities (also mangled: "& # 39", ",quot"), mojibake, leaked template tokens,
    zero-width characters and look-alike letters. Clean text passes through unchanged. Plain output
    streams, so files of any size work; --json reads the whole input (UNSPIN_MAX_BYTES limit).
    """
    try:
        if as_json:
            click.echo(to_json(repair(read_text(source, warn=_warn))))
            return
        out = click.get_text_stream("stdout")
        use_color = out.isatty() if color is None else color
        repairs = []
        for chunk in stream_text(source, warn=_warn):
            report: Report = repair(chunk)
            render_repaired(report, out, use_color)
            repairs.extend(report.repairs)
        out.flush()
        if use_color:
            click.echo(repair_summary(repairs), err=True)
    except InputError as exc:
        _fail(str(exc))


def _pack(path: str | None):
    from .pack import load

    try:
        return load(path)
    except (FileNotFoundError, ValueError, OSError) as exc:
        _fail(f"cannot load the language pack: {exc}")


_pack_option = click.option(
    "--pack", "pack_dir", default=None, metavar="DIR", help="Language pack (default: $UNSPIN_PACK or the shipped one)."
)
_phrases_option = click.option(
    "--phrases",
    "phrase_files",
    multiple=True,
    metavar="FILE",
    help="A phrase list (TSV: spun<TAB>original; repeatable); its matches are flagged and restored. "
    "Default: $UNSPIN_PHRASES (paths separated by the system's path separator).",
)


def _phrase_paths(files: tuple[str, ...]) -> list[str]:
    """The --phrases files, or $UNSPIN_PHRASES when none is given; resolved, so workers find them."""
    import os

    from .phrases import phrases_from_env

    return [os.path.abspath(f) for f in (list(files) or phrases_from_env())]


def _phrases(files: tuple[str, ...]):
    """The compiled phrase lists (None for none); a bad list stops here, one line per problem."""
    from .phrases import PhraseListError, load_phrases

    try:
        return load_phrases(_phrase_paths(files))
    except PhraseListError as exc:
        for problem in exc.problems[:-1]:
            click.echo(f"unspin: error: {problem}", err=True)
        _fail(exc.problems[-1])


_index_option = click.option(
    "--index",
    "index_dir",
    default=None,
    metavar="DIR",
    help="Reference index (unspin index build): restore from a traced source where the text aligns with one.",
)


def _checked(source: str, index_dir: str | None, pack_dir: str | None, phrase_files: tuple[str, ...], **options):
    """The report of `check` and `restore`: the input read (one error line if it cannot be), the phrase
    lists, pack and index opened, the text checked with ``options`` and, with an index, traced."""
    from .decode import check

    try:
        text = read_text(source, warn=_warn)
    except InputError as exc:
        _fail(str(exc))
    phrases = _phrases(phrase_files)
    pack = _pack(pack_dir)
    index = _open_index(index_dir, pack)
    report = check(text, pack, phrases=phrases, **options)
    if index is not None:
        from .trace import attach_trace

        attach_trace(report, index)
    return report


def _open_index(index_dir: str | None, pack):
    if index_dir is None:
        return None
    from .trace import IndexError_, open_index

    try:
        return open_index(index_dir, pack)
    except IndexError_ as exc:
        _fail(str(exc))


@cli.command("check")
@click.argument("source", default="-", metavar="[FILE|-]")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Score from which a text is spun.")
@click.option("--fast", is_flag=True, help="Screening mode: a calibrated verdict without spans, for crawls.")
@click.option("--cascade", is_flag=True, help="The screen first; the full check only where it cannot clear the text.")
@click.option("--color/--no-color", default=None, help="Colour (default: only when stdout is a terminal).")
@_index_option
@_pack_option
@_phrases_option
def check_cmd(
    source: str,
    as_json: bool,
    threshold: float | None,
    fast: bool,
    cascade: bool,
    color: bool | None,
    index_dir: str | None,
    pack_dir: str | None,
    phrase_files: tuple[str, ...],
) -> None:
    """Say whether a text was spun, where, and what the original words were.

    With --index, the text is also traced: where it aligns with a confident source, the spans and
    originals are the source's wording (the report's trace says which source).

    Exit status: 0 clean (or too short / not English to judge), 1 spun, 2 error.
    """
    report = _checked(source, index_dir, pack_dir, phrase_files, threshold=threshold, fast=fast, cascade=cascade)
    if as_json:
        click.echo(to_json(report))
    else:
        out = click.get_text_stream("stdout")
        render_check(report, out, out.isatty() if color is None else color)
    sys.exit(EXIT_SPUN if report.spun else EXIT_CLEAN)


@cli.command("restore")
@click.argument("source", default="-", metavar="[FILE|-]")
@_index_option
@_pack_option
@_phrases_option
def restore_cmd(source: str, index_dir: str | None, pack_dir: str | None, phrase_files: tuple[str, ...]) -> None:
    """Print the likely original wording: repaired, with every confident span restored.

    With --index, passages that align with a confident source take the source's wording."""
    report = _checked(source, index_dir, pack_dir, phrase_files)
    click.echo(report.restored if report.restored is not None else report.repaired, nl=False)


@cli.command("batch")
@click.argument("inputs", nargs=-1, required=True, metavar="IN... OUT")
@click.option("--text-field", default="text", show_default=True, help="Field holding the text.")
@click.option("--id-field", default="id", show_default=True, help="Field holding the record id.")
@click.option("--fast", is_flag=True, help="Screening mode (no spans), for crawl-scale filtering.")
@click.option("--cascade", is_flag=True, help="The screen first; the full check only where it cannot clear a record.")
@click.option("--workers", type=click.IntRange(1), default=None, help="Worker processes (default: all cores).")
@click.option("--index", "index_dir", default=None, metavar="DIR", help="Reference index: add each report's trace.")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: a process pool on this machine; ray: Ray Data (a local instance, or $RAY_ADDRESS).",
)
@_pack_option
@_phrases_option
def batch_cmd(
    inputs: tuple[str, ...],
    text_field: str,
    id_field: str,
    fast: bool,
    cascade: bool,
    workers: int | None,
    index_dir: str | None,
    engine: str,
    pack_dir: str | None,
    phrase_files: tuple[str, ...],
) -> None:
    """One report per input record: JSONL (.gz, .zst), Parquet or WARC in; JSONL or Parquet out.

    Resumable: after an interruption, rerun the same command and it continues where it stopped,
    every record appearing in the output exactly once. A bad record becomes an error row.
    """
    import os

    from .batch import run_batch

    if len(inputs) < 2:
        _fail("batch needs at least one input and an output: unspin batch IN... OUT")
    pack = _pack(pack_dir)  # fail early, in one line, if the pack (or the index, or a list) cannot be loaded
    phrases = _phrases(phrase_files)  # compiled once here: the workers load it from the cache
    if index_dir is not None:
        from .trace import IndexError_, open_index

        try:
            open_index(index_dir, pack).close()
        except IndexError_ as exc:
            _fail(str(exc))
    try:
        summary = run_batch(
            list(inputs[:-1]),
            inputs[-1],
            text_field,
            id_field,
            fast,
            pack_dir,
            workers or os.cpu_count() or 1,
            index_dir=index_dir,
            engine=engine,
            phrases=_phrase_paths(phrase_files) if phrases is not None else None,
            cascade=cascade,
        )
    except InputError as exc:
        _fail(str(exc))
    click.echo(summary, err=True)
    if getattr(summary, "incomplete", 0):
        sys.exit(EXIT_ERROR)  # the output holds what could be read; the status says some input was not
    if not fast:
        from .decode.channel_cache import cache_path

        if not cache_path(pack).exists():
            _warn("no precomputed channel table, so every worker started cold; `unspin pack warm` (once) fixes that")


cli.add_command(serve)
cli.add_command(pack)


def main() -> None:
    """Console entry point: run the CLI, turning a closed pipe into a quiet exit and a missing compiled
    extension into one line."""
    from .native import ExtensionMissing

    try:
        cli.main(prog_name="unspin", standalone_mode=True)
    except ExtensionMissing as exc:
        _fail(str(exc))
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
