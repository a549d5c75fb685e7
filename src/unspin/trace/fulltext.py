"""The full-text part of a trace index: tantivy (an embedded Lucene-like engine) over the references' terms.

Retrieval is idf-weighted term matching over word tokens: a spinner swaps a share of the words, a
machine translation round trip reorders and rewords them, but most names, numbers and uncommon
words of a copy are its source's, and a long, weighted query over them finds that source among a
million references in milliseconds. Each query term is a constant-score clause weighted by its
collection-wide idf (not tantivy's per-segment BM25), so that a sharded index scores exactly like
one index. The fingerprints of ``features`` then re-rank what it found.

Both sides are cut by ``unspin.tokens.tokenize`` (one tokenizer for the whole tool) and reduced to
terms in the fingerprint's pass (``features.fingerprint``); tantivy only splits the joined terms on
whitespace, so its terms are exactly ours.

The tantivy directory lives inside the index directory (``fulltext/``), beside the SQLite file that
is the record of the references. SQLite is written first, in the same transaction as a journal of
the documents whose full-text entry is still to be written (``store.py``); tantivy is committed
after, then the journal cleared. A crash in between leaves journal rows, replayed on the next open
for writing: deletes by document number, then adds of what SQLite still holds (idempotent).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import tantivy

__all__ = ["FULLTEXT_FORMAT", "FullText", "query_weights"]

FULLTEXT_FORMAT = 2
DIRNAME = "fulltext"
META = "unspin-fulltext.json"
TOKENIZER = "unspin"
BODY, DOC = "body", "doc"
QUERY_TERMS = 64  # the copy's terms kept in a query, by tf-idf
QUERY_ANCHORS = 32  # ... plus up to this many of its anchors (names, numbers) not among them
ANCHOR_BOOST = 1.5
WRITER_HEAP = 128_000_000


def query_weights(
    text_terms: list[str], anchors: Iterable[str], doc_freq: dict[str, int], documents: int
) -> tuple[list[tuple[str, float]], float]:
    """The weighted terms of a query made from a copy's terms, given collection-wide statistics,
    and the best score the copy could reach.

    The ``QUERY_TERMS`` terms of highest tf·idf (a long copy would otherwise be a query of hundreds
    of terms, slow and dominated by common words), each weighted idf·(1 + log tf), plus the copy's
    anchors (names, numbers, rare words) not among them, weighted idf·``ANCHOR_BOOST``. Terms no
    reference holds match nothing and are left out of the query, but they count in the reachable
    score (as the rarest terms): a short text that shares one word with a reference is no copy of it.
    """
    n = max(documents, 1)
    tf = Counter(text_terms)
    idf = {t: math.log(1 + (n - doc_freq.get(t, 0) + 0.5) / (doc_freq.get(t, 0) + 0.5)) for t in tf}
    ranked = sorted(idf, key=lambda t: (-(1 + math.log(tf[t])) * idf[t], t))
    picked = [(t, (1 + math.log(tf[t])) * idf[t]) for t in ranked[:QUERY_TERMS]]
    chosen = {t for t, _ in picked}
    extra = [a for a in dict.fromkeys(anchors) if a in idf and a not in chosen][:QUERY_ANCHORS]
    picked += [(a, ANCHOR_BOOST * idf[a]) for a in extra]
    ceiling = sum(w for _, w in picked)
    return [(t, w) for t, w in picked if doc_freq.get(t, 0)], ceiling


class Busy(ValueError):
    """Another process holds the index's write lock."""


class FullText:
    """The tantivy index of one trace index directory; ``pack`` and format are checked on open."""

    def __init__(self, directory: Path, identity: dict[str, str], create: bool) -> None:
        self.path = Path(directory) / DIRNAME
        meta_path = self.path / META
        builder = tantivy.SchemaBuilder()
        builder.add_text_field(BODY, stored=False, tokenizer_name=TOKENIZER, index_option="basic")
        builder.add_integer_field(DOC, stored=True, indexed=True, fast=True)
        self.schema = builder.build()
        wanted = {"format": str(FULLTEXT_FORMAT), **identity}
        if meta_path.is_file():
            try:
                found = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"{self.path}: unreadable full-text metadata ({exc}); rebuild the index") from exc
            for key, value in wanted.items():
                if found.get(key) != value:
                    raise ValueError(
                        f"{self.path}: full-text part built with {key} {found.get(key)!r}, this unspin uses"
                        f" {value!r}; rebuild the index"
                    )
        elif not create:
            raise ValueError(f"{self.path}: no full-text part (an index of an older format); rebuild the index")
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            meta_path.write_text(json.dumps(wanted), encoding="utf-8")
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise ValueError(f"{self.path}: not a usable full-text index ({exc}); rebuild the index") from exc
        self.index.register_tokenizer(TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        self._writer = None
        self._searcher = None

    # --- writing ---------------------------------------------------------------------------------

    def _w(self):
        if self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as exc:
                raise Busy(f"{self.path}: another process is writing this index; retry when it is done") from exc
        return self._writer

    def write(self, delete: Iterable[int], add: Iterable[tuple[int, str]]) -> None:
        """Delete documents by number, add (number, joined terms) documents, and commit."""
        w = self._w()
        for doc in delete:
            w.delete_documents_by_term(DOC, doc)
        for doc, body in add:
            d = tantivy.Document()
            d.add_integer(DOC, doc)
            d.add_text(BODY, body)
            w.add_document(d)
        w.commit()
        self._searcher = None

    def lock(self) -> None:
        self._w()

    def release(self) -> None:
        """Let go of the write lock (a reader that only replayed the journal must not keep it)."""
        self.close()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None

    # --- reading ---------------------------------------------------------------------------------

    def searcher(self):
        if self._searcher is None:
            self.index.reload()
            self._searcher = self.index.searcher()
        return self._searcher

    def num_docs(self) -> int:
        return self.searcher().num_docs

    def docs(self) -> set[int]:
        """Every document number in the full-text index (for consistency checks)."""
        s = self.searcher()
        n = s.num_docs
        if not n:
            return set()
        hits = s.search(tantivy.Query.all_query(), limit=n).hits
        return {s.doc(addr)[DOC][0] for _, addr in hits}

    def doc_freqs(self, text_terms: Iterable[str]) -> dict[str, int]:
        s = self.searcher()
        return {t: s.doc_freq(BODY, t) for t in text_terms}

    def search(self, weighted: list[tuple[str, float]], limit: int) -> list[tuple[int, float]]:
        """(document number, score) of the best ``limit`` matches of a weighted query.

        A document's score is the sum of the weights of the query terms it holds: the weights carry
        the collection-wide idf (see ``query_weights``), so every shard of a sharded index scores a
        document exactly as one index would, and scatter-gather returns the same candidates.
        """
        if not weighted:
            return []
        s = self.searcher()
        subs = [
            (
                tantivy.Occur.Should,
                tantivy.Query.const_score_query(
                    tantivy.Query.term_query(self.schema, BODY, t, index_option="basic"), w
                ),
            )
            for t, w in weighted
        ]
        hits = s.search(tantivy.Query.boolean_query(subs), limit=limit).hits
        return [(s.doc(addr)[DOC][0], score) for score, addr in hits]
