"""The reference index: one SQLite file per index directory, safe against a crash mid-write.

SQLite is embedded (no server), transactional and everywhere. Each batch of added documents is one
transaction in write-ahead-log mode, so a process killed mid-build leaves the index as of its last
committed batch: it opens, answers, and a rerun of the same ``add`` continues (ids already present
are replaced, not duplicated).

Tables:
- ``docs``: one row per reference, with its text (zlib), metadata, anchor hashes and skeleton sketch;
- ``postings``: (anchor, doc) pairs, clustered by anchor, the inverted index that finds candidates;
- ``meta``: format and feature versions, the language pack it was built with, the document count.
"""

from __future__ import annotations

import math
import sqlite3
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import FEATURES_VERSION, Fingerprint, fingerprint

__all__ = ["Candidate", "IndexError_", "Reference", "TraceIndex"]

DB_NAME = "index.sqlite"
FORMAT_VERSION = 1
# An anchor posted in more documents than this is too common to find anything ("January", "United").
MAX_POSTINGS = 2000
# How many candidates the anchors pass on to re-ranking by skeleton overlap.
RERANK = 30
QUERY_ANCHORS = 160
# When a candidate is named as a source (``Candidate.is_source``): a score of at least MIN_SCORE and
# one of the copy's anchors that at most RARE_DF references hold. Measured with bench/trace.py-style
# queries among 288k Wikipedia articles: spun copies whose source is absent got a (wrong) source
# 5.5 % of the time (9 % on the score alone: template siblings such as sister ships), spun copies
# whose source is present had it named 97 % of the time; RARE_DF 20 gives 3.5 % / 88 %.
MIN_SCORE = 0.3
SHRINK = 8
RARE_DF = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    url TEXT, title TEXT, date TEXT,
    words INTEGER NOT NULL,
    text BLOB NOT NULL,
    anchors BLOB NOT NULL,
    sketch BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    feature INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (feature, doc)
) WITHOUT ROWID;
"""


class IndexError_(Exception):
    """An index that cannot be opened or used (missing, another format, another language pack)."""


@dataclass(frozen=True, slots=True)
class Reference:
    """A document of the reference collection."""

    id: str
    text: str
    url: str | None = None
    title: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A reference retrieved for a query, with the evidence that it is the source."""

    doc: int
    id: str
    anchor_share: float  # share of the query's anchor weight this reference contains
    shared: int  # sampled skeleton shingles the query and this reference have in common
    query_size: int  # sampled skeleton shingles of the query
    size: int  # ... and of this reference
    rare_anchors: int = 0  # query anchors this reference holds that at most RARE_DF references hold

    @property
    def is_source(self) -> bool:
        """Enough to name it as a source: a high score, and a name or figure that (nearly) only this
        reference shares with the copy. Articles cut from one template ("USS PGM-4" and "USS PGM-1",
        county lists) share most of their skeleton, but not their own names."""
        return self.score >= MIN_SCORE and self.rare_anchors >= 1

    @property
    def score(self) -> float:
        """In [0, 1]: the share of the shorter text's skeleton found in the other.

        The shorter text, because a copy may hold only an excerpt of its source or the source only
        the start of a longer copy; shrunk by ``SHRINK`` so a stub sharing a handful of generic
        shingles by chance does not score high.
        """
        return round(self.shared / (min(self.query_size, self.size) + SHRINK), 4)


def _pack_name(pack) -> str:
    return pack.label


class TraceIndex:
    """A reference collection on disk; see the module docstring. Use as a context manager."""

    def __init__(self, directory: Path | str, pack, create: bool = False) -> None:
        self.directory = Path(directory)
        self.pack = pack
        self.duplicates: list[str] = []  # ids given again while adding, whose earlier record was replaced
        db = self.directory / DB_NAME
        if self.directory.exists() and not self.directory.is_dir():
            raise IndexError_(f"{self.directory}: is a file; an index is a directory (give a new or existing one)")
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
        elif not db.is_file():
            raise IndexError_(f"no index at {self.directory} (build one with: unspin index build REFS... --index DIR)")
        try:
            self.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA journal_size_limit=67108864")  # the WAL is truncated back to 64 MiB
            self.conn.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise IndexError_(f"{db}: not a usable index ({exc})") from exc
        self._check_meta(create)

    # --- lifecycle -------------------------------------------------------------------------------

    def _meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta"))

    def _check_meta(self, create: bool) -> None:
        meta = self._meta()
        expected = {"format": str(FORMAT_VERSION), "features": str(FEATURES_VERSION), "pack": _pack_name(self.pack)}
        if not meta:
            if not create:
                raise IndexError_(f"{self.directory}: empty index (it was never built)")
            with self._transaction():
                self.conn.executemany("INSERT INTO meta VALUES (?, ?)", [*expected.items(), ("documents", "0")])
            return
        for key, value in expected.items():
            if meta.get(key) != value:
                raise IndexError_(
                    f"{self.directory}: built with {key} {meta.get(key)!r}, this unspin uses {value!r};"
                    " rebuild the index"
                )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> TraceIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _transaction(self):
        conn = self.conn

        class _Tx:
            def __enter__(self_inner):
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, kind, value, tb):
                conn.execute("COMMIT" if kind is None else "ROLLBACK")

        return _Tx()

    # --- writing ---------------------------------------------------------------------------------

    def add(self, records: Iterable[Reference]) -> int:
        """Add (or replace, by id) references, fingerprinting them here. Returns how many."""
        return self.add_fingerprinted((ref, fingerprint(ref.text, self.pack.vocab)) for ref in records)

    def add_fingerprinted(self, items: Iterable[tuple[Reference, Fingerprint]], batch: int = 1000) -> int:
        """Add references with their fingerprints; one transaction per ``batch``. Returns how many."""
        added = 0
        pending: list[tuple[Reference, Fingerprint]] = []
        for item in items:
            pending.append(item)
            if len(pending) >= batch:
                added += self._write(pending)
                pending = []
        if pending:
            added += self._write(pending)
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return added

    def _write(self, items: list[tuple[Reference, Fingerprint]]) -> int:
        conn = self.conn
        # One id twice in a batch: the last one wins, as it would across batches (and across runs).
        last = {ref.id: i for i, (ref, _) in enumerate(items)}
        if len(last) < len(items):
            seen = set(last.values())
            self.duplicates.extend(ref.id for i, (ref, _) in enumerate(items) if i not in seen)
            items = [item for i, item in enumerate(items) if i in seen]
        with self._transaction():
            removed = self._delete(conn, [ref.id for ref, _ in items])
            rows = []
            for ref, fp in items:
                cur = conn.execute(
                    "INSERT INTO docs (id, url, title, date, words, text, anchors, sketch) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        ref.id,
                        ref.url,
                        ref.title,
                        ref.date,
                        fp.words,
                        zlib.compress(ref.text.encode("utf-8"), 6),
                        fp.posted().tobytes(),
                        fp.sketch.tobytes(),
                    ),
                )
                doc = cur.lastrowid
                rows.extend((f, doc) for f in fp.posted().tolist())
            rows.sort()  # clustered inserts: far fewer B-tree pages touched
            conn.executemany("INSERT INTO postings VALUES (?, ?)", rows)
            self._bump(len(items) - removed)
        return len(items)

    def _bump(self, delta: int) -> None:
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'documents'", (delta,))

    @staticmethod
    def _delete(conn: sqlite3.Connection, ids: list[str]) -> int:
        removed = 0
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for doc, anchors in conn.execute(f"SELECT doc, anchors FROM docs WHERE id IN ({marks})", chunk).fetchall():
                feats = np.frombuffer(anchors, dtype=np.int64)
                conn.executemany("DELETE FROM postings WHERE feature = ? AND doc = ?", [(int(f), doc) for f in feats])
                conn.execute("DELETE FROM docs WHERE doc = ?", (doc,))
                removed += 1
        return removed

    def remove(self, ids: Iterable[str]) -> int:
        """Remove references by id (unknown ids are ignored); returns how many were removed."""
        ids = list(ids)
        with self._transaction():
            removed = self._delete(self.conn, ids)
            self._bump(-removed)
        return removed

    # --- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._meta()["documents"])

    def info(self) -> dict:
        """What the index holds, for `unspin index info`."""
        meta = self._meta()
        files = [self.directory / DB_NAME, self.directory / (DB_NAME + "-wal")]
        size = sum(f.stat().st_size for f in files if f.exists())
        docs = int(meta["documents"])
        (postings,) = self.conn.execute("SELECT count(*) FROM postings").fetchone()
        return {
            "index": str(self.directory),
            "documents": docs,
            "postings": postings,
            "bytes": size,
            "bytes_per_document": round(size / docs) if docs else None,
            "format": int(meta["format"]),
            "features": int(meta["features"]),
            "pack": meta["pack"],
        }

    def reference(self, doc: int) -> Reference:
        row = self.conn.execute("SELECT id, text, url, title, date FROM docs WHERE doc = ?", (doc,)).fetchone()
        if row is None:
            raise KeyError(doc)
        return Reference(row[0], zlib.decompress(row[1]).decode("utf-8"), row[2], row[3], row[4])

    def ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM docs ORDER BY doc")]

    def search(self, text: str, top: int = 5, fp: Fingerprint | None = None) -> list[Candidate]:
        """The references most likely to be the source of ``text``, best first.

        Anchors gather candidates, each weighted by its rarity in the collection (idf); the best
        ``RERANK`` are re-ranked by how much of the query's skeleton they contain.
        """
        fp = fp if fp is not None else fingerprint(text, self.pack.vocab)
        n = max(len(self), 1)
        scores: dict[int, float] = defaultdict(float)
        rare: dict[int, int] = defaultdict(int)
        total = 0.0
        query = self.conn.execute
        # The query's smallest anchor hashes: where a reference's posted sample lies (features.py).
        for feature in fp.anchors[:QUERY_ANCHORS].tolist():
            docs = query("SELECT doc FROM postings WHERE feature = ? LIMIT ?", (feature, MAX_POSTINGS + 1)).fetchall()
            df = len(docs)
            idf = math.log((n + 1) / (min(df, MAX_POSTINGS) + 0.5))
            total += idf
            if df == 0 or df > MAX_POSTINGS:
                continue
            for (doc,) in docs:
                scores[doc] += idf
                if df <= RARE_DF:
                    rare[doc] += 1
        if not scores:
            return []
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:RERANK]
        marks = ",".join("?" * len(best))
        rows = query(f"SELECT doc, id, sketch FROM docs WHERE doc IN ({marks})", [d for d, _ in best]).fetchall()
        q = fp.sketch
        out = []
        for doc, ref_id, sketch in rows:
            theirs = np.frombuffer(sketch, dtype=np.uint32)
            shared = np.intersect1d(q, theirs, assume_unique=True).size
            share = scores[doc] / total if total else 0.0
            out.append(Candidate(doc, ref_id, share, shared, q.size, theirs.size, rare[doc]))
        out.sort(key=lambda c: (-c.score, -c.anchor_share, c.id))
        return out[:top]
