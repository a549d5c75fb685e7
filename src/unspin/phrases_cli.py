"""``unspin phrases``: check a phrase list, and mine one from caught copies (see ``unspin.phrases``)."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator

import click

EXIT_ERROR = 2


def _fail(message: str) -> None:
    click.echo(f"unspin: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group("phrases")
def phrases() -> None:
    """Phrase lists: known tortured phrases and spinner tables (TSV: spun<TAB>original[<TAB>note])."""


@phrases.command("check")
@click.argument("lists", nargs=-1, required=True, metavar="LIST...")
def check_lists(lists: tuple[str, ...]) -> None:
    """Read lists as check --phrases would: one line per problem (exit 2), or what they hold."""
    from .phrases import PhraseListError, load_phrases

    try:
        compiled = load_phrases(list(lists))
    except PhraseListError as exc:
        for problem in exc.problems[:-1]:
            click.echo(f"unspin: error: {problem}", err=True)
        _fail(exc.problems[-1])
    assert compiled is not None
    click.echo(compiled.describe())


def _pairs(path: str, spun_field: str, source_field: str, warn) -> Iterator[tuple[str, str]]:
    if path == "-":
        fh = click.get_text_stream("stdin", errors="replace")
    else:
        opener = gzip.open if path.endswith(".gz") else open
        try:
            fh = opener(path, "rt", encoding="utf-8", errors="replace")
        except OSError as exc:
            _fail(f"{path}: {exc.strerror or exc}")
    with fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                warn(f"{path}:{no}: not JSON ({exc.msg}); skipped")
                continue
            spun = row.get(spun_field) if isinstance(row, dict) else None
            source = row.get(source_field) if isinstance(row, dict) else None
            if not isinstance(spun, str) or not isinstance(source, str):
                warn(f"{path}:{no}: needs text fields {spun_field!r} and {source_field!r}; skipped")
                continue
            yield spun, source


@phrases.command("mine")
@click.argument("pairs_file", metavar="PAIRS.jsonl")
@click.option("-o", "--output", default="-", metavar="FILE", help="Write the list here (default: stdout).")
@click.option("--min-count", type=click.IntRange(1), default=1, show_default=True, help="Keep swaps seen this often.")
@click.option("--spun-field", default="spun_text", show_default=True, help="Field holding the spun copy.")
@click.option("--source-field", default="source_text", show_default=True, help="Field holding its source.")
def mine_cmd(pairs_file: str, output: str, min_count: int, spun_field: str, source_field: str) -> None:
    """Derive a phrase list from (copy, source) pairs, one JSON object a line (.gz too, - for stdin).

    Sentences are paired, then their words aligned (difflib); each run of 1-4 words the copy has in
    place of the source's is a candidate entry, counted over all pairs. The output is the TSV list
    format, commonest first, with the counts in the note: review it before use.
    """
    from .phrases import mine

    skipped = 0

    def warn(message: str) -> None:
        nonlocal skipped
        skipped += 1
        click.echo(f"unspin: warning: {message}", err=True)

    rows = mine(_pairs(pairs_file, spun_field, source_field, warn), min_count)
    lines = [f"# mined by `unspin phrases mine` from {pairs_file}: review before use\n"]
    lines += [f"{s}\t{o}\t{note}\n" for s, o, _, _, note in rows]
    text = "".join(lines)
    if output == "-":
        click.echo(text, nl=False)
    else:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            _fail(f"{output}: {exc.strerror or exc}")
    tail = f", {skipped} lines skipped" if skipped else ""
    click.echo(f"unspin phrases mine: {len(rows):,} entries{tail}", err=True)
