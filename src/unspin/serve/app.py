"""The HTTP API and the web page: one FastAPI app over the same engine as the command line.

Shape of the service, and why:

* **The engine is CPU-bound Python** (~30-40 ms of one core for a 500-word check, GIL-bound). One
  asyncio HTTP process parses, validates, checks limits and the cache; the engine runs in a pool of
  worker processes (``pool.py``, one per core by default), each with the memory-mapped pack loaded
  once, fed from one FIFO queue: every request waits in the same line, so no request waits behind a
  longer queue than another's. A bounded number may wait; beyond that the server answers 503 at once
  instead of letting latency grow without limit. Every request has a time limit (504 when it is
  exceeded). A worker that dies fails only the job it had (500) and is replaced.
* **Same text, same answer.** Editors re-check the same submission and the page asks again after a
  reload; finished answers are kept in a small LRU cache (bounded in bytes), keyed by the text and the
  options, so a repeat costs a dictionary lookup and never reaches a worker.
* **Every error is JSON** of one shape, ``{"error": {"status", "code", "message", "details"}}``, with
  the conventional status code; a traceback never reaches a client.
* **Bodies are bounded** (413 past ``max_bytes``) and, when the server listens beyond loopback, every
  ``/v1/`` call needs the API key (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``).
* Responses are ``Report.to_dict()`` (the contract, defined once), serialised in the worker; the
  HTTP process passes the bytes on. The pydantic models in ``models.py`` only describe it for the
  OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
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
from .errors import ApiError
from .models import CheckIn, ErrorOut, Health, PhrasesIn, ReportIn, ReportOut, RestoreIn, TextIn, TraceIn
from .pool import EnginePool, default_workers
from .worker import json_bytes as _json_bytes

__all__ = ["ApiError", "ServeConfig", "create_app", "timely_protocol", "uvicorn_options"]

STATIC = Path(str(resources.files("unspin.serve") / "static"))


@dataclass
class ServeConfig:
    """Everything the server is started with; the CLI fills it from options and environment."""

    pack_dir: str | None = None  # None: $UNSPIN_PACK or the shipped pack
    index_dir: str | None = None
    api_key: str | None = None  # required on /v1/ when set
    max_bytes: int = 1024 * 1024  # request body: ~170k words, ~20 s of engine time on one core
    timeout: float = 30.0  # seconds per request, queueing included
    workers: int = field(default_factory=default_workers)  # engine processes: texts analysed at once
    queue: int = 64  # requests that may wait for a worker; more get 503
    read_timeout: float = 10.0  # seconds a client has to send a request's head, and again its body
    cache_bytes: int = 64 * 1024 * 1024  # 0 disables the answer cache
    phrases: list[str] = field(default_factory=list)  # phrase list files, matched in every check


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
    408: "request_timeout",
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
    """Pure ASGI middleware: security headers on every response; the API key, body size limit and a
    deadline for the body, before any parsing happens."""

    def __init__(self, app: ASGIApp, max_bytes: int, api_key: str | None, read_timeout: float = 10.0) -> None:
        self.app, self.max_bytes, self.api_key, self.read_timeout = app, max_bytes, api_key, read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _secured(send)
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
        if scope["method"] == "POST" and not headers.get("content-type", "").strip():  # none or empty: JSON,
            # as promised, rather than let FastAPI skip it and answer a confusing 422 about a missing body
            kept = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
            scope = {**scope, "headers": [*kept, (b"content-type", b"application/json")]}
        too_big = (
            f"request body over the limit of {self.max_bytes} bytes; send a shorter text "
            "(or use `unspin batch` for large collections)"
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _error_response(413, "payload_too_large", too_big)(scope, receive, send)
            return
        # Read the body here (it is bounded) so an over-long chunked body is refused the same way, and
        # within a deadline, so a client that stalls mid-body is answered 408 and let go.
        chunks, size, more = [], 0, True
        deadline = asyncio.get_running_loop().time() + self.read_timeout
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - asyncio.get_running_loop().time()))
            except TimeoutError:
                await _error_response(
                    408, "request_timeout", f"the request body did not arrive within {self.read_timeout:g} s",
                    headers={"Connection": "close"},
                )(scope, receive, send)  # fmt: skip
                return
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


# Every response, JSON and static files included: nothing may frame, sniff or load from elsewhere.
# The page's own (``_PAGE_HEADERS``) are the same; a response that sets a header keeps its own.
_SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]  # fmt: skip


def _secured(send: Send) -> Send:
    async def send_secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            headers.extend((k, v) for k, v in _SECURITY_HEADERS if k not in present)
            message = {**message, "headers": headers}
        await send(message)

    return send_secured


def timely_protocol(seconds: float) -> type:
    """uvicorn's h11 protocol with a deadline for each request's head.

    uvicorn times out only an idle keep-alive connection, and any byte restarts that: fifty clients
    trickling header bytes held fifty connections for as long as they liked (slowloris). Here a
    connection that has not sent a whole request head ``seconds`` after it opened, or after its last
    response, is closed. (The body has its own deadline, in ``_Guard``.) Pass as ``uvicorn.run(http=...)``.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimelyH11Protocol(H11Protocol):
        _head_timer = None
        _seen_cycle = None

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _too_slow(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self.cycle is not self._seen_cycle:  # a whole head arrived
                self._seen_cycle = self.cycle
                self._disarm()

        def on_response_complete(self) -> None:
            self._arm()  # the next request's head has the same deadline (pipelined ones disarm it at once)
            super().on_response_complete()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return TimelyH11Protocol


def uvicorn_options(config: ServeConfig) -> dict[str, Any]:
    """What ``uvicorn.run``/``uvicorn.Config`` needs besides the app, host and port."""
    return {"http": timely_protocol(config.read_timeout), "log_level": "warning", "access_log": False}


class _Engine:
    """The worker pool behind the answer cache."""

    def __init__(self, config: ServeConfig, pool: EnginePool) -> None:
        self.config, self.pool = config, pool
        self.cache: OrderedDict[bytes, bytes] = OrderedDict()
        self.cache_size = 0

    async def cached(self, key_parts: tuple[Any, ...], job: dict[str, Any]) -> bytes:
        """The answer to ``job`` (its ``text`` and options ``key_parts``), from the cache or a worker."""
        if self.config.cache_bytes <= 0:
            return await self.pool.run(job, self.config.timeout)
        h = hashlib.sha256(repr(key_parts).encode())
        h.update(job["text"].encode("utf-8"))
        key = h.digest()
        hit = self.cache.get(key)
        if hit is not None:
            self.cache.move_to_end(key)
            return hit
        value = await self.pool.run(job, self.config.timeout)
        if len(value) <= self.config.cache_bytes // 4:  # one huge answer must not flush the rest
            self.cache[key] = value
            self.cache_size += len(value)
            while self.cache_size > self.config.cache_bytes:
                _, old = self.cache.popitem(last=False)
                self.cache_size -= len(old)
        return value


def _load_pack(pack_dir: str | None) -> tuple[Any, str | None, str | None]:
    """(pack, where, error): a server without a pack still repairs; check/restore then say why not.

    Only to know here, at start-up, whether the pack loads (memory-mapped: milliseconds); the workers
    load and prepare their own.
    """
    from ..pack import LanguagePack, default_pack_path

    where = str(pack_dir or default_pack_path())
    try:
        return LanguagePack.load(pack_dir), where, None
    except (OSError, ValueError, KeyError) as exc:
        return None, None, f"cannot load the language pack at {where}: {exc}"


def _load_index(index_dir: str | None, pack: Any) -> tuple[int | None, str | None, str | None]:
    """(documents, where, error): tracing is optional; a server without an index answers 503 on /v1/trace.

    The index is opened here once to check it and count its documents; each worker opens its own
    connection (SQLite connections are not shared between processes).
    """
    if index_dir is None:
        return None, None, "no reference index is loaded; start the server with --index DIR"
    if pack is None:
        return None, None, f"the reference index at {index_dir} needs the language pack, which is not loaded"
    from ..trace import IndexError_, open_index

    try:
        with open_index(index_dir, pack) as index:
            return len(index), index_dir, None
    except IndexError_ as exc:
        return None, None, f"cannot open the reference index: {exc}"
    except (OSError, sqlite3.Error) as exc:
        return None, None, f"cannot open the reference index at {index_dir}: {exc}"


def _load_phrases(paths: list[str]) -> str | None:
    """What /healthz says of the server's phrase lists; compiling them here fills the cache the
    workers read. A bad list raises `unspin.phrases.PhraseListError` (the CLI checks it first)."""
    if not paths:
        return None
    from ..phrases import load_phrases

    compiled = load_phrases(paths)
    return compiled.describe() if compiled is not None else None


def _list_key(body: PhrasesIn) -> str | None:
    """The answer cache's key part for a request's own phrase list (its hash)."""
    return hashlib.sha256(body.phrases.encode("utf-8")).hexdigest() if body.phrases else None


_REPORT = {200: {"model": ReportOut, "description": "The report (contract version 1)."}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut, "description": d}
    for s, d in [
        (400, "Malformed request"),
        (401, "API key missing or wrong"),
        (413, "Body too large"),
        (415, "Body is not JSON"),
        (422, "Invalid fields"),
        (500, "The engine process analysing the text stopped unexpectedly (it is replaced)"),
        (503, "Busy, the needed pack/index is not loaded, or no engine process could start"),
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
    """The app. The pack and index are checked here (for /healthz and the CLI's start-up errors);
    the engine processes, which load their own, start with the app (its lifespan) and stop with it."""
    config = config or ServeConfig()
    pack, pack_where, pack_error = _load_pack(config.pack_dir)
    documents, index_where, index_error = _load_index(config.index_dir, pack)
    del pack  # the workers load their own
    phrases = _load_phrases(config.phrases)
    pool = EnginePool(
        config.workers,
        config.queue,
        {
            "pack_dir": config.pack_dir,
            "load_pack": pack_error is None,
            "index_dir": index_where,
            "phrases": [str(Path(p).resolve()) for p in config.phrases],
        },
    )
    engine = _Engine(config, pool)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.start()  # before the first request is accepted, as the pack used to be loaded
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        lifespan=lifespan,
        # No /docs or /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN (unpinned, no
        # integrity check) into a page with our origin. The schema stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
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

    def need_pack() -> None:
        if pack_error is not None:
            raise ApiError(503, "no_pack", f"{pack_error}; start the server with --pack DIR or set UNSPIN_PACK")

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
            "index_documents": documents,
            "phrases": phrases,
            "workers": pool.ready,
            "workers_error": pool.start_error,
        }

    @app.post("/v1/repair", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def repair_endpoint(body: TextIn) -> Response:
        """Undo web-extraction damage (entities, mojibake, template tokens, invisible characters)."""
        job = {"op": "repair", "text": body.text, "segments": body.segments}
        return report_response(await engine.cached(("repair", body.segments), job))

    @app.post("/v1/check", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def check_endpoint(body: CheckIn) -> Response:
        """Verdict, score, flagged spans with their likely originals, and the restored text."""
        need_pack()
        job = {"op": "check", "text": body.text, "segments": body.segments, "phrases": body.phrases}
        job.update(threshold=body.threshold, fast=body.fast)
        key = ("check", body.threshold, body.fast, body.segments, _list_key(body))
        return report_response(await engine.cached(key, job))

    @app.post("/v1/restore", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def restore_endpoint(body: RestoreIn) -> Response:
        """The likely original wording in `restored` (the full report, so a client can show why)."""
        need_pack()
        job = {"op": "check", "text": body.text, "threshold": None, "fast": False, "segments": body.segments}
        job["phrases"] = body.phrases
        return report_response(await engine.cached(("check", None, False, body.segments, _list_key(body)), job))

    @app.post("/v1/trace", response_model=None, responses={**_REPORT, **_ERRORS}, tags=["text"])
    async def trace_endpoint(body: TraceIn) -> Response:
        """Candidate sources in the loaded reference index, best first, with aligned passages and changed facts.

        With `"check": true` the report also has what `/v1/check` gives (verdict, spans, restored), so a
        client gets the flagged spans and the traced source of one text in one call.
        """
        if index_where is None:
            raise ApiError(503, "no_index", index_error or "no reference index is loaded")
        job = {"op": "trace", "text": body.text, "top": body.top, "check": body.check, "segments": body.segments}
        job["phrases"] = body.phrases
        key = ("trace", body.top, body.check, body.segments, _list_key(body))
        return report_response(await engine.cached(key, job))

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
        # In an engine process, like every job that grows with the text: rendering the report of a
        # 1 MiB text takes a tenth of a second or more, which here would hold up every other request.
        page = await pool.run({"op": "render", "report": data, "decisions": decisions}, config.timeout)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Response(
            page,
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
    app.add_middleware(_Guard, max_bytes=config.max_bytes, api_key=config.api_key, read_timeout=config.read_timeout)
    app.state.config = config
    app.state.pool = pool
    app.state.health = {"pack": pack_where, "pack_error": pack_error, "index": index_where, "index_error": index_error}
    return app
