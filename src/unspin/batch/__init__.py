"""Batch: one report per input record, on all local cores, resumable, exactly once.

Records stream in (``sources.read_records``) and are grouped into fixed chunks by their global
index. Each chunk is checked by a worker process (which loads the language pack once, memory-mapped,
so workers share its pages) and written as one output *part*: a temporary file, flushed and synced,
then renamed into place, so a part is either whole or absent. A rerun of the same command skips every
chunk whose part exists and does the rest; when all parts are there they are concatenated, in order,
into the output (again through a temporary file and a rename). So after a crash or ``kill -9`` every
input record ends up in the output exactly once, and the reports equal an uninterrupted run's.

Memory stays bounded: at most ``2 * workers`` chunks are in flight, whatever the input size.
A bad record becomes an error row with its id and the reason; it never stops the run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import groupby
from pathlib import Path
from typing import Any

from ..report import ErrorRow
from ..textio import InputError
from ..workers import spawning_workers
from .sources import MAX_RECORD_CHARS, Record, check_inputs, html_text, read_records

__all__ = ["CHUNK", "MAX_RECORD_CHARS", "MODES", "Summary", "report_row", "run_batch", "run_settings"]

CHUNK = 32  # records per output part: small enough to lose little to a crash, big enough to be cheap


MODES = ("full", "fast", "cascade")  # what a record's check runs (see `unspin.decode.check`)


def report_row(record: Record, mode: str, pack, index=None, phrases=None) -> dict[str, Any]:
    """The output row for one record: its report, or an error row saying why there is none.

    ``mode``: ``"full"``, ``"fast"`` (the screen alone) or ``"cascade"`` (the screen first, the full
    check where it cannot clear the record).

    With a reference ``index`` (``unspin.trace``), the report also carries its ``trace``; with
    ``phrases`` (a compiled `unspin.phrases.PhraseList`), the lists' matches.
    """
    from ..decode import check

    if record.error is None and record.html is not None:
        text, error = html_text(record.html)  # here, in the worker: extraction can be slow (sources.py)
        record = Record(record.index, record.id, text, error, record.meta)
    if record.error is not None:
        return ErrorRow(record.id, record.error, record.meta).to_dict()
    text = record.text or ""
    if len(text) > MAX_RECORD_CHARS:
        return ErrorRow(record.id, f"text longer than {MAX_RECORD_CHARS} characters").to_dict()
    if not text.strip():
        return ErrorRow(record.id, "empty text").to_dict()
    try:
        report = check(text, pack, fast=mode == "fast", cascade=mode == "cascade", phrases=phrases)
        if index is not None:
            from ..trace import attach_trace

            try:
                attach_trace(report, index)
            except sqlite3.DatabaseError as exc:  # not this record's fault: every trace would fail
                raise InputError(f"the reference index is damaged ({exc}); rebuild it, then rerun") from None
    except InputError:
        raise
    except Exception as exc:  # an engine failure on one record must not lose the others
        return ErrorRow(record.id, f"internal error: {type(exc).__name__}: {exc}").to_dict()
    report.id = record.id
    row = report.to_dict()
    row.update(record.meta)
    return row


# --- workers ------------------------------------------------------------------------------------------

_WORKER_PACK = None
_WORKER_INDEX = None
_WORKER_PHRASES = None


def _init_worker(pack_dir: str | None, index_dir: str | None = None, phrases: list[str] | None = None) -> None:
    """Load the pack once per worker (memory-mapped), open the trace index, each its own connection,
    and the phrase lists (compiled by the driver, so here a read of the cache)."""
    global _WORKER_PACK, _WORKER_INDEX, _WORKER_PHRASES
    from ..pack import load
    from ..phrases import load_phrases

    _WORKER_PACK = load(pack_dir)
    _WORKER_PHRASES = load_phrases(phrases or [])
    if index_dir is not None:
        from ..trace import open_index

        _WORKER_INDEX = open_index(index_dir, _WORKER_PACK)


def _check_chunk(chunk: list[Record], mode: str) -> list[dict[str, Any]]:
    return [report_row(r, mode, _WORKER_PACK, _WORKER_INDEX, _WORKER_PHRASES) for r in chunk]


# --- output parts -------------------------------------------------------------------------------------


class Parts:
    """Committed output parts of one run, beside the output: ``OUT.parts/part-<first>-<last>.jsonl``."""

    def __init__(self, output: Path, settings: dict[str, Any]) -> None:
        self.dir = output.with_name(output.name + ".parts")
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "run.json"
        if meta.exists():
            try:
                previous = json.loads(meta.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                previous = {}
            if previous != settings:
                raise InputError(
                    f"{self.dir} holds parts of a different batch command ({_difference(previous, settings)}); "
                    "rerun the same command on the same inputs to resume, or delete that directory to start over"
                )
        else:
            _atomic_write(meta, json.dumps(settings, indent=1).encode())
        for tmp in self.dir.glob("*.tmp"):
            tmp.unlink()  # a part that was being written when the run died

    def done(self) -> set[int]:
        """Chunk numbers whose part is committed."""
        return {int(p.name.split("-")[1]) // CHUNK for p in self.dir.glob("part-*.jsonl")}

    def commit(self, chunk_no: int, rows: list[dict[str, Any]]) -> None:
        first = chunk_no * CHUNK
        name = f"part-{first:012d}-{first + len(rows) - 1:012d}.jsonl"
        # backslashreplace writes a lone surrogate (from any field) as its JSON escape: still valid JSON
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8", "backslashreplace")
        _atomic_write(self.dir / name, data)

    def rows(self) -> Iterator[dict[str, Any]]:
        for part in sorted(self.dir.glob("part-*.jsonl")):
            with part.open(encoding="utf-8") as fh:
                for line in fh:
                    yield json.loads(line)

    def finish(self, output: Path) -> None:
        """Concatenate the parts into ``output`` atomically, then drop the parts."""
        tmp = output.with_name(output.name + ".tmp")
        if output.name.lower().endswith(".parquet"):
            _write_parquet(self.rows(), tmp)
        else:
            with tmp.open("wb") as out:
                for part in sorted(self.dir.glob("part-*.jsonl")):
                    with part.open("rb") as fh:
                        shutil.copyfileobj(fh, out)
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, output)
        shutil.rmtree(self.dir)


def _difference(previous: dict[str, Any], settings: dict[str, Any]) -> str:
    """What changed since the interrupted run, in a few words."""
    if previous.get("inputs") == settings["inputs"] and previous.get("files") != settings["files"]:
        for old, new, name in zip(previous.get("files") or [], settings["files"], settings["inputs"], strict=False):
            if old != new:
                return f"{name} changed since: its size, time or content differs"
    for key in ("inputs", "pack", "unspin", "fast", "cascade", "phrases", "text_field", "id_field", "index", "chunk"):
        if previous.get(key) != settings.get(key):
            return f"{key} was {previous.get(key)!r}, now {settings.get(key)!r}"
    return "other settings"


def input_state(path: Path, piece: int = 1 << 20) -> dict[str, Any]:
    """What a resumed run must find unchanged about an input: its size, modification time and a hash
    of its size, first and last MiB (cheap for any size; with the time it catches a rewrite in place)."""
    import hashlib

    st = path.stat()
    h = hashlib.sha256(str(st.st_size).encode())
    with path.open("rb") as fh:
        h.update(fh.read(piece))
        if st.st_size > piece:
            fh.seek(max(piece, st.st_size - piece))
            h.update(fh.read(piece))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}


def check_paths(inputs: list[str], output: str) -> None:
    """Refuse, before any work, an output that would overwrite or mix with an input, or cannot be written."""
    out = Path(output)
    if out.is_dir():
        raise InputError(f"{output}: is a directory; give the output file's name (e.g. {Path(output) / 'out.jsonl'})")
    ours = [out, out.with_name(out.name + ".tmp"), out.with_name(out.name + ".parts")]
    for p in inputs:
        src = Path(p).resolve()
        for mine in ours:
            mine = mine.resolve()
            if src == mine or mine in src.parents or (mine.exists() and os.path.samefile(src, mine)):
                raise InputError(f"{output}: is (or holds) the input {p}; write the output to another file")
    for parent in out.resolve().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{output}: {parent} is a file, not a directory")
            break


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> None:
    """Parquet output: the headline fields as columns, the whole report as JSON beside them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [("id", pa.string()), ("spun", pa.bool_()), ("score", pa.float64()), ("verdict", pa.string()),
         ("error", pa.string()), ("report", pa.string())]
    )  # fmt: skip
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(
                {"id": str(row.get("id")), "spun": row.get("spun"), "score": row.get("score"),
                 "verdict": row.get("verdict"), "error": row.get("error"),
                 "report": json.dumps(row, ensure_ascii=False)}
            )  # fmt: skip
            if len(batch) >= 4096:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema))


# --- the run --------------------------------------------------------------------------------------------


class _Progress:
    """Documents, documents/s and, for inputs of known size, an ETA: on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.docs = self.spun = self.errors = self.skipped = self.incomplete = 0
        self._last = 0.0

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.docs += len(rows)
        self.spun += sum(bool(r.get("spun")) for r in rows)
        self.errors += sum("error" in r for r in rows)
        self.incomplete += sum(r.get("incomplete") is True for r in rows)
        now = time.perf_counter()
        if self.enabled and now - self._last > 0.5:
            self._last = now
            rate = self.docs / max(now - self.t0, 1e-9)
            sys.stderr.write(f"\runspin batch: {self.docs:,} documents, {rate:,.1f} docs/s, {self.spun:,} spun")
            sys.stderr.flush()

    def summary(self) -> str:
        elapsed = time.perf_counter() - self.t0
        if self.enabled:
            sys.stderr.write("\n")
        resumed = f" ({self.skipped:,} already done)" if self.skipped else ""
        line = (
            f"unspin batch: {self.docs:,} documents{resumed}, {self.spun:,} spun, {self.errors:,} errors, "
            f"{elapsed:.1f} s ({self.docs / max(elapsed, 1e-9):.1f} docs/s)"
        )
        if self.incomplete:
            line += f"; INCOMPLETE: {self.incomplete:,} input(s) truncated or damaged (see their error rows)"
        return Summary(line, self.incomplete)


class Summary(str):
    """The summary line of a run; ``incomplete`` counts inputs that were cut short or damaged."""

    incomplete: int

    def __new__(cls, line: str, incomplete: int = 0) -> Summary:
        obj = super().__new__(cls, line)
        obj.incomplete = incomplete
        return obj


def run_settings(
    inputs: list[str],
    text_field: str = "text",
    id_field: str = "id",
    fast: bool = False,
    pack_dir: str | None = None,
    index_dir: str | None = None,
    phrases: list[str] | None = None,
    cascade: bool = False,
) -> dict[str, Any]:
    """What a run records in ``run.json`` and a resumed run must find unchanged."""
    from .. import __version__
    from ..pack import load

    settings = {
        "inputs": [str(Path(p).resolve()) for p in inputs],
        # besides the paths: the inputs' content, the pack and unspin itself
        "files": [input_state(Path(p)) for p in inputs],
        "pack": load(pack_dir).label,
        "unspin": __version__,
        "text_field": text_field,
        "id_field": id_field,
        "fast": fast,
        "chunk": CHUNK,
    }
    if index_dir is not None:
        settings["index"] = str(Path(index_dir).resolve())
    if phrases:  # the lists' content, not their paths, is what must not change
        from ..phrases import load_phrases

        settings["phrases"] = load_phrases(phrases).identity  # type: ignore[union-attr]
    if cascade:  # only then, so runs started before --cascade existed still resume
        settings["cascade"] = True
    return settings


def run_batch(
    inputs: list[str],
    output: str,
    text_field: str = "text",
    id_field: str = "id",
    fast: bool = False,
    pack_dir: str | None = None,
    workers: int = 1,
    progress: bool | None = None,
    index_dir: str | None = None,
    engine: str = "local",
    phrases: list[str] | None = None,
    cascade: bool = False,
) -> Summary:
    """Check every record of ``inputs`` into ``output`` (JSONL, or Parquet by its suffix); resumable.

    With ``index_dir`` (a reference index, see ``unspin.trace``) every report also carries its trace.
    ``engine="ray"`` checks the chunks on Ray Data (``batch/ray_engine.py``) instead of a local
    process pool; chunking, parts and resumption are the same, so either engine can resume the other.
    ``phrases``: phrase list files (``unspin.phrases``); their content hash is part of the run's
    settings, so a run is not resumed with a changed list.

    Returns the summary line (a ``Summary``: its ``incomplete`` counts truncated or damaged inputs,
    each of which also has an error row with ``"incomplete": true``).
    Rerunning the same command after an interruption continues it.
    """
    out = Path(output)
    check_inputs(inputs)
    check_paths(inputs, output)
    settings = run_settings(inputs, text_field, id_field, fast, pack_dir, index_dir, phrases, cascade)
    mode = "fast" if fast else "cascade" if cascade else "full"  # what each record's check runs
    records = read_records(inputs, text_field, id_field)
    parts = Parts(out, settings)
    done = parts.done()
    meter = _Progress(sys.stderr.isatty() if progress is None else progress)
    chunks = ((no, list(group)) for no, group in groupby(records, key=lambda r: r.index // CHUNK))

    def todo() -> Iterator[tuple[int, list[Record]]]:
        for no, chunk in chunks:
            if no in done:
                meter.skipped += len(chunk)
            else:
                yield no, chunk

    def commit(no: int, rows: list[dict[str, Any]]) -> None:
        parts.commit(no, rows)
        meter.add(rows)

    if engine == "ray":
        from .ray_engine import run_on_ray

        run_on_ray(todo(), commit, mode, pack_dir, index_dir, workers, phrases=phrases)
    elif workers <= 1:
        _init_worker(pack_dir, index_dir, phrases)
        for no, chunk in todo():
            commit(no, _check_chunk(chunk, mode))
    else:
        # One BLAS thread per worker (unspin.workers); the variables only reach a fresh interpreter,
        # hence "spawn" rather than fork.
        ctx = multiprocessing.get_context("spawn")
        init = (pack_dir, index_dir, phrases)
        with spawning_workers(), ProcessPoolExecutor(workers, ctx, initializer=_init_worker, initargs=init) as pool:
            pending: dict[Future, int] = {}
            for no, chunk in todo():
                while len(pending) >= 2 * workers:
                    _collect(pending, commit)
                pending[pool.submit(_check_chunk, chunk, mode)] = no
            while pending:
                _collect(pending, commit)
    parts.finish(out)
    return meter.summary()


def _collect(pending: dict[Future, int], commit: Callable[[int, list[dict[str, Any]]], None]) -> None:
    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
    for fut in finished:
        no = pending.pop(fut)
        commit(no, fut.result())
