"""The reference index: one SQLite file (the record) and one tantivy index (retrieval) per directory.

SQLite is embedded (no server), transactional and everywhere. Each batch of added documents is one
transaction in write-ahead-log mode, so a process killed mid-build leaves the index as of its last
committed batch: it opens, answers, and a rerun of the same ``add`` continues (ids already present
are replaced, not duplicated).

Tables:
- ``docs``: one row per reference, with its text (zlib), metadata, anchor hashes and skeleton sketch;
- ``pending``: documents whose full-text entry (``fulltext.py``) is not yet known to be committed;
  written in the same transaction as ``docs``, cleared once tantivy committed, replayed on open;
- ``meta``: format and feature versions, the language pack it was built with, the document count.

Search: tantivy's BM25 over the copy's weighted terms finds ``CANDIDATES`` references; the
fingerprint features and passage alignment re-rank them, and a logistic calibration
(``decide.py``) gives each a ``confidence``.
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..decode.channel import FUNCTION_WORDS
from .align import Passage, align, prepare
from .decide import calibration
from .features import FEATURES_VERSION, POSTED, Fingerprint, fingerprint
from .fulltext import FULLTEXT_FORMAT, Busy, FullText, query_weights

__all__ = ["Candidate", "IndexError_", "Reference", "TraceIndex", "search"]

DB_NAME = "index.sqlite"
FORMAT_VERSION = 2
# How many candidates BM25 passes on to re-ranking, and how many of the re-ranked best are aligned
# passage by passage (the slow, decisive feature).
CANDIDATES = 40
ALIGN_TOP = 2
# A copy's anchor is "rare" when at most RARE_DF references hold it; the RARE_QUERY rarest are
# looked up exactly (their short posting lists), so a candidate lacking the copy's own names shows.
RARE_DF = 20
RARE_QUERY = 16
SHRINK = 8

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
CREATE TABLE IF NOT EXISTS pending (doc INTEGER PRIMARY KEY);
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


@dataclass(slots=True)
class Candidate:
    """A reference retrieved for a query, with the evidence that it is the source."""

    doc: int
    id: str
    bm25: float
    features: dict[str, float]
    shared: int  # sampled skeleton shingles the query and this reference have in common
    query_size: int  # sampled skeleton shingles of the query
    size: int  # ... and of this reference
    confidence: float = 0.0
    is_source: bool = False
    shard: int = 0
    passages: list[Passage] | None = field(default=None, repr=False)

    @property
    def score(self) -> float:
        """In [0, 1]: the share of the shorter text's skeleton found in the other.

        The shorter text, because a copy may hold only an excerpt of its source or the source only
        the start of a longer copy; shrunk by ``SHRINK`` so a stub sharing a handful of generic
        shingles by chance does not score high.
        """
        return round(self.shared / (min(self.query_size, self.size) + SHRINK), 4)


def index_features(text: str, vocab) -> tuple[Fingerprint, str]:
    """What a reference contributes to the index: its fingerprint and its full-text body, both of
    its repaired text (a copy is repaired before it is traced, so both sides are compared alike)."""
    from ..repair import repair_text

    body: list[str] = []
    fp = fingerprint(repair_text(text)[0], vocab, terms=body)
    return fp, " ".join(body)


def _coverage(passages: list[Passage], copy_length: int, source_length: int) -> float:
    """The share of the shorter side covered by aligned passages, each counted by its similarity: a
    copy may hold an excerpt of its source, or a source (a first version, a crawl's first 2,000
    characters) only the start of a copy; and one sentence that happens to share a few words with
    a stranger's is no evidence."""
    copy = sum((p.copy_end - p.copy_start) * p.similarity for p in passages) / max(1, copy_length)
    source = sum((p.source_end - p.source_start) * p.similarity for p in passages) / max(1, source_length)
    return min(1.0, max(copy, source))


# Names and numbers: tokens holding a digit, and capitalised words that are not function words.
_NAME_RE = re.compile(r"[^\W_]*\d[\w.,]*\w|\d|[A-Z][^\W_]*(?:['’][^\W_]+)?")


def _names(sentence: str, vocab) -> set[str]:
    """The names and numbers of a sentence, lower-cased; its first word only when the corpus mostly
    writes it capitalised ("Olsen", not "Several": a spinner may swap that one)."""
    found = _NAME_RE.findall(sentence)
    if found and sentence.lstrip(" \t\n“\"'‘(").startswith(found[0]) and found[0][0].isalpha():
        if vocab.cased_count(found[0].lower()) > vocab.cased_count(found[0]):
            found = found[1:]
    return {m.lower() for m in found if m.lower() not in FUNCTION_WORDS}


LOST_CAP = 4  # numbers_lost counts up to this many


def _names_kept(passages: list[Passage], copy: str, source: str, vocab) -> tuple[float, float]:
    """(names_kept, numbers_lost) of a candidate: the share of the copy's names and numbers, in
    aligned sentences, that the paired source sentence also holds (smoothed by one: a copy with
    none keeps them all; 0 with nothing aligned), and how many of its numbers the paired source
    sentences lack (up to ``LOST_CAP``, as a share of it).

    A spinner swaps common words and leaves names and numbers; a template sibling (another county's
    list of listed buildings, the 26th parallel for the 27th, the next Congress's senators) aligns
    sentence by sentence just as well, but with other names and numbers in the same places. A count
    of lost numbers, not a share: a copy that changed one figure of its source (a changed fact the
    trace must report) loses one; a sibling loses every figure the template varies.
    """
    pairs = [pair for p in passages for pair in p.pairs]
    if not pairs:
        return 0.0, 0.0
    kept = total = lost = 0
    for (cs, ce), (ss, se) in pairs:
        mine = _names(copy[cs:ce], vocab)
        held = mine & _names(source[ss:se], vocab)
        total += len(mine)
        kept += len(held)
        lost += sum(1 for m in mine - held if any(ch.isdigit() for ch in m))
    return (kept + 1) / (total + 1), min(lost, LOST_CAP) / LOST_CAP


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
        try:
            fresh = self._check_meta(create)
            try:
                self.fulltext = FullText(self.directory, self._identity(), create=fresh)
            except ValueError as exc:
                raise IndexError_(str(exc)) from exc
            self._recover()
        except sqlite3.DatabaseError as exc:  # the file opened, but its pages are damaged
            self.conn.close()
            rebuild = "rebuild it with: unspin index build REFS... --index DIR"
            raise IndexError_(f"{self.directory}: the index is damaged ({exc}); {rebuild}") from exc

    # --- lifecycle -------------------------------------------------------------------------------

    def _identity(self) -> dict[str, str]:
        return {"format": str(FORMAT_VERSION), "features": str(FEATURES_VERSION), "pack": self.pack.label}

    def _meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta"))

    def _check_meta(self, create: bool) -> bool:
        """Check the index's recorded identity; True when it was just created."""
        meta = self._meta()
        expected = self._identity()
        if not meta:
            if not create:
                raise IndexError_(f"{self.directory}: empty index (it was never built)")
            with self._transaction():
                self.conn.executemany("INSERT INTO meta VALUES (?, ?)", [*expected.items(), ("documents", "0")])
            return True
        for key, value in expected.items():
            if meta.get(key) != value:
                raise IndexError_(
                    f"{self.directory}: built with {key} {meta.get(key)!r}, this unspin uses {value!r};"
                    " rebuild the index"
                )
        return False

    def _recover(self) -> None:
        """Replay the full-text writes a crash left unconfirmed (see ``fulltext``'s docstring).

        Another process writing holds tantivy's lock: then it is that writer's job, and this one
        reads what is committed."""
        docs = [d for (d,) in self.conn.execute("SELECT doc FROM pending")]
        if not docs:
            return
        present = []
        for i in range(0, len(docs), 500):
            chunk = docs[i : i + 500]
            marks = ",".join("?" * len(chunk))
            present += self.conn.execute(f"SELECT doc, text FROM docs WHERE doc IN ({marks})", chunk).fetchall()
        add = [(doc, index_features(zlib.decompress(t).decode("utf-8"), self.pack.vocab)[1]) for doc, t in present]
        try:
            self.fulltext.write(docs, add)
        except Busy:
            return
        finally:
            self.fulltext.release()
        self._clear_pending(docs)

    def _clear_pending(self, docs: list[int]) -> None:
        with self._transaction():
            self.conn.executemany("DELETE FROM pending WHERE doc = ?", [(d,) for d in docs])

    def close(self) -> None:
        self.fulltext.close()
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
        """Add (or replace, by id) references, computing their features here. Returns how many."""
        return self.add_fingerprinted((ref, *index_features(ref.text, self.pack.vocab)) for ref in records)

    def add_fingerprinted(self, items: Iterable[tuple[Reference, Fingerprint, str]], batch: int = 1000) -> int:
        """Add references with their fingerprints and full-text bodies; one transaction per ``batch``."""
        added = 0
        pending: list[tuple[Reference, Fingerprint, str]] = []
        for item in items:
            pending.append(item)
            if len(pending) >= batch:
                added += self._write(pending)
                pending = []
        if pending:
            added += self._write(pending)
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return added

    def _lock(self) -> None:
        """Take tantivy's write lock before SQLite changes anything: a second writer stops here."""
        try:
            self.fulltext.lock()
        except Busy as exc:
            raise IndexError_(str(exc)) from None

    def _write(self, items: list[tuple[Reference, Fingerprint, str]]) -> int:
        self._lock()
        conn = self.conn
        # One id twice in a batch: the last one wins, as it would across batches (and across runs).
        last = {ref.id: i for i, (ref, _, _) in enumerate(items)}
        if len(last) < len(items):
            seen = set(last.values())
            self.duplicates.extend(ref.id for i, (ref, _, _) in enumerate(items) if i not in seen)
            items = [item for i, item in enumerate(items) if i in seen]
        new: list[tuple[int, str]] = []
        with self._transaction():
            gone = self._delete(conn, [ref.id for ref, _, _ in items])
            for ref, fp, body in items:
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
                new.append((cur.lastrowid, body))
            conn.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(d,) for d in [*gone, *(d for d, _ in new)]])
            self._bump(len(items) - len(gone))
        # SQLite first, then tantivy, then the journal: a crash anywhere leaves journal rows to replay.
        self.fulltext.write(gone, new)
        self._clear_pending([*gone, *(d for d, _ in new)])
        return len(items)

    def _bump(self, delta: int) -> None:
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'documents'", (delta,))

    @staticmethod
    def _delete(conn: sqlite3.Connection, ids: list[str]) -> list[int]:
        removed: list[int] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            docs = [d for (d,) in conn.execute(f"SELECT doc FROM docs WHERE id IN ({marks})", chunk)]
            conn.executemany("DELETE FROM docs WHERE doc = ?", [(d,) for d in docs])
            removed += docs
        return removed

    def remove(self, ids: Iterable[str]) -> int:
        """Remove references by id (unknown ids are ignored); returns how many were removed."""
        ids = list(ids)
        self._lock()
        with self._transaction():
            gone = self._delete(self.conn, ids)
            self.conn.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(d,) for d in gone])
            self._bump(-len(gone))
        self.fulltext.write(gone, [])
        self._clear_pending(gone)
        return len(gone)

    # --- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._meta()["documents"])

    def info(self) -> dict:
        """What the index holds, for `unspin index info`."""
        meta = self._meta()
        files = [self.directory / DB_NAME, self.directory / (DB_NAME + "-wal")]
        files += [f for f in self.fulltext.path.iterdir() if f.is_file()]
        size = sum(f.stat().st_size for f in files if f.exists())
        docs = int(meta["documents"])
        return {
            "index": str(self.directory),
            "documents": docs,
            "fulltext_documents": self.fulltext.num_docs(),
            "bytes": size,
            "bytes_per_document": round(size / docs) if docs else None,
            "format": int(meta["format"]),
            "fulltext_format": FULLTEXT_FORMAT,
            "features": int(meta["features"]),
            "pack": meta["pack"],
        }

    def reference(self, doc: int) -> Reference:
        row = self.conn.execute("SELECT id, text, url, title, date FROM docs WHERE doc = ?", (doc,)).fetchone()
        if row is None:
            raise KeyError(doc)
        return Reference(row[0], zlib.decompress(row[1]).decode("utf-8"), row[2], row[3], row[4])

    def source_of(self, cand: Candidate) -> Reference:
        return self.reference(cand.doc)

    def ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM docs ORDER BY doc")]

    # --- the shard interface (``search`` below; Ray actors serve the same methods, ``shards.py``) --

    def stats(self, text_terms: list[str]) -> tuple[int, dict[str, int]]:
        """(documents, document frequency of each term) in this index."""
        return self.fulltext.num_docs(), self.fulltext.doc_freqs(dict.fromkeys(text_terms))

    def candidates(self, weighted: list[tuple[str, float]], limit: int) -> list[tuple]:
        """(doc, score, id, anchors, sketch) of the best ``limit`` matches of a weighted query."""
        hits = dict(self.fulltext.search(weighted, limit))
        if not hits:
            return []
        marks = ",".join("?" * len(hits))
        rows = self.conn.execute(f"SELECT doc, id, anchors, sketch FROM docs WHERE doc IN ({marks})", list(hits))
        return [(doc, hits[doc], ref_id, anchors, sketch) for doc, ref_id, anchors, sketch in rows]

    def holders(self, rare: list[str], limit: int) -> list[list[int]]:
        """For each term, the documents holding it (at most ``limit``)."""
        return [[doc for doc, _ in self.fulltext.search([(t, 1.0)], limit)] for t in rare]

    # --- reading ---------------------------------------------------------------------------------

    def retrieve(self, text: str) -> list[tuple[int, float]]:
        """Retrieval alone: (document number, score) of the ``CANDIDATES`` best, best first."""
        weighted = _weighted([self], text, self.pack.vocab)[0][0]
        return self.fulltext.search(weighted, CANDIDATES)

    def search(self, text: str, top: int = 5, align_top: int = ALIGN_TOP) -> list[Candidate]:
        """The references most likely to be the source of ``text``, best first (see ``search``)."""
        return search([self], text, self.pack.vocab, top, align_top)


def _weighted(shards, text: str, vocab) -> tuple[tuple[list[tuple[str, float]], float], Fingerprint, list[str], dict]:
    anchor_terms: list[str] = []
    text_terms: list[str] = []
    fp = fingerprint(text, vocab, anchor_terms, text_terms)
    df: dict[str, int] = {}
    n = 0
    for shard in shards:
        docs, freqs = shard.stats(list(dict.fromkeys(text_terms)))
        n += docs
        for t, f in freqs.items():
            df[t] = df.get(t, 0) + f
    return query_weights(text_terms, anchor_terms, df, n), fp, anchor_terms, df


def search(shards, text: str, vocab, top: int = 5, align_top: int = ALIGN_TOP) -> list[Candidate]:
    """The references of ``shards`` most likely to be the source of ``text``, best first, with confidences.

    Scatter-gather: collection-wide term statistics make the query (``fulltext.query_weights``);
    each shard returns its ``CANDIDATES`` best by weighted term matching; the merged best
    ``CANDIDATES`` are ranked by the fingerprint features (calibrated ``rank`` model); the best
    ``align_top`` are aligned passage by passage and get their ``confidence`` from the calibrated
    ``decide`` model. Only the first can be ``is_source``. One index is one shard: a sharded
    collection gives the same answers.
    """
    (weighted, ceiling), fp, anchor_terms, df = _weighted(shards, text, vocab)
    gathered = [
        (score, ref_id, k, doc, anchors, sketch)
        for k, shard in enumerate(shards)
        for doc, score, ref_id, anchors, sketch in shard.candidates(weighted, CANDIDATES)
    ]
    if not gathered:
        return []
    gathered.sort(key=lambda g: (-g[0], g[1]))
    gathered = gathered[:CANDIDATES]
    # The copy's rarest anchors (held by at most RARE_DF references), and who holds each.
    rare = sorted((t for t in dict.fromkeys(anchor_terms) if 0 < df.get(t, 0) <= RARE_DF), key=lambda t: (df[t], t))
    rare = rare[:RARE_QUERY]
    held_by: list[set[tuple[int, int]]] = [set() for _ in rare]
    if rare:
        for k, shard in enumerate(shards):
            for i, docs in enumerate(shard.holders(rare, RARE_DF)):
                held_by[i].update((k, d) for d in docs)
    cal = calibration()
    best_score = gathered[0][0]
    runner_up = gathered[1][0] if len(gathered) > 1 else 0.0
    q_anchors = fp.anchors
    out = []
    for score, ref_id, k, doc, anchors, sketch in gathered:
        theirs = np.frombuffer(sketch, dtype=np.uint32)
        posted = np.frombuffer(anchors, dtype=np.int64)
        shared = int(np.intersect1d(fp.sketch, theirs, assume_unique=True).size)
        # The reference posts a bottom-k sample of its anchors: compare the copy's anchors below
        # the sample's largest hash (all of them when the reference has fewer than k).
        if posted.size:
            comparable = q_anchors if posted.size < POSTED else q_anchors[q_anchors <= posted[-1]]
            held = np.intersect1d(comparable, posted, assume_unique=True).size / max(1, comparable.size)
        else:
            held = 0.0
        absent = sum(1 for h in held_by if (k, doc) not in h) / len(held_by) if held_by else 0.0
        c = Candidate(
            doc,
            ref_id,
            score,
            {
                "bm25_norm": score / ceiling if ceiling else 0.0,
                "bm25_rel": score / best_score if best_score else 0.0,
                # How far it stands out from the best other candidate (negative when behind one):
                # a source stands out, a copy whose source is absent has look-alikes level with it.
                "margin": (score - (runner_up if score >= best_score else best_score)) / ceiling if ceiling else 0.0,
                "sketch": shared / (min(fp.sketch.size, theirs.size) + SHRINK),
                "anchors": float(held),
                "rare_absent": absent,
                "coverage": 0.0,
                "names_kept": 0.0,
                "numbers_lost": 0.0,
            },
            shared,
            int(fp.sketch.size),
            int(theirs.size),
            shard=k,
        )
        c.confidence = cal.rank(c.features)
        out.append(c)
    out.sort(key=lambda c: (-c.confidence, -c.bm25, c.id))
    prepared = prepare(text) if align_top else None
    for c in out[:align_top]:
        source = shards[c.shard].reference(c.doc).text
        c.passages = align(text, source, prepared)
        c.features["coverage"] = _coverage(c.passages, len(text), len(source))
        c.features["names_kept"], c.features["numbers_lost"] = _names_kept(c.passages, text, source, vocab)
    for c in out:
        # Coverage and names unknown past align_top: none.
        c.confidence = round(cal.confidence(c.features), 4)
    out.sort(key=lambda c: (-c.confidence, -c.bm25, c.id))
    out[0].is_source = out[0].confidence >= cal.threshold
    return out[:top]
