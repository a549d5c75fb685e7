"""Tracing: name the source of every kind of copy among Wikipedia distractors; BM25 and MinHash beside.

    python bench/trace.py [--queries 800] [--absent 300] [--distractors 100000] [--index DIR [--reuse]]

Queries (kinds): copies (``trace_data.Copier``: excerpts of held-out Wikipedia articles spun in
styles common/synonym/phrase/unseen at rates 10–60 %, a quarter each also sentence-reordered,
clause-split or with sentences dropped), by style, by rate and by rewrite; the dev pairs
(../shared/dev real-pairs and train-pairs, by style: spinner, mt, paraphraser; the seed).
Collection: the sources (held-out articles, the pairs' source excerpts) and the first N training
articles of the corpus as distractors. Source-absent copies: copies of held-out articles left out
of the collection; the share given a confident (``is_source``) wrong source is reported.
Figures: Recall@1 and MRR (over the top 10) per query kind; build rate (references/s, all cores),
bytes per reference on disk (stored text included); latency p50/p95 of retrieval alone and of a
full trace (retrieval, re-ranking, alignment, changed facts, restoration) of 800-word copies.
Baselines on the same collection and queries, in the same run: exhaustive BM25 (bm25s, Lucene
variant, English stopwords) and MinHash (datasketch, 5-word shingles, 128 permutations) as LSH at
threshold 0.5 and ranked exhaustively by estimated Jaccard.
"""

from __future__ import annotations

import argparse
import os
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
from trace_data import Copier
from unspin.pack import load
from unspin.pack.corpus import corpus_shards, held_out_articles, training_articles
from unspin.repair import repair, repair_text
from unspin.trace import Reference, add_references, attach_trace, open_index

TOP = 10


def distractors(n: int, paragraphs: int = 0):
    """The first ``n`` distractors: training articles, or with ``paragraphs`` > 0 passages of them
    (consecutive paragraphs joined until they hold at least that many words; the corpus has about
    290 k articles, too few for a million references, but over a million such passages)."""
    produced = 0
    for shard in corpus_shards():
        for a in training_articles(shard):
            if not paragraphs:
                if produced >= n:
                    return
                produced += 1
                yield a
                continue
            chunk: list[str] = []
            words = k = 0
            for para in a["text"].split("\n"):
                chunk.append(para)
                words += len(para.split())
                if words >= paragraphs:
                    if produced >= n:
                        return
                    produced += 1
                    yield {"id": f"{a['id']}-{k}", "title": a["title"], "text": "\n".join(chunk)}
                    chunk, words, k = [], 0, k + 1


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


def _by_kind(queries, per_query: list[dict]) -> dict:
    """Per-query results (rank, ...) summarised per kind; each query is run once, counted in each kind."""
    out: dict = {}
    for (_, _, kinds), res in zip(queries, per_query, strict=True):
        for k in kinds:
            out.setdefault(k, []).append(res)
    return out


def minhash_baseline(docs: list[tuple[str, str]], queries) -> dict:
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
    per_query, lat = [], []
    for text, truth, _ in queries:
        t = time.perf_counter()
        q = MinHash(num_perm=128, permutations=perm, scheme=scheme)
        q.update_batch(list(shingles(text)))
        jacc = (matrix == q.hashvalues).mean(axis=1)
        order = np.argsort(-jacc, kind="stable")[:TOP]
        lat.append(time.perf_counter() - t)
        hits = lsh.query(q)
        per_query.append(
            {
                "all": rank_of([ids[i] for i in order], truth),
                "lsh_found": bool(truth & set(hits)),
                "lsh": rank_of(sorted(hits, key=lambda d: -jacc[position[d]])[:TOP], truth),
            }
        )
    out: dict = {"build_docs_per_s": round(len(docs) / build), "query_ms_p50": pct(lat, 50)}
    for k, res in sorted(_by_kind(queries, per_query).items()):
        out[k] = {
            "exhaustive": summarise([r["all"] for r in res]),
            "lsh_threshold_0.5": {
                "found": round(sum(r["lsh_found"] for r in res) / len(res), 4),
                **summarise([r["lsh"] for r in res]),
            },
        }
    return out


def bm25_baseline(docs: list[tuple[str, str]], queries) -> dict:
    import bm25s

    t0 = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([t for _, t in docs], stopwords="en", show_progress=False), show_progress=False)
    build = time.perf_counter() - t0
    ids = [d for d, _ in docs]
    per_query, lat = [], []
    for text, truth, _ in queries:
        t = time.perf_counter()
        tokens = bm25s.tokenize([text], stopwords="en", show_progress=False)
        res, _ = retriever.retrieve(tokens, k=TOP, show_progress=False)
        lat.append(time.perf_counter() - t)
        per_query.append(rank_of([ids[i] for i in res[0]], truth))
    out: dict = {"build_docs_per_s": round(len(docs) / build), "query_ms_p50": pct(lat, 50)}
    out.update({k: summarise(v) for k, v in sorted(_by_kind(queries, per_query).items())})
    return out


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=800)
    ap.add_argument("--absent", type=int, default=300)
    ap.add_argument("--long", type=int, default=100, help="800-word copies timed for the full trace.")
    ap.add_argument("--distractors", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--baselines", default="bm25s,minhash", help="Which baselines to run (comma-separated).")
    ap.add_argument("--index", default=None, help="Keep the index here (default: a temporary folder).")
    ap.add_argument("--reuse", action="store_true", help="Query the index already at --index (same arguments).")
    ap.add_argument(
        "--paragraphs", type=int, default=0, help="Distractors are passages of at least this many words (0: articles)."
    )
    ap.add_argument(
        "--build-only",
        action="store_true",
        help="Build (or continue building) the index at --index and stop: references already in it are skipped,"
        " so a killed build rerun with the same arguments continues where it stopped.",
    )
    args = ap.parse_args()
    require_shared()
    pack = load()
    copier = Copier(pack, seed=11)
    rng = random.Random(5)

    eligible = [a for a in held_out_articles() if len(a["text"].split()) >= 50]
    held = eligible[: args.queries]
    orphans = eligible[args.queries : args.queries + args.absent]
    # Every query once, with the kinds it counts in.
    queries: list[tuple[str, set[str], list[str]]] = []
    synthetic = []
    for a in held:
        text, meta = copier(a["text"])
        truth = {f"wiki-{a['id']}"}
        synthetic.append((text, truth))
        kinds = ["synthetic:all", f"synthetic:style:{meta['style']}", f"synthetic:rate:{meta['rate']}"]
        queries.append((text, truth, [*kinds, f"synthetic:rewrite:{meta['rewrite']}"]))
    absent = [copier(a["text"])[0] for a in orphans]
    # 800-word copies (the full trace's latency is stated for them): common swaps at 30 %.
    table = table_for("common", pack)
    long_copies = [
        (spin(" ".join(a["text"].split()[:800]), table, 0.3, rng, pack).text, {f"wiki-{a['id']}"})
        for a in held
        if len(a["text"].split()) >= 800
    ][: args.long]

    by_text: dict[str, str] = {}
    real_refs = []
    for name in ("real-pairs.jsonl", "train-pairs.jsonl", "seed-pair.jsonl"):
        for p in load_jsonl(DEV / name):
            src_id = by_text.setdefault(p["source_text"], f"src-{p['id']}")
            if src_id == f"src-{p['id']}":
                real_refs.append(Reference(src_id, p["source_text"], url=p.get("source_url")))
            kind = "seed" if name.startswith("seed") else f"dev:{p.get('style', 'spinner')}"
            queries.append((p["spun_text"], {src_id}, [kind, "dev:all"]))

    refs = [Reference(f"wiki-{a['id']}", a["text"], title=a["title"]) for a in held] + real_refs
    # Read (and decompress) the collection before timing the build: users index JSONL or Parquet,
    # not our .xz shards, and decompression would otherwise dominate the figure.
    # (Querying an index already built, without baselines, needs no collection: it is not read.)
    baselines = [] if args.no_baselines else [b for b in args.baselines.split(",") if b]
    collection = refs
    if not args.reuse or baselines:
        wiki = distractors(args.distractors, args.paragraphs)
        collection = refs + [Reference(f"d-{a['id']}", a["text"], title=a["title"]) for a in wiki]
    stage(f"collection ready: {len(collection)} documents; {len(queries)} queries")

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.index or tmp) / "index"
        build: dict = {}
        if args.reuse:
            idx = open_index(where, pack)
        else:
            idx = open_index(where, pack, create=True)
            # A build continues: what an earlier (killed) run committed is kept, not redone.
            done = set(idx.ids()) if args.index else set()
            todo = [r for r in collection if r.id not in done]
            stage(f"{len(done)} references already in the index, {len(todo)} to add")
            added = [0]

            def progress(n: int) -> None:
                added[0] += n
                if added[0] % 20_000 == 0:
                    stage(f"{added[0]} added")

            t0 = time.perf_counter()
            add_references(idx, todo, workers=args.workers, progress=progress)
            build_s = time.perf_counter() - t0
            build = {
                "seconds": round(build_s, 1),
                "references_added": len(todo),
                "references_per_s": round(len(todo) / build_s, 1) if todo else None,
                "workers": args.workers or os.cpu_count(),
                "mb_per_s": round(sum(len(r.text.encode()) for r in todo) / build_s / 1e6, 2),
            }
            stage(f"index built in {build_s:.0f} s")
            if args.build_only:
                emit({"collection": {"references": len(idx)}, "build": build, **{"info": idx.info()}}, "built")
                idx.close()
                return
        info = idx.info()
        build.update(
            {
                "bytes_per_reference": info["bytes_per_document"],
                "bytes": info["bytes"],
                "words_per_reference": round(sum(len(r.text.split()) for r in collection) / len(collection))
                if len(collection) > len(refs)
                else None,
            }
        )

        ranks: dict[str, list] = {}
        named: dict[str, int] = {}
        for text, truth, kinds in queries:
            found = idx.search(repair_text(text)[0], top=TOP)
            r = rank_of([c.id for c in found], truth)
            for k in kinds:
                ranks.setdefault(k, []).append(r)
                named[k] = named.get(k, 0) + (r == 1 and found[0].is_source)
        unspin = {k: {**summarise(v), "named": round(named[k] / len(v), 4)} for k, v in sorted(ranks.items())}
        stage("queries done")
        wrong = [idx.search(repair_text(t)[0], top=1) for t in absent]
        confident_wrong = sum(1 for f in wrong if f and f[0].is_source)
        # Wall time, and the process's CPU time beside it: on a shared machine other work stretches
        # the wall time; the CPU time is what a query costs one core.
        lat, lat_cpu = [], []
        for text, _ in synthetic[:300]:
            q = repair_text(text)[0]
            t, c = time.perf_counter(), time.process_time()
            idx.retrieve(q)
            lat.append(time.perf_counter() - t)
            lat_cpu.append(time.process_time() - c)
        full, full_cpu = [], []
        for text, _ in long_copies:
            report = repair(text)
            t, c = time.perf_counter(), time.process_time()
            attach_trace(report, idx, top=3)
            full.append(time.perf_counter() - t)
            full_cpu.append(time.process_time() - c)
        result = {
            "collection": {"references": len(idx), "distractors": args.distractors, "paragraphs": args.paragraphs},
            "build": build,
            "unspin": unspin,
            "source_absent": {"copies": len(absent), "confident_wrong": round(confident_wrong / len(absent), 4)},
            "latency_ms": {
                "retrieval_p50": pct(lat, 50),
                "retrieval_p95": pct(lat, 95),
                "full_trace_800_words_p50": pct(full, 50),
                "full_trace_800_words_p95": pct(full, 95),
                "cpu_retrieval_p50": pct(lat_cpu, 50),
                "cpu_retrieval_p95": pct(lat_cpu, 95),
                "cpu_full_trace_800_words_p50": pct(full_cpu, 50),
                "cpu_full_trace_800_words_p95": pct(full_cpu, 95),
                "full_trace_copies": len(full),
            },
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        idx.close()

    if baselines:
        docs = [(r.id, r.text) for r in collection]
        result["baselines"] = {}
        chosen = set(baselines)
        for name, fn in (("bm25s", bm25_baseline), ("minhash", minhash_baseline)):
            if name not in chosen:
                continue
            stage(f"baseline {name}")
            t0 = time.perf_counter()
            result["baselines"][name] = {**fn(docs, queries), "seconds": round(time.perf_counter() - t0, 1)}
        worse = [
            k
            for k, v in unspin.items()
            if k in result["baselines"].get("bm25s", {})
            and (v["recall_at_1"], v["mrr"])
            < (result["baselines"]["bm25s"][k]["recall_at_1"], result["baselines"]["bm25s"][k]["mrr"])
        ]
        result["kinds_where_bm25s_beats_unspin"] = worse
    emit(
        result,
        f"trace: {result['collection']['references']} refs; synthetic R@1 {unspin['synthetic:all']['recall_at_1']};"
        f" min R@1 over kinds {min(v['recall_at_1'] for v in unspin.values())};"
        f" absent confidently wrong {result['source_absent']['confident_wrong']};"
        f" full trace p50 {result['latency_ms']['full_trace_800_words_p50']} ms",
    )


if __name__ == "__main__":
    main()
