"""The channel table, precomputed: the originals of every common word, computed once per pack.

Working out a word's possible originals (lemmatise, reverse thesaurus, re-inflect, vector
neighbours, costs) takes milliseconds, against microseconds for the decoding that follows. A process
memoises them, but each new process (a batch worker, a server) starts cold and spends most of its
first documents there: measured, a cold check ran at 0.01 MB/s against 0.1 MB/s warm, and two batch
workers were no faster than one because each paid the warm-up.

``unspin pack warm`` (``unspin batch`` suggests it when the cache is missing) computes the originals of
every word the pack's vocabulary saw at least ``MIN_COUNT`` times, in parallel, and writes them to a
cache file beside the user's other caches; every process then starts warm by loading it. The file
is keyed by the pack's identity (not its path), the unspin and lemminflect versions, the channel's
code and its parameters, so a changed pack or channel simply misses the cache. Answers are
identical with and without it: it holds exactly what ``channel.compute_originals`` returns.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version as _version
from pathlib import Path

import numpy as np

from .. import __version__
from ..pack import pack_identity, substitutes, thesaurus, vectors
from . import channel, neighbours

__all__ = ["MIN_COUNT", "cache_path", "load", "warm"]

MIN_COUNT = 100  # ~40 k words for the default pack: the vocabulary of nearly every token in news
FORMAT = 3  # 2: substitutes and WordNet-aware costs; 3: keyed by the pack's identity and the code
CHANNEL_PARTS = ("lm.bin", "vocab/", "thesaurus/", "vectors/", "substitutes/")


# The modules whose code decides what `channel.compute_originals` returns: their source is part of
# the cache's key, so an edited channel misses the cache instead of reading stale answers.
_CODE = (channel, neighbours, thesaurus, substitutes, vectors)


def _identity(pack) -> str:
    """A digest of what the cached answers depend on: the pack's identity (its files' hashes), the
    unspin and lemminflect versions, the channel's code and its parameters; not where the pack lies."""
    code = hashlib.sha256()
    for module in _CODE:
        code.update(Path(module.__file__).read_bytes())
    params = {
        "format": FORMAT,
        # Only the parts the channel reads: a new spinner table or licence text keeps the cache.
        "pack": pack_identity(pack.manifest, CHANNEL_PARTS),
        "unspin": __version__,
        "lemminflect": _version("lemminflect"),
        "code": code.hexdigest(),
        "channel": [
            channel.ALPHA,
            channel.SIMILARITY_WEIGHT,
            channel.SIMILARITY_FLOOR,
            channel.VECTOR_COST,
            channel.WORDNET_BONUS,
            channel.SUBSTITUTE_WEIGHT,
            channel.SUBSTITUTE_MISS,
            channel.SUBSTITUTE_COST,
        ],
        "max_candidates": channel.MAX_CANDIDATES,
        "neighbours": [neighbours.K, neighbours.MIN_SIMILARITY, neighbours.MIN_COUNT],
        "function_words": sorted(channel.FUNCTION_WORDS),
    }
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cache_path(pack) -> Path:
    """``$UNSPIN_CACHE_DIR`` or ``$XDG_CACHE_HOME/unspin`` (``~/.cache/unspin``), one file per pack."""
    base = os.environ.get("UNSPIN_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    ) / "unspin"
    name = pack.manifest.get("name", pack.path.name)
    return Path(base) / f"channel-{name}-{_identity(pack)}.pickle"


def load(pack) -> dict[str, list[tuple[float, tuple[str, ...]]]]:
    """The cached table for ``pack`` as a fresh memo dict, or an empty one when there is none."""
    if os.environ.get("UNSPIN_NO_CHANNEL_CACHE"):
        return {}
    try:
        with cache_path(pack).open("rb") as fh:
            table = pickle.load(fh)  # our own file, written by ``warm`` below
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def common_words(pack, min_count: int = MIN_COUNT) -> list[str]:
    vocab = pack.vocab
    words, counts = vocab.words_and_counts()
    return [w for w, c in zip(words, counts.tolist(), strict=True) if c >= min_count and w.isalpha()
            and w not in channel.FUNCTION_WORDS]  # fmt: skip


_WORKER_PACK = None


def _init(pack_dir: str) -> None:
    global _WORKER_PACK
    from ..pack import load

    _WORKER_PACK = load(pack_dir)


def _compute(words: list[str]) -> list[tuple[str, list]]:
    return [(w, channel.compute_originals(_WORKER_PACK, w)) for w in words]


def warm(pack, workers: int | None = None, min_count: int = MIN_COUNT, progress=None) -> dict:
    """Compute and write the cache for ``pack``; returns what was done (words, seconds, bytes, path)."""
    t0 = time.perf_counter()
    words = common_words(pack, min_count)
    workers = workers or os.cpu_count() or 1
    chunks = [words[i : i + 500] for i in range(0, len(words), 500)]
    table: dict[str, list] = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, ctx, initializer=_init, initargs=(str(pack.path),)) as pool:
        for done in pool.map(_compute, chunks):
            table.update(done)
            if progress is not None:
                progress(len(done))
    path = cache_path(pack)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(table, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)  # atomic: a reader sees the old file or the whole new one
    # Tables of this pack for other parameters or an older build are never read again.
    for old in path.parent.glob(f"channel-{pack.manifest.get('name', pack.path.name)}-*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)
    return {
        "path": str(path),
        "words": len(table),
        "candidates": int(np.sum([len(v) for v in table.values()])),
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 1),
    }
