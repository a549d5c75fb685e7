"""An engine worker process of ``unspin serve``: ``python -m unspin.serve.worker CONFIG_JSON``.

The HTTP process (``pool.py``) starts one per core. A worker loads the memory-mapped language pack
once (``prepare()``: the channel table, lemminflect's tables, the vector index), opens its own
connection to the reference index when there is one, says ``ready``, then answers jobs one at a time:
each job is a text and its options (or a report to render as HTML), each answer the finished report
as JSON bytes (what the HTTP process caches and sends unchanged) or the HTML page, or an error for
the client (status, code, message).

Frames on stdin/stdout: a 4-byte big-endian length, then a pickle. stdout is kept for frames only
(file descriptor 1 is pointed at stderr, so a stray ``print`` cannot corrupt the stream). SIGINT is
ignored: Ctrl-C reaches the whole process group, and the HTTP process decides when workers stop (it
closes their stdin; a worker exits at end of input, after the job in hand).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sqlite3
import struct
import sys
import traceback
from typing import IO, Any

HEADER = struct.Struct(">I")


def write_frame(out: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(HEADER.pack(len(data)) + data)
    out.flush()


def read_frame(inp: IO[bytes]) -> Any:
    """The next message, or None at end of input."""
    head = _read_exactly(inp, HEADER.size)
    if head is None:
        return None
    data = _read_exactly(inp, HEADER.unpack(head)[0])
    if data is None:
        return None
    return pickle.loads(data)


def _read_exactly(inp: IO[bytes], n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = inp.read(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class JobError(Exception):
    """An answer for the client other than a report: (status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_bytes(data: Any) -> bytes:
    # "replace" keeps a stray surrogate inside an error detail from turning a 4xx into a 500.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


class Engine:
    """What one worker holds: the prepared pack (or None) and its own index connection (or None)."""

    def __init__(
        self, pack_dir: str | None, load_pack: bool, index_dir: str | None, phrases: list[str] | None = None
    ) -> None:
        from ..phrases import load_phrases

        self.pack: Any = None
        self.index: Any = None
        self.phrases = load_phrases(phrases or [])  # the server's lists (compiled: from the cache)
        self._request_lists: dict[str, Any] = {}  # a few recent requests' own lists, compiled
        if load_pack:
            from ..decode.engine import prepare
            from ..pack import load

            self.pack = prepare(load(pack_dir))
        if index_dir is not None and self.pack is not None:
            from ..trace import open_index

            self.index = open_index(index_dir, self.pack)

    def run(self, job: dict[str, Any]) -> bytes:
        from ..render.html import segments

        op, text = job["op"], job.get("text", "")
        if op == "render":
            return self._render(job["report"], job["decisions"])
        if op == "repair":
            from ..repair import repair

            report = repair(text)
        elif op == "check":
            from ..decode import check

            pack, phrases = self._need_pack(), self._phrases(job.get("phrases"))
            report = check(text, pack, threshold=job.get("threshold"), fast=job.get("fast", False), phrases=phrases)
        elif op == "trace":
            report = self._trace(text, job["top"], job["check"], self._phrases(job.get("phrases")))
        else:
            raise JobError(500, "internal_error", f"unknown job {op!r}")
        d = report.to_dict()
        if job.get("segments"):
            d["segments"] = segments(report, text)
        return json_bytes(d)

    @staticmethod
    def _render(data: dict[str, Any], decisions: list[str | None]) -> bytes:
        from ..render.html import to_html
        from ..report import Report

        try:
            page = to_html(Report.from_dict(data), decisions)
        except (TypeError, ValueError) as exc:
            raise JobError(422, "invalid_request", f"not a renderable report: {exc}") from None
        return page.encode("utf-8", "replace")

    def _need_pack(self) -> Any:
        if self.pack is None:  # the HTTP process checks first; this is only a second line
            raise JobError(503, "no_pack", "the language pack is not loaded")
        return self.pack

    def _phrases(self, pasted: str | None) -> list[Any]:
        """The server's lists plus the request's own (compiled once per distinct text, kept for a few)."""
        from ..phrases import PhraseListError, from_text

        lists = [self.phrases] if self.phrases is not None else []
        if not pasted or not pasted.strip():
            return lists
        compiled = self._request_lists.get(pasted)
        if compiled is None:
            try:
                compiled = from_text(pasted, "your list")
            except PhraseListError as exc:
                more = f" (and {len(exc.problems) - 3} more)" if len(exc.problems) > 3 else ""
                raise JobError(422, "invalid_phrases", "; ".join(exc.problems[:3]) + more) from None
            if len(self._request_lists) >= 8:
                self._request_lists.pop(next(iter(self._request_lists)))
            self._request_lists[pasted] = compiled
        return [*lists, compiled]

    def _trace(self, text: str, top: int, with_check: bool, phrases: list[Any] | None = None) -> Any:
        from ..repair import repair_text
        from ..report import Report
        from ..trace import IndexError_, attach_trace

        if self.index is None:
            raise JobError(503, "no_index", "no reference index is loaded")
        if with_check:
            from ..decode import check

            report = check(text, self.pack, phrases=phrases or None)
        else:
            repaired, repairs = repair_text(text)
            report = Report(repaired=repaired, repairs=repairs)
        try:
            attach_trace(report, self.index, top)
        except (IndexError_, sqlite3.Error) as exc:  # the index went away or broke under the server
            raise JobError(503, "index_unavailable", f"the reference index cannot be read: {exc}") from None
        return report


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = json.loads((argv if argv is not None else sys.argv[1:])[0])
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() and C libraries writing to stdout land on stderr, not in the frames
    inp = os.fdopen(os.dup(0), "rb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        engine = Engine(
            config.get("pack_dir"), config.get("load_pack", True), config.get("index_dir"), config.get("phrases")
        )
    except Exception as exc:  # the HTTP process reports it (healthz, 503) and retries later
        write_frame(out, ("failed", f"{type(exc).__name__}: {exc}"))
        return 1
    write_frame(out, ("ready", os.getpid()))
    while True:
        message = read_frame(inp)
        if message is None:
            return 0
        job_id, job = message
        try:
            answer: tuple[Any, ...] = ("ok", engine.run(job))
        except JobError as exc:
            answer = ("error", exc.status, exc.code, exc.message)
        except Exception as exc:
            traceback.print_exc()
            answer = ("error", 500, "internal_error", f"internal error ({type(exc).__name__}); please report it")
        try:
            write_frame(out, (job_id, answer))
        except BrokenPipeError:  # the HTTP process is gone: nobody to answer
            return 0


if __name__ == "__main__":
    sys.exit(main())
