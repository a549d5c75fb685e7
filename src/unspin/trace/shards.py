"""A sharded reference index: N ordinary indexes under one directory, queried scatter-gather.

    DIR/shards.json          {"shards": N, "format": ...}
    DIR/shard-000/ ...       each an ordinary index (SQLite record + tantivy part)

A reference goes to the shard its id hashes to (``stable_hash``), so re-adding an id replaces it
in place and removing it touches one shard. A query gathers collection-wide term statistics from
every shard, asks each for its best candidates under the same weights, and ranks the merged set
(``store.search``): the answers are those of one index holding everything.

For collections beyond one machine the shards are served by Ray actors (``RayShards``), one per
shard, which ``unspin batch --index DIR --engine ray`` starts; the checking actors query them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .features import Fingerprint, stable_hash
from .store import ALIGN_TOP, Candidate, IndexError_, Reference, TraceIndex, search

__all__ = ["SHARDS_FILE", "RayShards", "ShardedIndex", "is_sharded"]

SHARDS_FILE = "shards.json"
SHARDS_FORMAT = 1


def is_sharded(directory: Path | str) -> bool:
    return (Path(directory) / SHARDS_FILE).is_file()


def shard_dirs(directory: Path | str) -> list[Path]:
    meta = Path(directory) / SHARDS_FILE
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        n = int(info["shards"])
        if info.get("format") != SHARDS_FORMAT or n < 1:
            raise ValueError(f"format {info.get('format')!r}, {n} shards")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexError_(f"{meta}: not a usable shard list ({exc}); rebuild the index") from exc
    return [Path(directory) / f"shard-{i:03d}" for i in range(n)]


class _Shards:
    """What a sharded index does with any list of shard objects (local or remote)."""

    shards: list
    pack = None

    def search(self, text: str, top: int = 5, align_top: int = ALIGN_TOP) -> list[Candidate]:
        return search(self.shards, text, self.pack.vocab, top, align_top)

    def source_of(self, cand: Candidate) -> Reference:
        return self.shards[cand.shard].reference(cand.doc)


class ShardedIndex(_Shards):
    """N indexes in one directory, used as one (see the module docstring). A context manager."""

    def __init__(self, directory: Path | str, pack, create: bool = False, shards: int | None = None) -> None:
        self.directory = Path(directory)
        self.pack = pack
        if create and not is_sharded(directory):
            if (self.directory / "index.sqlite").exists():
                raise IndexError_(f"{self.directory}: an unsharded index is already there")
            self.directory.mkdir(parents=True, exist_ok=True)
            meta = {"shards": shards or 1, "format": SHARDS_FORMAT}
            (self.directory / SHARDS_FILE).write_text(json.dumps(meta), encoding="utf-8")
        dirs = shard_dirs(directory)
        if shards is not None and len(dirs) != shards:
            raise IndexError_(f"{self.directory}: holds {len(dirs)} shards, not {shards}")
        self.shards = [TraceIndex(d, pack, create=create) for d in dirs]

    def _shard_of(self, ref_id: str) -> int:
        return stable_hash(ref_id) % len(self.shards)

    @property
    def duplicates(self) -> list[str]:
        """Ids given again while adding, whose earlier record was replaced (one id always goes to one shard)."""
        return [i for shard in self.shards for i in shard.duplicates]

    def add(self, records: Iterable[Reference]) -> int:
        from .store import index_features

        return self.add_fingerprinted((r, *index_features(r.text, self.pack.vocab)) for r in records)

    def add_fingerprinted(self, items: Iterable[tuple[Reference, Fingerprint, str]], batch: int = 1000) -> int:
        """Route each reference to its shard; each shard commits its own batches."""
        queues: list[list] = [[] for _ in self.shards]
        added = 0
        for item in items:
            k = self._shard_of(item[0].id)
            queues[k].append(item)
            if len(queues[k]) >= batch:
                added += self.shards[k].add_fingerprinted(queues[k], batch)
                queues[k] = []
        for k, q in enumerate(queues):
            if q:
                added += self.shards[k].add_fingerprinted(q, batch)
        return added

    def remove(self, ids: Iterable[str]) -> int:
        by_shard: list[list[str]] = [[] for _ in self.shards]
        for i in ids:
            by_shard[self._shard_of(i)].append(i)
        return sum(s.remove(q) for s, q in zip(self.shards, by_shard, strict=True) if q)

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    def ids(self) -> list[str]:
        return [i for s in self.shards for i in s.ids()]

    def info(self) -> dict:
        parts = [s.info() for s in self.shards]
        docs = sum(p["documents"] for p in parts)
        size = sum(p["bytes"] for p in parts)
        return {
            **parts[0],
            "index": str(self.directory),
            "shards": len(parts),
            "documents": docs,
            "fulltext_documents": sum(p["fulltext_documents"] for p in parts),
            "bytes": size,
            "bytes_per_document": round(size / docs) if docs else None,
        }

    def close(self) -> None:
        for s in self.shards:
            s.close()

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- Ray ---------------------------------------------------------------------------------------------


class _ShardServer:
    """A Ray actor holding one shard; serves ``store.search``'s shard interface."""

    def __init__(self, shard_dir: str, pack_dir: str | None) -> None:
        from ..pack import load

        self.index = TraceIndex(shard_dir, load(pack_dir))

    def stats(self, text_terms):
        return self.index.stats(text_terms)

    def candidates(self, weighted, limit):
        return self.index.candidates(weighted, limit)

    def holders(self, rare, limit):
        return self.index.holders(rare, limit)

    def reference(self, doc):
        return self.index.reference(doc)


class _Remote:
    """A shard served by an actor, called like a local one (each call waits for its answer)."""

    def __init__(self, actor) -> None:
        self.actor = actor

    def __getattr__(self, name: str):
        import ray

        method = getattr(self.actor, name)
        return lambda *args: ray.get(method.remote(*args))


def actor_name(directory: Path | str, k: int) -> str:
    return f"unspin-shard-{stable_hash(str(Path(directory).resolve())) & 0xFFFFFFFF:08x}-{k}"


class RayShards(_Shards):
    """A sharded index whose shards are Ray actors: started here (``start``) or found by name."""

    def __init__(self, directory: Path | str, pack, pack_dir: str | None = None, start: bool = False) -> None:
        import ray

        self.directory = Path(directory)
        self.pack = pack
        dirs = shard_dirs(directory)
        if start:
            # Open each shard here first: a wrong pack or format is one clear error, not an actor's.
            for d in dirs:
                TraceIndex(d, pack).close()
            server = ray.remote(num_cpus=0)(_ShardServer)
            self.actors = [
                server.options(name=actor_name(directory, k)).remote(str(d), pack_dir) for k, d in enumerate(dirs)
            ]
        else:
            self.actors = [ray.get_actor(actor_name(directory, k)) for k in range(len(dirs))]
        self.shards = [_Remote(a) for a in self.actors]

    def __len__(self) -> int:
        return sum(s.stats([])[0] for s in self.shards)

    def close(self) -> None:
        pass
