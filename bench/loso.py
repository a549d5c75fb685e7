"""Leave-one-site-out: the engine on real spinner pages whose site its learned table never saw.

    python bench/loso.py [--no-table] [--no-scorer] [--set learned.LEARNED_WEIGHT=2 ...] [--sites N]
    python bench/loso.py --scorer [--fit]   # the span scorer, fitted leave-one-site-out; --fit ships it

For every site of the real spinner pairs (../shared/dev/real-pairs.jsonl, train-pairs.jsonl and the
seed), the spinner table is learnt from the other sites' pages only (`unspin.learn.table.learn`), the
span scorer is fitted on the other sites' rows (see ``--scorer``), and that site's pages are checked
with both. Printed: token P/R/F1, restoration recall/precision, WER before
and after (bench/metrics.py), pages flagged, the reliability of span confidence (share of spans in each
confidence bin that cover a real swap) and of stated originals (share right), and the same figures for
``flag every eligible word``, and where the gold swapped words went (``gold_words``: never eligible, no
substitution proposed, substitution not reported, reported), which says what caps token recall.
``--no-table --no-scorer``: the engine as it was before the learned
channel (thesaurus channel, log-odds rules).

``--scorer``: every substitution of the reporting pass becomes a row (its evidence,
`unspin.decode.scorer.features`; labels from the alignment), on the spun pages and on their sources
(honest text); for each site the span scorer is fitted on the other sites' rows and applied to its
own, and the figures above are printed for it beside the decoder's log-odds rules. ``--fit`` then fits
it on every row and writes ``src/unspin/data/span-scorer.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV, REPO, emit, load_jsonl, require_shared
from metrics import PairScore
from unspin.decode import check, learned, scorer
from unspin.decode import engine as engine_mod
from unspin.learn.logistic import fit_logistic
from unspin.learn.pairs import align_pair, site
from unspin.learn.table import learn
from unspin.pack import load

BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)


def spinner_records() -> list[dict]:
    recs = []
    for name in ("real-pairs.jsonl", "train-pairs.jsonl", "seed-pair.jsonl"):
        for r in load_jsonl(DEV / name):
            if r.get("style", "spinner").startswith("spinner"):
                recs.append(r)
    return recs


def every_eligible_word(pack, text: str) -> list[dict]:
    """Spans over every word the engine could call swapped: what token F1 a detector gets on a page
    known to be spun without telling its words apart (about 40 % of them are swapped)."""
    from unspin.decode.channel import eligible_flags
    from unspin.tokens import sentence_tokens

    sents = sentence_tokens(text)
    return [
        {"start": t.start, "end": t.end, "original": None}
        for sent, ok in zip(sents, eligible_flags(pack, sents), strict=True)
        for t, f in zip(sent, ok, strict=True)
        if f
    ]


def reliability(rows: list[tuple[float, bool]]) -> list[dict]:
    out = []
    for lo, hi in itertools.pairwise(BINS):
        sel = [ok for c, ok in rows if lo <= c < hi]
        if sel:
            out.append({"bin": f"[{lo:.2f},{min(hi, 1):.2f})", "n": len(sel), "right": round(sum(sel) / len(sel), 3)})
    return out


def gold_words(pack, rec: dict, explain: list, spans: list[dict]) -> Counter:
    """Where the page's gold swapped words went: a word the engine never considers (function words,
    names, numbers), an eligible word with no substitution in the reporting pass, a substitution the
    span rules left unreported, or a reported span. Says which stage caps token recall."""
    from unspin.decode.channel import eligible_flags
    from unspin.tokens import WORD, sentence_tokens

    text = rec["spun_text"]
    sents = sentence_tokens(text)
    flags = {(t.start, t.end): f for s, fl in zip(sents, eligible_flags(pack, sents), strict=True)
             for t, f in zip(s, fl, strict=True) if t.kind == WORD}  # fmt: skip
    out: Counter = Counter()
    for w in align_pair(text, rec["source_text"]).swaps:
        for (a, b), ok in flags.items():
            if a < w.start or b > w.end:
                continue
            if not ok:
                out["not eligible"] += 1
            elif not any(x_a < b and a < x_b for _, x_a, x_b, _ in explain):
                out["eligible, no substitution"] += 1
            elif not any(sp["start"] < b and a < sp["end"] for sp in spans):
                out["substitution not reported"] += 1
            else:
                out["reported"] += 1
    return out


def span_truth(rec: dict, spans: list[dict]) -> tuple[list[tuple[float, bool]], list[tuple[float, bool]]]:
    """(confidence, covers a real swap) per span; (confidence, original right) per stated original."""
    aligned = align_pair(rec["spun_text"], rec["source_text"])
    det, res = [], []
    for sp in spans:
        a, b = sp["start"], sp["end"]
        if not aligned.covers(a, b):
            continue
        hit = [w for w in aligned.swaps if w.start < b and a < w.end]
        det.append((sp["confidence"], bool(hit)))
        if sp.get("original") is not None:
            original = tuple(sp["original"].lower().replace("’", "'").split())
            res.append((sp["confidence"], any(w.restores(a, b, original) for w in hit)))
    return det, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-table", action="store_true", help="the engine without a learned table")
    ap.add_argument("--no-scorer", action="store_true", help="the decoder's log-odds rules instead of the span scorer")
    ap.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE",
                    help="override a constant of unspin.decode.{learned,engine} for this run")  # fmt: skip
    ap.add_argument("--sites", type=int, default=0, help="only the first N sites (quick look)")
    ap.add_argument("--scorer", action="store_true", help="fit and measure the span scorer leave-one-site-out")
    ap.add_argument("--span-p", type=float, default=None, help="with --scorer: P(swap) a span needs")
    ap.add_argument("--fit", action="store_true", help="with --scorer: fit on every row and ship it")
    ap.add_argument("--synthetic", type=int, default=0, metavar="N",
                    help="with --scorer: also train on N excerpts per site spun by its learned table")  # fmt: skip
    args = ap.parse_args()
    require_shared()
    for s in args.set:
        name, value = s.split("=")
        mod, attr = name.split(".")
        setattr({"learned": learned, "engine": engine_mod, "scorer": scorer}[mod], attr, float(value))
    if args.scorer:
        return scorer_main(args)
    shipped = None if args.no_scorer else scorer.scorer()
    pack = load()
    recs = spinner_records()
    by_site = defaultdict(list)
    for r in recs:
        by_site[site(r)].append(r)
    sites = sorted(by_site)[: args.sites or None]
    # The span scorer is fitted leave-one-site-out too (on the other sites' rows, at the shipped
    # scorer's span threshold): the shipped one saw every page, so its figures here would be in-sample.
    rows = scorer_rows(pack, recs, sites, args.set) if shipped is not None else []
    total, det_rows, res_rows, flagged, t0 = PairScore(), [], [], [], time.perf_counter()
    where: Counter = Counter()
    everything = PairScore()
    for s in sites:
        learned.use_table(pack, None if args.no_table else learn(recs, exclude_sites=frozenset({s}), pack=pack))
        scorer.use_scorer(fit([r for r in rows if r["site"] != s], shipped.span_p) if shipped is not None else None)
        for r in by_site[s]:
            explain: list = []
            rep = check(r["spun_text"], pack, explain=explain).to_dict()
            spans = rep.get("spans", [])
            where.update(gold_words(pack, r, explain, spans))
            total.add_pair(r["id"], r["spun_text"], r["source_text"], spans)
            everything.add_pair(r["id"], r["spun_text"], r["source_text"], every_eligible_word(pack, r["spun_text"]))
            d, e = span_truth(r, spans)
            det_rows += d
            res_rows += e
            if rep["spun"]:
                flagged.append(r["id"])
    res = total.result()
    res.update({
        "pages": sum(len(by_site[s]) for s in sites), "sites": len(sites), "flagged": len(flagged),
        "missed": sorted({r["id"] for s in sites for r in by_site[s]} - set(flagged)),
        "table": "none" if args.no_table else "leave-one-site-out",
        "span_rules": "log-odds" if shipped is None else "span scorer, fitted leave-one-site-out",
        "overrides": args.set, "span_reliability": reliability(det_rows),
        "original_reliability": reliability(res_rows), "seconds": round(time.perf_counter() - t0, 1),
        "gold_words": {k: round(v / max(1, where.total()), 3) for k, v in where.most_common()},
        "flag_every_eligible_word": {k: v for k, v in everything.result().items() if k.startswith("token_")},
    })  # fmt: skip
    emit(res, f"loso: F1 {res['token_f1']} restore R {res['restore_recall']} P {res['restore_precision']} "
              f"WER {res['wer_before']}->{res['wer_after']} flagged {len(flagged)}/{res['pages']}")  # fmt: skip


def collect_rows(pack, recs: list[dict], sites: list[str]) -> list[dict]:
    """Per page and per source: every reporting-pass substitution with its features and labels."""
    rows = []
    scorer.use_scorer(None)
    by_site = defaultdict(list)
    for r in recs:
        by_site[site(r)].append(r)
    for s in sites:
        learned.use_table(pack, learn(recs, exclude_sites=frozenset({s}), pack=pack))
        for r in by_site[s]:
            for kind, text in (("spun", r["spun_text"]), ("source", r["source_text"])):
                explain: list = []
                check(text, pack, explain=explain)
                aligned = align_pair(text, r["source_text"]) if kind == "spun" else None
                for x, a, b, original in explain:
                    if aligned is not None and not aligned.covers(a, b):
                        continue  # no source sentence: the truth is unknown
                    hit = [w for w in aligned.swaps if w.start < b and a < w.end] if aligned is not None else []
                    right = any(w.restores(a, b, tuple(original.split())) for w in hit)
                    rows.append({"site": s, "id": r["id"], "kind": kind, "x": x, "start": a, "end": b,
                                 "original": original, "swap": bool(hit), "right": right})  # fmt: skip
    return rows


def synthetic_rows(pack, recs: list[dict], sites: list[str], n: int) -> dict[str, list[dict]]:
    """Per site, rows from ``n`` held-out Wikipedia excerpts (the calibration half, 80-300 words) spun by
    `spinner.spin_learned` with the table learnt without that site, at whole-document rates 0-45 %
    (a fifth of them not spun at all), labelled from the exact gold swaps: the issue's realistic
    generator as extra training data for the scorer of that site's fold."""
    import random

    from calibrate import cut
    from spinner import spin_learned
    from unspin.pack.corpus import held_out_articles

    rng = random.Random(11)
    texts = [t for art in held_out_articles()[:1000] if (t := cut(art["text"], rng.randint(80, 300), rng))][:n]
    scorer.use_scorer(None)
    out: dict[str, list[dict]] = {}
    for s in sites:
        table = learn(recs, exclude_sites=frozenset({s}), pack=pack)
        learned.use_table(pack, table)
        spin_rng = random.Random(s)
        for k, text in enumerate(texts):
            spun = spin_learned(text, table, (0.0, 0.15, 0.25, 0.35, 0.45)[k % 5], spin_rng)
            explain: list = []
            check(spun.text, pack, explain=explain)
            for x, a, b, original in explain:
                hit = [gold for gs, ge, gold in spun.swaps if gs < b and a < ge]
                right = any(" ".join(g.lower().split()) == original for g in hit)
                out.setdefault(s, []).append({"x": x, "swap": bool(hit), "right": right})
    return out


def spans_from(rows: list[dict], model, span_p: float) -> list[dict]:
    out = []
    for row in rows:
        p = model.p_swap(tuple(row["x"]))
        if p >= span_p:
            right = model.p_right(tuple(row["x"])) >= scorer.ORIGINAL_P
            out.append({"start": row["start"], "end": row["end"], "confidence": p,
                        "original": row["original"] if right else None})  # fmt: skip
    return out


def fit(rows: list[dict], span_p: float) -> scorer.SpanScorer:
    x = np.array([r["x"] for r in rows], dtype=float)
    ws, bs = fit_logistic(x, np.array([r["swap"] for r in rows], dtype=float))
    wr, br = fit_logistic(x, np.array([r["right"] for r in rows], dtype=float))
    return scorer.SpanScorer(
        scorer.Logistic(tuple(round(float(v), 6) for v in ws), round(bs, 6)),
        scorer.Logistic(tuple(round(float(v), 6) for v in wr), round(br, 6)),
        span_p,
    )


def scorer_rows(pack, recs: list[dict], sites: list[str], overrides: list[str]) -> list[dict]:
    """`collect_rows`, cached. The rows depend on the pack (its table), the verdict calibration (the
    spun weight), the sites and the scorer's features: the cache is keyed by all four; runs that
    override the engine's constants neither read nor write it."""
    calibration = (REPO / "src" / "unspin" / "data" / "calibration.json").read_bytes()
    key = hashlib.sha256(
        pack.identity.encode() + calibration + ",".join(sites).encode() + ",".join(scorer.FEATURES).encode()
    ).hexdigest()[:16]
    cache = REPO / ".cache" / f"loso-rows-{key}.jsonl"
    overridden = [o for o in overrides if not o.startswith("scorer.")]
    if cache.is_file() and not overridden:
        return [json.loads(line) for line in cache.open()]
    rows = collect_rows(pack, recs, sites)
    if not overridden:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def held_out_scorer(rows: list[dict], by_id: dict[str, dict], sites: list[str], span_p: float,
                    synthetic: dict[str, list[dict]] | None = None) -> dict:  # fmt: skip
    """The span scorer leave-one-site-out on `scorer_rows`: per site, fitted on the other sites' rows
    (and that site's ``synthetic`` rows) and applied to its pages and sources. Token and restoration
    figures, the reliability of span confidence and of stated originals, and the spans on the honest
    sources (every one a false one)."""
    total, det, res, honest = PairScore(), [], [], 0
    for s in sites:
        model = fit([r for r in rows if r["site"] != s] + (synthetic or {}).get(s, []), span_p)
        for pid in sorted({r["id"] for r in rows if r["site"] == s}):
            rec = by_id[pid]
            spans = spans_from([r for r in rows if r["id"] == pid and r["kind"] == "spun"], model, span_p)
            total.add_pair(pid, rec["spun_text"], rec["source_text"], spans)
            d, e = span_truth(rec, spans)
            det += d
            res += e
        src_spans = spans_from([r for r in rows if r["site"] == s and r["kind"] == "source"], model, span_p)
        det += [(sp["confidence"], False) for sp in src_spans]
        honest += len(src_spans)
    out = total.result()
    out["span_reliability"] = reliability(det)
    out["original_reliability"] = reliability(res)
    out["spans_on_sources"] = honest
    return out


def scorer_main(args) -> None:
    pack = load()
    recs = spinner_records()
    sites = sorted({site(r) for r in recs})[: args.sites or None]
    t0 = time.perf_counter()
    rows = scorer_rows(pack, recs, sites, args.set)
    by_id = {r["id"]: r for r in recs}
    synthetic = synthetic_rows(pack, recs, sites, args.synthetic) if args.synthetic else {}
    spans_ps = [args.span_p] if args.span_p is not None else [0.2, 0.3, 0.4, 0.5]
    results = {f"span_p={p}": held_out_scorer(rows, by_id, sites, p, synthetic) for p in spans_ps}
    shipped = None
    if args.fit:
        span_p = args.span_p if args.span_p is not None else 0.4
        model = fit(rows, span_p)
        path = REPO / "src" / "unspin" / scorer.FILE
        path.write_text(json.dumps({**model.to_json(), "fitted_on": (
            f"{len(rows)} reporting-pass substitutions of {len({r['id'] for r in rows})} real spinner pages and "
            "their sources (../shared/dev, spinner table learnt leave-one-site-out); bench/loso.py --scorer --fit"
        )}, indent=1) + "\n", encoding="utf-8")  # fmt: skip
        shipped = str(path.relative_to(REPO))
    emit({"rows": len(rows), "seconds": round(time.perf_counter() - t0, 1), "by_span_p": results,
          "shipped": shipped},
         " | ".join(f"{k}: F1 {v['token_f1']} restore R {v['restore_recall']} P {v['restore_precision']} "
                    f"WER -{v['wer_reduction']}" for k, v in results.items()))


if __name__ == "__main__":
    main()
