"""The environment of the worker processes unspin starts itself.

The engine's only BLAS work is small matrix-vector products (the vector neighbour index): a
multi-threaded BLAS pool per process costs more than it saves and spins against the other workers
(measured in bench/batch.py: two workers on two cores ran four spinning threads and were slower
together than one alone, 0.44x). So every worker process unspin starts (batch pool, serve pool, Ray
actors, ``unspin pack warm``) gets one BLAS thread, unless the user set the variables. Importing unspin
changes nothing in the host's environment: a pipeline that imports it keeps its own thread settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["THREAD_VARS", "spawning_workers", "thread_vars", "worker_env"]

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def thread_vars() -> dict[str, str]:
    """The thread limits a worker gets: one thread, or what the user set."""
    return {var: os.environ.get(var, "1") for var in THREAD_VARS}


def worker_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a worker started with ``subprocess``: ``base`` (default: this process's)
    with the thread limits added where the user has not set them."""
    env = dict(os.environ if base is None else base)
    for var, value in thread_vars().items():
        env.setdefault(var, value)
    return env


@contextmanager
def spawning_workers() -> Iterator[None]:
    """While inside, processes started by ``multiprocessing`` ("spawn": a fresh interpreter, which reads
    the variables before numpy starts its pool) inherit the thread limits; the environment is restored
    on exit. Keep the pool's whole life inside: a spawn pool may start workers on any submit."""
    added = {var: value for var, value in thread_vars().items() if var not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for var in added:
            os.environ.pop(var, None)
