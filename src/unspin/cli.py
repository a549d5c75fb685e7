"""The command line: Unix conventions over the stages.

Exit codes: 0 clean / done, 1 spun (check), 2 error. Errors are one line on stderr, never a
traceback for bad input.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .render import render_repaired, repair_summary, to_json
from .repair import repair
from .report import Report
from .textio import InputError, read_text, stream_text

EXIT_ERROR = 2


def _warn(message: str) -> None:
    click.echo(f"unspin: warning: {message}", err=True)


def _fail(message: str) -> None:
    click.echo(f"unspin: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    """Console entry point: run the CLI, turning a closed pipe into a quiet exit."""
    try:
        cli.main(prog_name="unspin", standalone_mode=True)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
