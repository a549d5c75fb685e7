"""The engine pool behind a real server: one FIFO queue for all workers, crashes, limits.

Workers are real processes (children of this test process, see serve_helpers.running_app). To put a
worker in a known state, a test stops it (SIGSTOP) while it holds a job, so that the job can neither
finish nor fail until the test says so (SIGCONT), or kills it (SIGKILL) as a crash would. Nothing here
asserts a duration: tests wait for states of the pool.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from unspin.serve.app import ServeConfig
from unspin.serve.errors import ApiError
from unspin.serve.pool import EnginePool

from .conftest import EXAMPLE
from .serve_helpers import assert_error, running_app, serve_pack_dir, wait_until

TEXT = EXAMPLE.read_text(encoding="utf-8")
LONG = " ".join([TEXT] * 60)  # seconds of engine time: long enough to be caught mid-job


def post(url: str, body: object) -> httpx.Response:
    return httpx.post(f"{url}/v1/check", json=body, timeout=120)


class Call:
    """A request sent from a thread; ``result()`` waits for its answer."""

    def __init__(self, url: str, body: object) -> None:
        self.response: httpx.Response | None = None
        self.thread = threading.Thread(target=self._run, args=(url, body), daemon=True)
        self.thread.start()

    def _run(self, url: str, body: object) -> None:
        self.response = post(url, body)

    def result(self) -> httpx.Response:
        self.thread.join(timeout=300)
        assert self.response is not None, "no answer"
        return self.response


@contextmanager
def server(**options: object) -> Iterator[tuple[str, EnginePool]]:
    config = ServeConfig(pack_dir=str(serve_pack_dir()), cache_bytes=0, **options)  # type: ignore[arg-type]
    with running_app(config) as (url, app):
        yield url, app.state.pool


def stopped_mid_job(pool: EnginePool, busy_before: set[int]) -> int:
    """Wait for a worker not in ``busy_before`` to take a job, stop it there, and return its pid."""
    wait_until(lambda: set(pool.busy_pids()) - busy_before, "a worker to take the job")
    (pid,) = set(pool.busy_pids()) - busy_before
    os.kill(pid, signal.SIGSTOP)
    assert pid in pool.busy_pids(), "stopped while it still held the job"
    return pid


def test_a_worker_killed_mid_request_fails_that_request_only_and_is_replaced() -> None:
    with server(workers=2, queue=8, timeout=120) as (url, pool):
        first = set(pool.pids())
        victim = Call(url, {"text": LONG})
        pid = stopped_mid_job(pool, set())
        # The other worker still answers while this one is stopped.
        assert post(url, {"text": "Story one. " + TEXT}).status_code == 200
        os.kill(pid, signal.SIGKILL)
        err = assert_error(victim.result(), 500, "worker_crashed")
        assert "signal 9" in err["message"] and "replaced" in err["message"]
        wait_until(lambda: httpx.get(f"{url}/healthz").json()["workers"] == 2, "the replacement worker")
        assert pid not in pool.pids() and len(set(pool.pids()) - first) == 1 and pool.crashes == 1
        # The pool is whole again: both workers answer, the same text gives the same report.
        answers = [Call(url, {"text": f"Story {i}. " + TEXT}) for i in range(4)]
        assert [a.result().status_code for a in answers] == [200] * 4
        assert post(url, {"text": TEXT}).json() == post(url, {"text": TEXT}).json()


def test_jobs_waiting_behind_a_crash_run_on_the_replacement() -> None:
    with server(workers=1, queue=4, timeout=120) as (url, pool):
        victim = Call(url, {"text": LONG})
        pid = stopped_mid_job(pool, set())
        waiting = []
        for i in range(3):
            waiting.append(Call(url, {"text": f"Queued {i}. " + TEXT}))
            wait_until(lambda n=i + 1: len(pool.waiting) == n, "the request to be queued")
        os.kill(pid, signal.SIGKILL)
        assert_error(victim.result(), 500, "worker_crashed")
        assert [w.result().status_code for w in waiting] == [200] * 3
        assert list(pool.dispatched) == sorted(pool.dispatched), "taken in the order they came"


def test_one_queue_for_all_workers() -> None:
    """With one worker stuck, every queued request is served by the other: no request waits in a
    line of its own behind the stuck one (as it would with one queue per server process)."""
    with server(workers=2, queue=16, timeout=120) as (url, pool):
        stuck = Call(url, {"text": LONG})
        pid = stopped_mid_job(pool, set())
        try:
            calls = [Call(url, {"text": f"Story {i}. " + TEXT}) for i in range(8)]
            assert [c.result().status_code for c in calls] == [200] * 8
            assert pid in pool.busy_pids(), "the stuck worker took none of them"
        finally:
            os.kill(pid, signal.SIGCONT)
        assert stuck.result().status_code == 200
        assert list(pool.dispatched) == sorted(pool.dispatched), "first come, first served"
        assert len(pool.dispatched) == 9


def test_busy_is_a_json_503_and_the_queue_drains() -> None:
    with server(workers=1, queue=1, timeout=120) as (url, pool):
        running = Call(url, {"text": LONG})
        pid = stopped_mid_job(pool, set())
        try:
            queued = Call(url, {"text": "Waiting. " + TEXT})
            wait_until(lambda: len(pool.waiting) == 1, "the request to be queued")
            err = assert_error(post(url, {"text": "One too many. " + TEXT}), 503, "busy")
            assert "busy" in err["message"]
        finally:
            os.kill(pid, signal.SIGCONT)
        assert running.result().status_code == 200 and queued.result().status_code == 200
        assert post(url, {"text": "Room again. " + TEXT}).status_code == 200


def test_time_limit_while_waiting_and_while_running() -> None:
    """Both requests run out of time behind a stopped worker: the running job's worker is killed
    and replaced, the waiting job is dropped from the queue and never runs."""
    with server(workers=1, queue=4, timeout=3) as (url, pool):
        running = Call(url, {"text": LONG})
        pid = stopped_mid_job(pool, set())
        queued = Call(url, {"text": "Waiting. " + TEXT})
        wait_until(lambda: len(pool.waiting) == 1, "the request to be queued")
        assert_error(running.result(), 504, "timeout")
        # It arrived milliseconds after the first; the replacement worker needs to load the pack.
        assert_error(queued.result(), 504, "timeout")
        assert len(pool.dispatched) == 1, "the timed-out waiting job never ran"
        wait_until(lambda: httpx.get(f"{url}/healthz").json()["workers"] == 1, "the replacement worker")
        assert pid not in pool.pids() and pool.crashes == 0
        assert post(url, {"text": "After. " + TEXT}).status_code == 200


def test_a_worker_that_cannot_start_gives_a_clear_503(tmp_path) -> None:
    """The HTTP process found the pack, the worker did not (it went away, say): requests get 503
    ``engine_unavailable`` with the reason while the pool keeps retrying."""

    async def scenario() -> tuple[str | None, ApiError]:
        pool = EnginePool(1, 0, {"pack_dir": str(tmp_path / "gone"), "load_pack": True, "index_dir": None})
        await pool.start()
        try:
            with pytest.raises(ApiError) as caught:
                await pool.run({"op": "repair", "text": "hi"}, 10)
            return pool.start_error, caught.value
        finally:
            await pool.close()

    reason, err = asyncio.run(scenario())
    assert reason and "failed to start" in reason
    assert err.status == 503 and err.code == "engine_unavailable" and "failed to start" in err.message
