"""The engine pool: worker processes (``worker.py``) fed from one FIFO queue by the HTTP process.

Why this shape: a check is ~30-40 ms of pure-Python CPU (GIL-bound), so one process cannot use two
cores, and engine threads in one process only take turns on the GIL. Two server processes do use both
cores, but the kernel hands connections to them unevenly, so one process's queue is longer than the
other's and the slowest requests wait in the longer one. Here there is one HTTP process (parsing,
limits, cache) and ``size`` engine processes, and every request waits in the same line: the next job
goes to whichever worker is free first.

* **Bounded**: at most ``size + queue`` jobs are running or waiting; more get 503 ``busy`` at once.
* **Time limit**: a job still waiting when its request's time is up is dropped from the queue; a job
  still running is stopped by killing its worker (its answer could only come too late, and the core
  is better spent on the queue) and the worker is replaced.
* **Crashes**: a worker that dies mid-job fails that job only (500 ``worker_crashed``); a new worker
  takes its place, the other workers and the queue carry on. Workers that fail to start are retried
  with a growing delay; while none is running, requests get 503 ``engine_unavailable`` with the reason.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import pickle
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any

from ..workers import worker_env
from .errors import ApiError
from .worker import HEADER

__all__ = ["EnginePool", "default_workers"]

START_TIMEOUT = 300.0  # seconds a worker may take to load the pack before it counts as failed
STOP_TIMEOUT = 10.0  # seconds a worker may take to finish its job and exit at shutdown
MAX_BACKOFF = 30.0


def default_workers() -> int:
    """One engine process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Job:
    __slots__ = ("future", "payload", "seq", "worker")

    def __init__(self, seq: int, payload: dict[str, Any], future: asyncio.Future[bytes]) -> None:
        self.seq, self.payload, self.future = seq, payload, future
        self.worker: _Worker | None = None


class _Worker:
    __slots__ = ("job", "killed", "pid", "proc", "reader", "ready", "writer")

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.ready = False
        self.killed = False  # stopped on purpose (a timed-out job, shutdown): not a crash
        self.job: _Job | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.WriteTransport | None = None

    def send(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(HEADER.pack(len(data)) + data)

    def kill(self, on_purpose: bool = True) -> None:
        self.killed = self.killed or on_purpose
        if self.proc.poll() is None:
            self.proc.kill()


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    try:
        head = await reader.readexactly(HEADER.size)
        return pickle.loads(await reader.readexactly(HEADER.unpack(head)[0]))
    except asyncio.IncompleteReadError:
        return None


class EnginePool:
    """``size`` engine worker processes and the FIFO queue in front of them (see the module docstring)."""

    def __init__(self, size: int, queue: int, worker_config: dict[str, Any]) -> None:
        self.size, self.queue_limit = max(1, size), max(0, queue)
        self.worker_config = worker_config
        self.waiting: deque[_Job] = deque()
        self.workers: list[_Worker] = []
        self.closed = False
        self.start_error: str | None = None  # why the last worker failed to start, until one starts
        self.failures = 0  # workers in a row that failed to start (the retry delay grows with it)
        self.crashes = 0  # workers that died unexpectedly since the pool started
        self.dispatched: deque[int] = deque(maxlen=4096)  # job numbers in the order workers took them
        self._seq = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    # --- state -------------------------------------------------------------------------------------

    @property
    def ready(self) -> int:
        """Workers that have loaded the pack and take jobs."""
        return sum(w.ready and not w.killed for w in self.workers)

    @property
    def running(self) -> int:
        return sum(w.job is not None for w in self.workers)

    def pids(self) -> list[int]:
        return [w.pid for w in self.workers]

    def busy_pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.job is not None]

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers and wait until each has loaded the pack (or failed to)."""
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    async def close(self) -> None:
        """Refuse waiting jobs, let running ones finish (bounded), stop every worker."""
        self.closed = True
        while self.waiting:
            job = self.waiting.popleft()
            if not job.future.done():
                job.future.set_exception(ApiError(503, "unavailable", "the server is shutting down"))
        for w in list(self.workers):
            if w.writer is not None:
                w.writer.close()  # end of input: the worker exits after the job in hand
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_TIMEOUT
        for w in list(self.workers):
            try:
                await asyncio.to_thread(w.proc.wait, max(0.1, deadline - loop.time()))
            except subprocess.TimeoutExpired:
                w.kill()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for w in list(self.workers):
            w.kill()
            await asyncio.to_thread(w.proc.wait)

    def _spawn(self) -> asyncio.Future[None]:
        """Start one worker; the future is done once it is ready or has failed to start."""
        env = {k: v for k, v in os.environ.items() if k != "UNSPIN_API_KEY"}  # workers never see requests' keys
        # The worker imports this very unspin, whatever the current directory or install.
        here = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
        env = worker_env(env)  # one BLAS thread per worker, as in `unspin batch` (unspin.workers)
        proc = subprocess.Popen(
            [sys.executable, "-m", "unspin.serve.worker", json.dumps(self.worker_config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        worker = _Worker(proc)
        self.workers.append(worker)
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.get_running_loop().create_task(self._life(worker, started))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return started

    async def _life(self, w: _Worker, started: asyncio.Future[None]) -> None:
        """Everything one worker process does, from start to exit; then its replacement."""
        loop = asyncio.get_running_loop()
        failed_to_start: str | None = None
        try:
            assert w.proc.stdout is not None and w.proc.stdin is not None
            w.reader = asyncio.StreamReader(limit=2**16)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(w.reader), w.proc.stdout)
            w.writer, _ = await loop.connect_write_pipe(asyncio.BaseProtocol, w.proc.stdin)
            try:
                hello = await asyncio.wait_for(_read_frame(w.reader), START_TIMEOUT)
            except TimeoutError:
                hello = ("failed", f"did not load the language pack within {START_TIMEOUT:g} s")
            if not (isinstance(hello, tuple) and hello[:1] == ("ready",)):
                failed_to_start = hello[1] if isinstance(hello, tuple) and hello[:1] == ("failed",) else "exited"
                return
            w.ready, self.failures, self.start_error = True, 0, None
            if not started.done():
                started.set_result(None)
            self._dispatch()
            while True:
                message = await _read_frame(w.reader)
                if message is None:
                    return
                seq, answer = message
                job, w.job = w.job, None
                if job is not None and job.seq == seq and not job.future.done():
                    if answer[0] == "ok":
                        job.future.set_result(answer[1])
                    else:
                        job.future.set_exception(ApiError(answer[1], answer[2], answer[3]))
                self._dispatch()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a garbled frame, a pipe error: treat as a crash of this worker
            failed_to_start = None if w.ready else f"{type(exc).__name__}: {exc}"
            w.kill(on_purpose=False)
        finally:
            await self._bury(w, failed_to_start, started)

    async def _bury(self, w: _Worker, failed_to_start: str | None, started: asyncio.Future[None]) -> None:
        if not w.ready and failed_to_start is not None:
            w.kill(on_purpose=False)  # it said why it cannot start, or took too long
        try:
            code = await asyncio.to_thread(w.proc.wait, 5)
        except subprocess.TimeoutExpired:  # stdout closed but still running: not a worker we can use
            w.kill(on_purpose=False)
            code = await asyncio.to_thread(w.proc.wait)
        if w.writer is not None:
            w.writer.close()
        if w in self.workers:
            self.workers.remove(w)
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        job, w.job = w.job, None
        if job is not None and not job.future.done():
            job.future.set_exception(
                ApiError(
                    500,
                    "worker_crashed",
                    f"the engine process analysing this text stopped unexpectedly ({how}); it has been replaced "
                    "and other requests are unaffected. If this text does it again, please report it",
                )
            )
        if not started.done():
            started.set_result(None)
        if self.closed:
            return
        delay = 0.0
        if not w.ready and not w.killed:
            self.failures += 1
            self.start_error = f"the engine process failed to start ({failed_to_start or how})"
            delay = min(MAX_BACKOFF, 0.5 * 2 ** (self.failures - 1))
            print(f"unspin: warning: {self.start_error}; retrying in {delay:g} s", file=sys.stderr)
        elif not w.killed:
            self.crashes += 1
            print(f"unspin: warning: an engine process stopped unexpectedly ({how}); replacing it", file=sys.stderr)
        if delay:
            await asyncio.sleep(delay)
        if not self.closed:
            self._spawn()

    # --- jobs --------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Hand waiting jobs, oldest first, to idle workers."""
        while self.waiting:
            worker = next((w for w in self.workers if w.ready and not w.killed and w.job is None), None)
            if worker is None:
                return
            job = self.waiting.popleft()
            if job.future.done():
                continue
            worker.job, job.worker = job, worker
            self.dispatched.append(job.seq)
            worker.send((job.seq, job.payload))

    def _abandon(self, job: _Job) -> None:
        """The request gave up (time limit, cancelled): forget the job, or stop it where it runs."""
        if job.worker is None:
            try:
                self.waiting.remove(job)
            except ValueError:
                pass
        elif job.worker.job is job:
            job.worker.kill()  # its replacement is started when the process is gone

    async def run(self, payload: dict[str, Any], timeout: float) -> bytes:
        """The worker's answer (report JSON bytes) to ``payload``; ApiError for busy, timeout, crash."""
        if self.closed:
            raise ApiError(503, "unavailable", "the server is shutting down")
        if self.start_error is not None and self.ready == 0:
            raise ApiError(503, "engine_unavailable", f"{self.start_error}; retrying, try again later")
        in_flight = len(self.waiting) + self.running
        if in_flight >= self.size + self.queue_limit:
            raise ApiError(503, "busy", f"the server is busy ({in_flight} requests in progress); retry shortly")
        job = _Job(next(self._seq), payload, asyncio.get_running_loop().create_future())
        self.waiting.append(job)
        self._dispatch()
        try:
            return await asyncio.wait_for(job.future, timeout)
        except TimeoutError:
            self._abandon(job)
            raise ApiError(
                504,
                "timeout",
                f"the text took longer than the {timeout:g} s limit; send a shorter text or use `unspin batch`",
            ) from None
        except asyncio.CancelledError:
            self._abandon(job)
            raise
