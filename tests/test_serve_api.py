"""HTTP API against a real uvicorn server on a loopback port: the contract, limits and errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from unspin.serve.app import ServeConfig
from unspin.serve.cli import is_loopback

from .conftest import EXAMPLE
from .serve_helpers import (
    SPUN,
    assert_error,
    build_index,
    free_port,
    running,
    running_app,
    serve_pack_dir,
    wait_until,
)

TEXT = EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Any]]:
    """The module's server (answer cache on, as by default): its URL and app."""
    with running_app(ServeConfig(pack_dir=str(serve_pack_dir()), timeout=120)) as base_app:
        yield base_app


@pytest.fixture(scope="module")
def url(served: tuple[str, Any]) -> str:
    return served[0]


def post(url: str, path: str, body: object, **kw: object) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=120, **kw)  # type: ignore[arg-type]


def test_health_says_what_is_loaded(url: str) -> None:
    h = httpx.get(f"{url}/healthz").json()
    assert h["status"] == "ok" and h["pack"] and h["pack_error"] is None and h["index"] is None
    assert h["index_documents"] is None and h["index_error"] is None


def test_repair_report_indexes_the_input(url: str) -> None:
    d = post(url, "/v1/repair", {"text": TEXT}).json()
    assert d["version"] == 1 and "spun" not in d
    kinds = {r["kind"] for r in d["repairs"]}
    assert {"entity", "template", "mojibake"} <= kinds
    for r in d["repairs"]:
        assert TEXT[r["start"] : r["end"]] == r["before"]
    assert "& # 39" not in d["repaired"]


def test_check_returns_the_contract_and_segments(url: str) -> None:
    d = post(url, "/v1/check", {"text": TEXT, "segments": True}).json()
    assert d["version"] == 1 and isinstance(d["spun"], bool) and 0 <= d["score"] <= 1
    assert d["spans"], "the shipped example has swapped phrases"
    for s in d["spans"]:
        assert TEXT[s["start"] : s["end"]] == s["text"]
        assert 0 <= s["confidence"] <= 1 and s["why"]
    segs = d["segments"]
    assert "".join(s["text"] for s in segs) == TEXT, "segments put together give the input back"
    assert [s["index"] for s in segs if s["kind"] == "span"] == list(range(len(d["spans"])))
    assert any(s["kind"] == "repair" for s in segs)
    # Without asking, no segments: the contract is unchanged.
    assert "segments" not in post(url, "/v1/check", {"text": TEXT}).json()


def test_offsets_are_code_points_even_after_an_emoji(url: str) -> None:
    text = "😀🎉 " + TEXT
    d = post(url, "/v1/check", {"text": text, "segments": True}).json()
    for s in d["spans"]:
        assert text[s["start"] : s["end"]] == s["text"]
    assert "".join(s["text"] for s in d["segments"]) == text


def test_restore_and_fast_mode(url: str) -> None:
    d = post(url, "/v1/restore", {"text": TEXT}).json()
    assert d["restored"] and d["restored"] != d["repaired"]
    fast = post(url, "/v1/check", {"text": TEXT, "fast": True}).json()
    assert fast["spans"] == [] and fast["stats"]["mode"] == "fast"
    strict = post(url, "/v1/check", {"text": TEXT, "threshold": 1.0}).json()
    assert strict["score"] == d["score"]


def test_repeated_request_gets_the_same_answer() -> None:
    # The answer cache is off, so every answer is computed: by the same worker one after the other,
    # then by both workers at once (the second request finds the first worker busy).
    config = ServeConfig(pack_dir=str(serve_pack_dir()), timeout=120, workers=2, cache_bytes=0)
    with running_app(config) as (base, app):
        wait_until(lambda: app.state.pool.ready == 2, "both workers")
        jobs = len(app.state.pool.dispatched)
        a = post(base, "/v1/check", {"text": TEXT + " Again."})
        b = post(base, "/v1/check", {"text": TEXT + " Again."})
        together: list[httpx.Response] = []
        threads = [
            threading.Thread(target=lambda: together.append(post(base, "/v1/check", {"text": TEXT + " Again."})))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(app.state.pool.dispatched) - jobs == 4, "no answer came from a cache"
    assert a.status_code == b.status_code == 200 and a.content == b.content
    assert [r.status_code for r in together] == [200, 200] and all(r.content == a.content for r in together)
    assert json.loads(a.content)["spans"], "the answer compared has spans, not only a verdict"


def test_the_cache_answers_a_repeat(served: tuple[str, Any]) -> None:
    base, app = served
    jobs = len(app.state.pool.dispatched)
    a = post(base, "/v1/check", {"text": TEXT + " Once more."})
    assert len(app.state.pool.dispatched) - jobs == 1
    b = post(base, "/v1/check", {"text": TEXT + " Once more."})
    assert len(app.state.pool.dispatched) - jobs == 1, "the repeat was answered without a worker"
    assert a.status_code == b.status_code == 200 and a.content == b.content
    # Other options are another answer, computed anew.
    assert post(base, "/v1/check", {"text": TEXT + " Once more.", "fast": True}).status_code == 200
    assert len(app.state.pool.dispatched) - jobs == 2


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"text": ', {"content-type": "application/json"}, 400, "bad_request"),
        (b"text=hello", {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        (b"{}", {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"text": 3}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"text": "a", "extra": 1}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"text": "a\\ud800b"}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b'{"text": "a", "threshold": 1.5}', {"content-type": "application/json"}, 422, "invalid_request"),
        (b"[1, 2]", {"content-type": "application/json"}, 422, "invalid_request"),
    ],
)
def test_bad_requests_are_json_errors(url: str, body: bytes, headers: dict, status: int, code: str) -> None:
    r = httpx.post(f"{url}/v1/check", content=body, headers=headers)
    err = assert_error(r, status, code)
    if status == 422 and b"threshold" in body:
        assert "threshold" in err["message"]
    if b"ud800" in body:
        assert "surrogate" in err["message"]


def test_unknown_paths_and_methods(url: str) -> None:
    assert_error(httpx.get(f"{url}/nope"), 404, "not_found")
    assert_error(httpx.get(f"{url}/v1/check"), 405, "method_not_allowed")


def test_trace_without_an_index_is_503(url: str) -> None:
    err = assert_error(post(url, "/v1/trace", {"text": TEXT}), 503, "no_index")
    assert "--index" in err["message"]


def test_openapi_schema_and_docs(url: str) -> None:
    schema = httpx.get(f"{url}/openapi.json").json()
    for path in ("/v1/check", "/v1/restore", "/v1/repair", "/v1/trace", "/healthz"):
        assert path in schema["paths"]
    assert "ReportOut" in schema["components"]["schemas"]
    assert httpx.get(f"{url}/docs").status_code == 404  # no Swagger UI from a CDN (see test_serve_hostile.py)


def test_page_and_static_files(url: str) -> None:
    r = httpx.get(f"{url}/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert 'id="text"' in r.text
    for name in ("app.js", "style.css"):
        assert httpx.get(f"{url}/static/{name}").status_code == 200


def test_render_html_escapes_untrusted_text(url: str) -> None:
    text = 'Mayor said <script>alert("x")</script> in a cellphone contact & # 39 ok'
    report = post(url, "/v1/check", {"text": text}).json()
    report["spans"] = [
        {
            "start": 33,
            "end": 50,
            "text": text[33:50],
            "original": "<b>phone call</b>",
            "confidence": 0.97,
            "why": "<img src=x onerror=alert(1)>",
            "decision": "rejected",
        }
    ]
    r = post(url, "/v1/render/html", report)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "attachment" in r.headers["content-disposition"]
    page = r.text
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page and "rejected" in page


def test_body_size_limit_and_api_key() -> None:
    config = ServeConfig(pack_dir=str(serve_pack_dir()), max_bytes=1000, api_key="s3cret")
    with running(config) as base:
        key = {"Authorization": "Bearer s3cret"}
        assert_error(post(base, "/v1/repair", {"text": "hi"}), 401, "unauthorized")
        assert_error(
            post(base, "/v1/repair", {"text": "hi"}, headers={"Authorization": "Bearer nope"}), 401, "unauthorized"
        )
        assert post(base, "/v1/repair", {"text": "hi"}, headers=key).status_code == 200
        assert post(base, "/v1/repair", {"text": "hi"}, headers={"X-API-Key": "s3cret"}).status_code == 200
        assert httpx.get(f"{base}/healthz").status_code == 200, "health and the page stay open"
        assert_error(post(base, "/v1/repair", {"text": "x" * 2000}, headers=key), 413, "payload_too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds for streamed bodies too
            yield b'{"text": "'
            for _ in range(20):
                yield b"x" * 100
            yield b'"}'

        r = httpx.post(f"{base}/v1/repair", content=chunks(), headers={**key, "content-type": "application/json"})
        assert_error(r, 413, "payload_too_large")


def test_time_limit_stops_the_job_and_the_server_recovers() -> None:
    long_text = " ".join([TEXT] * 60)
    config = ServeConfig(pack_dir=str(serve_pack_dir()), timeout=0.2, workers=1, queue=0, cache_bytes=0)
    with running_app(config) as (base, app):
        pool = app.state.pool
        first = pool.pids()
        err = assert_error(post(base, "/v1/check", {"text": long_text}), 504, "timeout")
        assert "limit" in err["message"]
        # The job's answer could only come too late: its worker was stopped, and a new one replaces it.
        wait_until(lambda: httpx.get(f"{base}/healthz").json()["workers"] == 1, "a replacement worker")
        assert pool.pids() != first and pool.crashes == 0, "stopped on purpose, not a crash"
        assert post(base, "/v1/repair", {"text": "it&#39;s"}).json()["repaired"] == "it's"


def test_concurrent_requests_all_succeed(url: str) -> None:
    results: list[int] = []

    def one(i: int) -> None:
        results.append(post(url, "/v1/check", {"text": f"Story {i}. " + TEXT}).status_code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.3.2.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")


def test_cli_refuses_non_loopback_without_a_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "UNSPIN_API_KEY"}
    r = subprocess.run(
        [sys.executable, "-m", "unspin", "serve", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2
    assert "UNSPIN_API_KEY" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "unspin", "serve", "--pack", "/nonexistent/pack"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2 and "no such language pack" in r.stderr


def test_server_without_a_pack_still_repairs(tmp_path) -> None:
    with running(ServeConfig(pack_dir=str(tmp_path))) as base:
        h = httpx.get(f"{base}/healthz").json()
        assert h["pack"] is None and h["pack_error"]
        assert post(base, "/v1/repair", {"text": "it&#39;s"}).json()["repaired"] == "it's"
        err = assert_error(post(base, "/v1/check", {"text": TEXT}), 503, "no_pack")
        assert "--pack" in err["message"]
    assert json.loads(json.dumps(h))  # healthz is plain JSON


def _children(pid: int) -> list[int]:
    return [int(c) for c in (Path("/proc") / str(pid) / "task" / str(pid) / "children").read_text().split()]


def test_cli_serves_until_stopped(tmp_path) -> None:
    """The real command: starts, answers on loopback, stops on SIGTERM, and so do its engine processes."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "UNSPIN_API_KEY"}
    cmd = [sys.executable, "-m", "unspin", "serve", "--port", str(port), "--pack", str(serve_pack_dir())]
    cmd += ["--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert health["pack"] and health["workers"] == 2
        r = post(f"http://127.0.0.1:{port}", "/v1/repair", {"text": "St Anne & # 39 s"})
        assert r.json()["repaired"] == "St Anne's"
        workers = _children(proc.pid)
        assert len(workers) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    wait_until(lambda: not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "the engine processes to stop")


# --- /v1/trace with a real index built here from the articles in serve_helpers -----------------------


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = build_index(tmp_path_factory.mktemp("refs"), serve_pack_dir())
    with running(ServeConfig(pack_dir=str(serve_pack_dir()), index_dir=str(index), timeout=120)) as base:
        yield base


def _inside(start: int | None, end: int | None, lo: int, hi: int) -> bool:
    return start is None or (end is not None and lo <= start < end <= hi)


def assert_trace_offsets(text: str, trace: list[dict]) -> None:
    for cand in trace:
        assert 0 <= cand["score"] <= 1 and 0 <= cand["confidence"] <= 1
        assert bool(cand["passages"]) == cand["is_source"], "passages only for a confident source"
        for p in cand["passages"]:
            assert 0 <= p["copy_start"] < p["copy_end"] <= len(text)
            assert p["source_text"].strip() and len(p["source_text"]) == p["source_end"] - p["source_start"]
        for f in cand["changed_facts"]:
            if f["change"] != "missing":
                assert text[f["copy_start"] : f["copy_end"]] == f["copy"], f
            # A fact lies inside one passage on each side; its source offsets index the whole source.
            home = [
                p
                for p in cand["passages"]
                if _inside(f["copy_start"], f["copy_end"], p["copy_start"], p["copy_end"])
                and _inside(f["source_start"], f["source_end"], p["source_start"], p["source_end"])
            ]
            assert home, f
            if f["change"] != "added":
                lo = home[0]["source_start"]
                assert home[0]["source_text"][f["source_start"] - lo : f["source_end"] - lo] == f["source"], f


def test_health_reports_the_index(traced: str) -> None:
    h = httpx.get(f"{traced}/healthz").json()
    assert h["index"] and h["index_documents"] == 5 and h["index_error"] is None


def test_trace_finds_the_source_and_its_changed_facts(traced: str) -> None:
    text = "😀 " + SPUN  # a character outside the BMP first: offsets are code points
    d = post(traced, "/v1/trace", {"text": text, "top": 5}).json()
    assert d["version"] == 1 and "spans" not in d, "no check unless asked"
    ids = [c["id"] for c in d["trace"]]
    assert ids[0] == "harbour-bridge" and len(set(ids)) == len(ids)
    assert "lantern-festival" not in ids and "orchard-frost" not in ids
    assert [c["confidence"] for c in d["trace"]] == sorted((c["confidence"] for c in d["trace"]), reverse=True)
    best = d["trace"][0]
    assert best["is_source"] and not any(c["is_source"] for c in d["trace"][1:])
    assert best["title"] == "Council closes the Harbour Bridge" and best["url"].startswith("https://")
    assert_trace_offsets(text, d["trace"])
    altered = {(f["kind"], f["source"], f["copy"]) for f in best["changed_facts"] if f["change"] == "altered"}
    assert ("number", "33", "34") in altered
    assert any(kind == "name" and "Ortiz" in src and "Ruiz" in cp for kind, src, cp in altered), altered
    # top bounds the candidates.
    assert len(post(traced, "/v1/trace", {"text": SPUN, "top": 1}).json()["trace"]) == 1


def test_trace_with_check_gives_spans_and_source_in_one_answer(traced: str) -> None:
    d = post(traced, "/v1/trace", {"text": SPUN, "check": True, "segments": True}).json()
    checked = post(traced, "/v1/check", {"text": SPUN, "segments": True}).json()
    assert d["score"] == checked["score"] and d["verdict"] == checked["verdict"]
    assert d["trace"][0]["id"] == "harbour-bridge" and d["trace"][0]["is_source"]
    # Inside the passages aligned with the confident source, the spans are the source's wording.
    from_source = [s for s in d["spans"] if "harbour-bridge" in s["why"]]
    assert from_source and all(s in checked["spans"] for s in d["spans"] if s not in from_source)
    assert all(SPUN[s["start"] : s["end"]] == s["text"] and s["original"] for s in from_source)
    assert "trace" not in checked, "/v1/check is unchanged"


def test_trace_of_an_unrelated_text_names_no_source(traced: str) -> None:
    d = post(traced, "/v1/trace", {"text": "A quiet afternoon with tea and a crossword puzzle at home."}).json()
    assert not any(c["is_source"] or c["passages"] for c in d["trace"])


def test_trace_keeps_repairs_and_offsets_in_the_input(traced: str) -> None:
    text = SPUN.replace("Tuesday", "Tuesday &#39;", 1).replace("34", "&amp; 34", 1)
    d = post(traced, "/v1/trace", {"text": text}).json()
    assert d["repairs"] and d["trace"][0]["id"] == "harbour-bridge"
    assert_trace_offsets(text, d["trace"])


@pytest.mark.parametrize(
    ("body", "code"),
    [({"text": SPUN, "top": 0}, 422), ({"text": SPUN, "top": 21}, 422), ({"top": 3}, 422), ({"text": 1}, 422)],
)
def test_trace_bad_bodies(traced: str, body: dict, code: int) -> None:
    assert_error(post(traced, "/v1/trace", body), code, "invalid_request")


def test_trace_concurrent_requests_agree(traced: str) -> None:
    results: list[tuple[int, list[str]]] = []

    def one(i: int) -> None:
        r = post(traced, "/v1/trace", {"text": f"Report {i}. " + SPUN, "top": 5})
        results.append((r.status_code, [c["id"] for c in r.json()["trace"]]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in results] == [200] * 8
    assert all(ids[0] == "harbour-bridge" for _, ids in results)


def test_trace_through_one_worker_gives_the_same_answers(traced: str, tmp_path) -> None:
    index = build_index(tmp_path / "refs", serve_pack_dir())
    config = ServeConfig(pack_dir=str(serve_pack_dir()), index_dir=str(index), workers=1)
    with running(config) as base:
        for body in ({"text": SPUN, "top": 5}, {"text": "😀 " + SPUN, "check": True}):
            assert post(base, "/v1/trace", body).json() == post(traced, "/v1/trace", body).json()


def test_trace_size_limit_and_broken_index(tmp_path) -> None:
    index = build_index(tmp_path / "refs", serve_pack_dir())
    with running(ServeConfig(pack_dir=str(serve_pack_dir()), index_dir=str(index), max_bytes=1000)) as base:
        assert_error(post(base, "/v1/trace", {"text": "x" * 2000}), 413, "payload_too_large")
    (tmp_path / "empty").mkdir()
    with running(ServeConfig(pack_dir=str(serve_pack_dir()), index_dir=str(tmp_path / "empty"))) as base:
        h = httpx.get(f"{base}/healthz").json()
        assert h["index"] is None and "no index at" in h["index_error"]
        err = assert_error(post(base, "/v1/trace", {"text": SPUN}), 503, "no_index")
        assert "unspin index build" in err["message"]


def test_cli_serves_an_index_and_refuses_a_broken_one(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "UNSPIN_API_KEY"}
    (tmp_path / "empty").mkdir()
    cmd = [sys.executable, "-m", "unspin", "serve", "--port", "1", "--pack", str(serve_pack_dir())]
    r = subprocess.run([*cmd, "--index", str(tmp_path / "empty")], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "no index at" in r.stderr and "Traceback" not in r.stderr
