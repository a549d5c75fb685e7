"""The HTTP API and the web page: one FastAPI app over the same engine as the command line.

Shape of the service, and why:

* **The engine is CPU-bound Python.** Requests run in a small thread pool (``concurrency`` jobs at a
  time); a bounded number more may wait, and beyond that the server answers 503 at once instead of
  letting latency grow without limit. Every request has a time limit (504 when it is exceeded).
* **Same text, same answer.** Editors re-check the same submission and the page asks again after a
  reload; finished answers are kept in a small LRU cache (bounded in bytes), keyed by the text and the
  options, so a repeat costs a dictionary lookup.
* **Every error is JSON** of one shape, ``{"error": {"status", "code", "message", "details"}}``, with
  the conventional status code; a traceback never reaches a client.
* **Bodies are bounded** (413 past ``max_bytes``) and, when the server listens beyond loopback, every
  ``/v1/`` call needs the API key (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``).
* Responses are ``Report.to_dict()`` (the contract, defined once); the pydantic models in
  ``models.py`` only describe it for the OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..render.html import segments, to_html
from ..repair import repair, repair_text
from ..report import Report
from .models import CheckIn, ErrorOut, Health, ReportIn, ReportOut, TextIn, TraceIn

__all__ = ["CONFIG_ENV", "ApiError", "ServeConfig", "app_from_env", "create_app"]

CONFIG_ENV = "UNSPIN_SERVE_CONFIG"  # how `unspin serve --workers N` hands its config to worker processes
STATIC = Path(str(resources.files("unspin.serve") / "static"))


@dataclass
class ServeConfig:
    """Everything the server is started with; the CLI fills it from options and environment."""

    pack_dir: str | None = None  # None: $UNSPIN_PACK or the shipped pack
    index_dir: str | None = None
    api_key: str | None = None  # required on /v1/ when set
    max_bytes: int = 1024 * 1024  # request body: ~170k words, ~20 s of engine time on one core
    timeout: float = 30.0  # seconds per request, queueing included
    concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)  # engine jobs at once
    queue: int = 64  # requests that may wait for a job slot; more get 503
    cache_bytes: int = 64 * 1024 * 1024  # 0 disables the answer cache
    trace_lock: bool = False  # one shared index connection behind a lock, not one per thread (for measuring)


class ApiError(Exception):
    """An error meant for the client: status, a stable machine code and a sentence for people."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _json_bytes(data: Any) -> bytes:
    # "replace" keeps a stray surrogate inside an error detail from turning a 4xx into a 500.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def _error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details:
        body["details"] = details
    return Response(_json_bytes({"error": body}), status_code=status, media_type="application/json", headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    503: "unavailable",
    504: "timeout",
}


def _is_json(ctype: str) -> bool:
    return ctype in ("application/json", "") or (ctype.startswith("application/") and ctype.endswith("+json"))


class _Guard:
    """Pure ASGI middleware: body size limit and API key, before any parsing happens."""

    def __init__(self, app: ASGIApp, max_bytes: int, api_key: str | None) -> None:
        self.app, self.max_bytes, self.api_key = app, max_bytes, api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.api_key and scope["path"].startswith("/v1/") and not self._authorised(headers):
            await _error_response(
                401,
                "unauthorized",
                "this server needs an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
                headers={"WWW-Authenticate": "Bearer"},
            )(scope, receive, send)
            return
        ctype = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if scope["method"] == "POST" and scope["path"].startswith("/v1/") and not _is_json(ctype):
            await _error_response(
                415,
                "unsupported_media_type",
                f"send the body as JSON with 'Content-Type: application/json' (got {ctype!r})",
            )(scope, receive, send)
            return
        too_big = (
            f"request body over the limit of {self.max_bytes} bytes; send a shorter text "
            "(or use `unspin batch` for large collections)"
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _error_response(413, "payload_too_large", too_big)(scope, receive, send)
            return
        # Read the body here (it is bounded) so an over-long chunked body is refused the same way.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _error_response(413, "payload_too_large", too_big)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _authorised(self, headers: dict[str, str]) -> bool:
        assert self.api_key is not None
        given = headers.get("x-api-key", "")
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.api_key.encode("utf-8"))


class _Engine:
    """Runs engine calls in a bounded pool with a time limit, and caches finished answers."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.pool = ThreadPoolExecutor(max_workers=max(1, config.concurrency), thread_name_prefix="unspin-engine")
        self.pending = 0
        self.cache: OrderedDict[bytes, bytes] = OrderedDict()
        self.cache_size = 0

    async def run(self, fn: Callable[[], bytes]) -> bytes:
        limit = max(1, self.config.concurrency) + self.config.queue
        if self.pending >= limit:
            raise ApiError(503, "busy", f"the server is busy ({self.pending} requests in progress); retry shortly")
        self.pending += 1
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self.pool, fn)

        def done(_: object) -> None:
            self.pending -= 1  # only once the work really stopped: a timed-out job still holds its slot

        fut.add_done_callback(done)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.config.timeout)
        except TimeoutError:
            raise ApiError(
                504,
                "timeout",
                f"the text took longer than the {self.config.timeout:g} s limit; send a shorter text "
                "or use `unspin batch`",
            ) from None

    async def cached(self, key_parts: tuple[Any, ...], text: str, fn: Callable[[], bytes]) -> bytes:
        if self.config.cache_bytes <= 0:
            return await self.run(fn)
        h = hashlib.sha256(repr(key_parts).encode())
        h.update(text.encode("utf-8"))
        key = h.digest()
        hit = self.cache.get(key)
        if hit is not None:
            self.cache.move_to_end(key)
            return hit
        value = await self.run(fn)
        if len(value) <= self.config.cache_bytes // 4:  # one huge answer must not flush the rest
            self.cache[key] = value
            self.cache_size += len(value)
            while self.cache_size > self.config.cache_bytes:
                _, old = self.cache.popitem(last=False)
                self.cache_size -= len(old)
        return value


def _load_pack(pack_dir: str | None) -> tuple[Any, str | None, str | None]:
    """(pack, where, error): a server without a pack still repairs; check/restore then say why not."""
    from ..decode.engine import prepare
    from ..pack import LanguagePack, default_pack_path

    where = str(pack_dir or default_pack_path())
    try:
        # prepare(): the once-per-process loads (and the precomputed channel table) now, at start-up,
        # rather than in the first requests' latency.
        return prepare(LanguagePack.load(pack_dir)), where, None
    except (OSError, ValueError, KeyError) as exc:
        return None, None, f"cannot load the language pack at {where}: {exc}"


class _Tracer:
    """The reference index, opened once at start-up and shared by the engine's threads.

    A ``TraceIndex`` is one SQLite connection, which must not be used by two threads at once. The
    index is read-only while serving, so each engine thread opens its own connection (on first use)
    instead of queueing behind one lock. Measured with bench/serve.py (``--trace-lock`` for the lock),
    the two give the same throughput on 2 cores (tracing is mostly GIL-bound Python); per-thread
    connections are kept because a slow query never holds up the other threads. The server treats
    the index as fixed while it runs (answers are cached): restart it after ``unspin index add``.
    """

    def __init__(self, index: Any, serialize: bool = False) -> None:
        self.first, self.directory, self.pack = index, index.directory, index.pack
        self.documents = len(index)
        self.local = threading.local()
        self.lock = threading.Lock() if serialize else None
        self.opened: list[Any] = [index]

    def __call__(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(index)`` with an index this thread may use."""
        if self.lock is not None:
            with self.lock:
                return fn(self.first)
        index = getattr(self.local, "index", None)
        if index is None:
            from ..trace import open_index

            index = self.local.index = open_index(self.directory, self.pack)
            self.opened.append(index)
        return fn(index)

    def close(self) -> None:
        for index in self.opened:
            index.close()


def _load_index(
    index_dir: str | None, pack: Any, serialize: bool = False
) -> tuple[_Tracer | None, str | None, str | None]:
    """(tracer, where, error): tracing is optional; a server without an index answers 503 on /v1/trace."""
    if index_dir is None:
        return None, None, "no reference index is loaded; start the server with --index DIR"
    if pack is None:
        return None, None, f"the reference index at {index_dir} needs the language pack, which is not loaded"
    from ..trace import IndexError_, open_index

    try:
        return _Tracer(open_index(index_dir, pack), serialize), index_dir, None
    except IndexError_ as exc:
        return None, None, f"cannot open the reference index: {exc}"
    except (OSError, sqlite3.Error) as exc:
        return None, None, f"cannot open the reference index at {index_dir}: {exc}"


def _report_bytes(report: Report, text: str, with_segments: bool) -> bytes:
    d = report.to_dict()
    if with_segments:
        d["segments"] = segments(report, text)
    return _json_bytes(d)


_REPORT = {200: {"model": ReportOut, "description": "The report (contract version 1)."}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut, "description": d}
    for s, d in [
        (400, "Malformed request"),
        (401, "API key missing or wrong"),
        (413, "Body too large"),
        (415, "Body is not JSON"),
        (422, "Invalid fields"),
        (503, "Busy, or the needed pack/index is not loaded"),
        (504, "Time limit exceeded"),
    ]
}


# The page shows untrusted web text: no inline script, nothing from elsewhere, no framing.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(config: ServeConfig | None = None) -> FastAPI:
    """The app: loads the pack (and index) once, here, so every request shares them."""
    config = config or ServeConfig()
    pack, pack_where, pack_error = _load_pack(config.pack_dir)
    tracer, index_where, index_error = _load_index(config.index_dir, pack, config.trace_lock)
    engine = _Engine(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # Jobs still running (past their time limit) finish before their connections are closed.
        await asyncio.to_thread(engine.pool.shutdown, wait=True, cancel_futures=True)
        if tracer is not None:
            tracer.close()

    app = FastAPI(
        lifespan=lifespan,
        title="unspin",
        version=__version__,
        summary="Find, explain and undo machine spinning (synonym-swapped copies) in text.",
        description=(
            'POST a JSON body `{"text": ...}`; the answer is the unspin report (contract version 1): '
            "offsets index the text as sent, in code points. Errors are JSON: "
            '`{"error": {"status", "code", "message"}}`.'
        ),
    )

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return _error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return _error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error_response(400, "bad_request", "the body is not valid JSON")
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg", "")}
            for e in errors
        ]
        first = details[0] if details else {"field": "", "problem": "invalid request"}
        where = f"'{first['field']}': " if first["field"] else ""
        return _error_response(422, "invalid_request", f"{where}{first['problem']}", details)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> Response:
        return _error_response(500, "internal_error", f"internal error ({type(exc).__name__}); please report it")

    def need_pack() -> Any:
        if pack is None:
            raise ApiError(503, "no_pack", f"{pack_error}; start the server with --pack DIR or set UNSPIN_PACK")
        return pack

    def report_response(body: bytes) -> Response:
        return Response(body, media_type="application/json")

    @app.get("/healthz", response_model=Health, tags=["service"])
    async def healthz() -> dict[str, Any]:
        """Liveness and what is loaded."""
        return {
            "status": "ok",
            "version": __version__,
            "pack": pack_where,
            "pack_error": pack_error,
            "index": index_where,
            "index_error": index_error if config.index_dir else None,
            "index_documents": tracer.documents if tracer else None,
        }

    @app.post("/v1/repair", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def repair_endpoint(body: TextIn) -> Response:
        """Undo web-extraction damage (entities, mojibake, template tokens, invisible characters)."""
        text = body.text
        out = await engine.cached(
            ("repair", body.segments), text, lambda: _report_bytes(repair(text), text, body.segments)
        )
        return report_response(out)

    @app.post("/v1/check", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def check_endpoint(body: CheckIn) -> Response:
        """Verdict, score, flagged spans with their likely originals, and the restored text."""
        from ..decode import check

        p, text = need_pack(), body.text
        out = await engine.cached(
            ("check", body.threshold, body.fast, body.segments),
            text,
            lambda: _report_bytes(check(text, p, threshold=body.threshold, fast=body.fast), text, body.segments),
        )
        return report_response(out)

    @app.post("/v1/restore", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def restore_endpoint(body: TextIn) -> Response:
        """The likely original wording in `restored` (the full report, so a client can show why)."""
        from ..decode import check

        p, text = need_pack(), body.text
        out = await engine.cached(
            ("check", None, False, body.segments), text, lambda: _report_bytes(check(text, p), text, body.segments)
        )
        return report_response(out)

    @app.post("/v1/trace", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def trace_endpoint(body: TraceIn) -> Response:
        """Candidate sources in the loaded reference index, best first, with aligned passages and changed facts.

        With `"check": true` the report also has what `/v1/check` gives (verdict, spans, restored), so a
        client gets the flagged spans and the traced source of one text in one call.
        """
        from ..trace import IndexError_, attach_trace

        if tracer is None:
            raise ApiError(503, "no_index", index_error or "no reference index is loaded")
        text, top = body.text, body.top

        def work() -> bytes:
            if body.check:
                from ..decode import check

                report = check(text, tracer.pack)
            else:
                repaired, repairs = repair_text(text)
                report = Report(repaired=repaired, repairs=repairs)
            try:
                tracer(lambda index: attach_trace(report, index, top))
            except (IndexError_, sqlite3.Error) as exc:  # the index went away or broke under the server
                raise ApiError(503, "index_unavailable", f"the reference index cannot be read: {exc}") from None
            return _report_bytes(report, text, body.segments)

        out = await engine.cached(("trace", top, body.check, body.segments), text, work)
        return report_response(out)

    @app.post(
        "/v1/render/html",
        response_class=Response,
        tags=["render"],
        responses={200: {"content": {"text/html": {}}, "description": "A standalone HTML report."}, **_ERRORS},
    )
    async def render_html(report: ReportIn) -> Response:
        """A report (as returned, optionally with readers' `decision`s on spans) as one HTML file."""
        data = report.model_dump(exclude={"segments"})
        spans = data.get("spans") or []
        decisions = [span.pop("decision", None) for span in spans]
        data.update(spans=spans, stats=data.get("stats") or {})
        try:
            obj = Report.from_dict(data)
            page = to_html(obj, decisions)
        except (TypeError, ValueError) as exc:
            raise ApiError(422, "invalid_request", f"not a renderable report: {exc}") from None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Response(
            page.encode("utf-8", "replace"),
            media_type="text/html; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="unspin-report-{stamp}.html"'},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(_Guard, max_bytes=config.max_bytes, api_key=config.api_key)
    app.state.config = config
    app.state.tracer = tracer
    app.state.health = {"pack": pack_where, "pack_error": pack_error, "index": index_where, "index_error": index_error}
    return app


def app_from_env() -> FastAPI:
    """The app of one worker process (uvicorn's factory), built from the config the CLI put in the environment.

    Each worker loads the pack itself; the pack is memory-mapped, so workers share its pages.
    """
    return create_app(ServeConfig(**json.loads(os.environ[CONFIG_ENV])))
