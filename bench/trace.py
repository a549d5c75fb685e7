"""Tracing: find the source of spun copies hidden among Wikipedia distractors; MinHash and BM25 beside.

    python bench/trace.py [--queries 1000] [--distractors 100000] [--no-baselines]

Queries: spun copies (our evaluation spinner, styles common/synonym/phrase/unseen in turn, rates
15–50 %) of held-out Wikipedia articles of 50+ words, plus the spun pages of ../shared/dev/real-pairs
and the seed. Collection: their sources (the held-out articles, the real pairs' source excerpts)
and the first N training articles of the corpus as distractors. Figures: Recall@1 and MRR (over the
top 10) per query set; index build rate (documents/s, all cores), size on disk per document; query
latency p50/p95 for retrieval alone and for a full trace (retrieval + passage alignment + changed
facts of the best source). Baselines on the same collection and queries, in the same run: MinHash
(datasketch, 5-word shingles, 128 permutations) as LSH at threshold 0.5 and ranked exhaustively by
estimated Jaccard, and BM25 (bm25s, Lucene variant).
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV, emit, load_jsonl, require_shared
from spinner import spin, table_for
from unspin.pack import LanguagePack
from unspin.pack.corpus import corpus_shards, held_out_articles, training_articles
from unspin.repair import repair
from unspin.trace import Reference, add_references, attach_trace, open_index
from unspin.trace.store import MIN_SCORE, TraceIndex

STYLES = ("common", "synonym", "phrase", "unseen")
RATES = (0.15, 0.25, 0.35, 0.5)
TOP = 10


def distractors(n: int):
    produced = 0
    for shard in corpus_shards():
        for a in training_articles(shard):
            if produced >= n:
                return
            produced += 1
            yield a


def rank_of(ids: list[str], truth: set[str]) -> int | None:
    for i, x in enumerate(ids):
        if x in truth:
            return i + 1
    return None


def summarise(ranks: list[int | None]) -> dict:
    n = len(ranks)
    return {
        "queries": n,
        "recall_at_1": round(sum(1 for r in ranks if r == 1) / n, 4) if n else None,
        "mrr": round(sum(1 / r for r in ranks if r) / n, 4) if n else None,
    }


def stage(what: str) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"[{time.strftime('%H:%M:%S')}] {what} (peak RSS {rss} MB)", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    return round(1000 * float(np.percentile(values, q)), 2)


# --- baselines --------------------------------------------------------------------------------------

_WORDS = re.compile(r"\w+")


def shingles(text: str, k: int = 5) -> set[bytes]:
    w = _WORDS.findall(text.lower())
    return {" ".join(w[i : i + k]).encode() for i in range(max(1, len(w) - k + 1))}


def minhash_baseline(docs: list[tuple[str, str]], query_sets: dict[str, list[tuple[str, set[str]]]]) -> dict:
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    t0 = time.perf_counter()
    # One permutation table for all signatures (datasketch makes one per MinHash object otherwise,
    # which at 100k documents costs gigabytes), and lean signatures in the LSH.
    seed = MinHash(num_perm=128)
    perm, scheme = seed.permutations, seed.scheme
    matrix = np.empty((len(docs), 128), dtype=np.uint64)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    with lsh.insertion_session() as session:
        for i, (doc_id, text) in enumerate(docs):
            m = MinHash(num_perm=128, permutations=perm, scheme=scheme)
            m.update_batch(list(shingles(text)))
            matrix[i] = m.hashvalues
            session.insert(doc_id, LeanMinHash(m))
    build = time.perf_counter() - t0
    ids = [d for d, _ in docs]
    position = {d: i for i, d in enumerate(ids)}
    out: dict = {"build_docs_per_s": round(len(docs) / build)}
    for name, queries in query_sets.items():
        out[name] = _minhash_queries(matrix, lsh, (perm, scheme), ids, position, queries)
    return out


def _minhash_queries(matrix, lsh, params, ids, position, queries) -> dict:
    from datasketch import MinHash

    perm, scheme = params

    lsh_found, ranks_lsh, ranks_all, lat = 0, [], [], []
    for text, truth in queries:
        t = time.perf_counter()
        q = MinHash(num_perm=128, permutations=perm, scheme=scheme)
        q.update_batch(list(shingles(text)))
        jacc = (matrix == q.hashvalues).mean(axis=1)
        order = np.argsort(-jacc, kind="stable")[:TOP]
        lat.append(time.perf_counter() - t)
        ranks_all.append(rank_of([ids[i] for i in order], truth))
        hits = lsh.query(q)
        lsh_found += bool(truth & set(hits))
        ranks_lsh.append(rank_of(sorted(hits, key=lambda d: -jacc[position[d]])[:TOP], truth))
    return {
        "lsh_threshold_0.5": {"found": round(lsh_found / len(queries), 4), **summarise(ranks_lsh)},
        "exhaustive": {**summarise(ranks_all), "query_ms_p50": pct(lat, 50)},
    }


def bm25_baseline(docs: list[tuple[str, str]], query_sets: dict[str, list[tuple[str, set[str]]]]) -> dict:
    import bm25s

    t0 = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([t for _, t in docs], stopwords="en", show_progress=False), show_progress=False)
    build = time.perf_counter() - t0
    ids = [d for d, _ in docs]
    out: dict = {"build_docs_per_s": round(len(docs) / build)}
    for name, queries in query_sets.items():
        ranks, lat = [], []
        for text, truth in queries:
            t = time.perf_counter()
            tokens = bm25s.tokenize([text], stopwords="en", show_progress=False)
            res, _ = retriever.retrieve(tokens, k=TOP, show_progress=False)
            lat.append(time.perf_counter() - t)
            ranks.append(rank_of([ids[i] for i in res[0]], truth))
        out[name] = {**summarise(ranks), "query_ms_p50": pct(lat, 50)}
    return out


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--distractors", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--index", default=None, help="Keep the index here (default: a temporary folder).")
    args = ap.parse_args()
    require_shared()
    pack = LanguagePack.load()
    rng = random.Random(11)

    eligible = [a for a in held_out_articles() if len(a["text"].split()) >= 50]
    held = eligible[: args.queries]
    # Copies whose source is NOT in the collection: how often would unspin name a wrong source?
    orphans = eligible[args.queries : args.queries + 200]
    tables = {s: table_for(s, pack) for s in STYLES}
    synthetic = []  # (query text, {true ids}, style, rate, words)
    for i, a in enumerate(held):
        style, rate = STYLES[i % len(STYLES)], RATES[(i // len(STYLES)) % len(RATES)]
        spun = spin(a["text"], tables[style], rate, rng, pack)
        synthetic.append((spun.text, {f"wiki-{a['id']}"}, style, rate, len(a["text"].split())))

    orphan_queries = [
        (spin(a["text"], tables[STYLES[i % 4]], RATES[i % 4], rng, pack).text, set()) for i, a in enumerate(orphans)
    ]

    pairs = list(load_jsonl(DEV / "real-pairs.jsonl")) + list(load_jsonl(DEV / "seed-pair.jsonl"))
    by_text: dict[str, str] = {}
    real_refs, real_queries = [], []
    for p in pairs:
        src_id = by_text.setdefault(p["source_text"], f"src-{p['id']}")
        if src_id == f"src-{p['id']}":
            real_refs.append(Reference(src_id, p["source_text"], url=p.get("source_url")))
        real_queries.append((p["spun_text"], {src_id}, p.get("style", "spinner"), p["id"]))

    refs = [Reference(f"wiki-{a['id']}", a["text"], title=a["title"]) for a in held] + real_refs
    # Read (and decompress) the collection before timing the build: users index JSONL or Parquet,
    # not our .xz shards, and decompression would otherwise dominate the figure.
    collection = refs + [Reference(f"d-{a['id']}", a["text"], title=a["title"]) for a in distractors(args.distractors)]
    docs_for_baselines = [(r.id, r.text) for r in collection]

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.index or tmp) / "index"
        stage(f"collection ready: {len(collection)} documents")
        idx: TraceIndex = open_index(where, pack, create=True)
        t0 = time.perf_counter()
        n_docs = add_references(idx, collection, workers=args.workers)
        build_s = time.perf_counter() - t0
        info = idx.info()
        stage(f"index built in {build_s:.0f} s")

        def run(queries):
            ranks, lat, full = [], [], []
            for text, truth, *_ in queries:
                t = time.perf_counter()
                found = idx.search(text, top=TOP)
                lat.append(time.perf_counter() - t)
                ranks.append(rank_of([c.id for c in found], truth))
            for text, *_ in queries[:200]:
                t = time.perf_counter()
                attach_trace(repair(text), idx, top=1)
                full.append(time.perf_counter() - t)
            return ranks, lat, full

        ranks, lat, full = run(synthetic)
        real_ranks, _, _ = run(real_queries)
        # What a user sees: a source is named only when ``Candidate.is_source`` holds.
        true_top = [c for (text, truth, *_), r in zip(synthetic, ranks, strict=True) if r == 1
                    for c in idx.search(text, top=1)]
        orphan_top = [idx.search(text, top=1) for text, _ in orphan_queries]
        orphan_scores = [found[0].score if found else 0.0 for found in orphan_top]
        true_scores = [c.score for c in true_top]
        scores = {
            "true_source_top1": {"min": min(true_scores), "p1": round(float(np.percentile(true_scores, 1)), 4),
                                 "p5": round(float(np.percentile(true_scores, 5)), 4)},
            "no_source_top1": {"p50": round(float(np.percentile(orphan_scores, 50)), 4),
                               "p99": round(float(np.percentile(orphan_scores, 99)), 4), "max": max(orphan_scores)},
            "no_source_named_by_score_alone": round(
                sum(1 for x in orphan_scores if x >= MIN_SCORE) / len(orphan_scores), 4),
            "no_source_named": round(sum(1 for f in orphan_top if f and f[0].is_source) / len(orphan_top), 4),
            "true_source_not_named": round(sum(1 for c in true_top if not c.is_source) / len(true_top), 4),
            "real_pairs_not_named": sum(1 for q in real_queries if not any(c.is_source for c in idx.search(q[0], 1))),
            "min_score": MIN_SCORE,
        }
        per = {}
        for key, pick in (("style", 2), ("rate", 3)):
            groups: dict = {}
            for q, r in zip(synthetic, ranks, strict=True):
                groups.setdefault(str(q[pick]), []).append(r)
            per[key] = {k: summarise(v)["recall_at_1"] for k, v in sorted(groups.items())}
        misses = [
            {"style": q[2], "rate": q[3], "words": q[4], "rank": r}
            for q, r in zip(synthetic, ranks, strict=True)
            if r != 1
        ]
        real = [
            {"id": q[3], "style": q[2], "rank": r, "score": max([c.score for c in idx.search(q[0], top=1)], default=0)}
            for q, r in zip(real_queries, real_ranks, strict=True)
        ]
        result = {
            "collection": {"documents": n_docs, "distractors": args.distractors},
            "build": {
                "docs_per_s": round(n_docs / build_s),
                "words_per_document": round(sum(len(r.text.split()) for r in collection) / len(collection)),
                "mb_per_s": round(sum(len(r.text.encode()) for r in collection) / build_s / 1e6, 2),
                "seconds": round(build_s, 1),
                "bytes_per_document": info["bytes_per_document"],
                "postings_per_document": round(info["postings"] / n_docs, 1),
                "bytes": info["bytes"],
            },
            "unspin": {
                "spun_wikipedia": {**summarise(ranks), "by_style": per["style"], "by_rate": per["rate"]},
                "misses": misses[:20],
                "real_pairs": {
                    **summarise(real_ranks),
                    "spinner_style_all_first": all(r["rank"] == 1 for r in real if r["style"] == "spinner"),
                    "pairs": real,
                },
                "scores": scores,
                "query_ms": {"retrieval_p50": pct(lat, 50), "retrieval_p95": pct(lat, 95),
                             "full_trace_p50": pct(full, 50), "full_trace_p95": pct(full, 95)},
            },
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        idx.close()

    if not args.no_baselines:
        all_queries = [(t, truth) for t, truth, *_ in synthetic]
        real_q = [(t, truth) for t, truth, *_ in real_queries]
        result["baselines"] = {}
        sets = {"spun_wikipedia": all_queries, "real_pairs": real_q}
        for name, fn in (("minhash", minhash_baseline), ("bm25", bm25_baseline)):
            stage(f"baseline {name}")
            t0 = time.perf_counter()
            result["baselines"][name] = {**fn(docs_for_baselines, sets), "seconds": round(time.perf_counter() - t0, 1)}
    u = result["unspin"]
    emit(
        result,
        f"trace: {n_docs} docs; R@1 spun wiki {u['spun_wikipedia']['recall_at_1']},"
        f" real {u['real_pairs']['recall_at_1']};"
        f" build {result['build']['docs_per_s']} docs/s; query p50 {u['query_ms']['retrieval_p50']} ms",
    )


if __name__ == "__main__":
    main()
