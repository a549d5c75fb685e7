"""`unspin batch --engine ray`: the same chunks, checked on Ray Data, so a cluster runs what a laptop runs.

The driver reads the inputs and numbers the records exactly as the local engine does (that is what
makes runs resumable), and commits each chunk's rows as one atomic output part; only the checking
moves to Ray. Chunks go to Ray Data in windows of ``WINDOW`` chunks, which bounds the driver's memory
whatever the input size; within a window, ``map_batches`` runs a pool of actors that each load the
language pack once (memory-mapped) and open the trace index, like the local workers. A sharded trace
index (``unspin index build --shards N``) is served by one actor per shard, started here and queried
scatter-gather by the checking actors.

Ray is an optional extra (``pip install unspin[ray]``). ``ray.init`` joins the cluster named by
``RAY_ADDRESS`` when it is set, else starts a local instance with ``workers`` CPUs.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from ..textio import InputError
from ..workers import thread_vars
from . import _check_chunk, _init_worker
from .sources import Record

__all__ = ["WINDOW", "run_on_ray"]

WINDOW = 256  # chunks per Ray Data window (~8k records at 32 per chunk)


def _encode(chunk: list[Record]) -> str:
    return json.dumps(
        [[r.index, r.id, r.text, r.error, r.meta, r.html and base64.b64encode(r.html).decode()] for r in chunk],
        ensure_ascii=False,
    )


def _decode(payload: str) -> list[Record]:
    return [
        Record(i, rid, text, error, meta, html and base64.b64decode(html))
        for i, rid, text, error, meta, html in json.loads(payload)
    ]


class _Checker:
    """A Ray actor: one pack (and index connection) per actor, reports for one chunk per call."""

    def __init__(
        self, mode: str, pack_dir: str | None, index_dir: str | None, phrases: list[str] | None = None
    ) -> None:
        from ..trace.shards import is_sharded

        sharded = index_dir is not None and is_sharded(index_dir)
        _init_worker(pack_dir, None if sharded else index_dir, phrases)
        if sharded:  # the shards are actors the driver started: query them, do not open them again
            from .. import batch
            from ..trace.shards import RayShards

            batch._WORKER_INDEX = RayShards(index_dir, batch._WORKER_PACK)
        self.mode = mode

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        rows = [json.dumps(_check_chunk(_decode(p), self.mode), ensure_ascii=False) for p in batch["payload"]]
        return {"no": list(batch["no"]), "rows": rows}


def _windows(todo: Iterable[tuple[int, list[Record]]], size: int) -> Iterator[list[tuple[int, list[Record]]]]:
    it = iter(todo)
    while window := list(islice(it, size)):
        yield window


def run_on_ray(
    todo: Iterable[tuple[int, list[Record]]],
    commit: Callable[[int, list[dict[str, Any]]], None],
    mode: str,
    pack_dir: str | None,
    index_dir: str | None,
    workers: int,
    window: int = WINDOW,
    phrases: list[str] | None = None,
) -> None:
    """Check every ``(chunk number, records)`` of ``todo`` on Ray Data and ``commit`` its rows."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise InputError("--engine ray needs Ray: pip install 'unspin[ray]'") from None
    started = False
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        env = {"env_vars": thread_vars()}  # one BLAS thread per actor (unspin.workers)
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR, "runtime_env": env}
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, **quiet)
        started = True
    servers = None
    if index_dir is not None:
        from ..pack import load
        from ..trace import IndexError_
        from ..trace.shards import RayShards, is_sharded

        if is_sharded(index_dir):
            try:  # one actor per shard, alive for the run; the checking actors find them by name
                servers = RayShards(index_dir, load(pack_dir), pack_dir, start=True)
            except IndexError_ as exc:
                raise InputError(str(exc)) from None
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ctx.execution_options.preserve_order = False  # parts are committed by number, in any order
    try:
        for chunk_window in _windows(todo, window):
            ds = ray.data.from_items([{"no": no, "payload": _encode(chunk)} for no, chunk in chunk_window])
            checked = ds.map_batches(
                _Checker,
                fn_constructor_kwargs={"mode": mode, "pack_dir": pack_dir, "index_dir": index_dir, "phrases": phrases},
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=min(workers, len(chunk_window))),
                num_cpus=1,
            )
            for batch in checked.iter_batches(batch_size=1, batch_format="default"):
                for no, rows in zip(batch["no"], batch["rows"], strict=True):
                    commit(int(no), json.loads(rows))
    finally:
        if servers is not None:
            for actor in servers.actors:
                ray.kill(actor)
        if started:
            ray.shutdown()
