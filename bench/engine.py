"""The engine, measured: detection, restoration, calibration and speed on every evaluation set.

    python bench/engine.py [--docs 120] [--words 350] [--quick]
    python bench/engine.py --speed-only [--prepare] [--words 350]   # speed alone, in a fresh (cold) process
    python bench/engine.py --speed-only --fast-only                 # the screening mode's speed alone

Real pages are checked with a spinner table and a span scorer learnt without their own site
(leave-one-site-out; the shipped ones saw them; bench/loso.py does the same over every real spinner page).

Sets: the real pairs in ../shared/dev/real-pairs.jsonl (spinner style scored for spans and
restoration; mt and paraphraser for detection), the seed example against its source, our evaluation
spinner over held-out Wikipedia per style and rate (the evaluation half of the held-out articles; the
other half calibrates), and clean text (the same held-out articles unspun, and clean news).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV, emit, load_jsonl, require_shared
from loso import every_eligible_word, fit, scorer_rows, spinner_records
from metrics import PairScore, gold_span_score, recall_at, roc_auc, threshold_at_fpr
from spinner import RATES, STYLES, hide_from_engine, spin, table_for
from unspin.decode import check, learned, scorer
from unspin.decode.detect import calibrations
from unspin.learn.pairs import site
from unspin.learn.table import learn
from unspin.pack import LanguagePack
from unspin.pack.corpus import held_out_articles

SEED_SWAPS = {"troopers": "soldiers", "air electricity": "air power", "Overseas Ministry": "Foreign Ministry",
              "cellphone contact": "phone call"}  # fmt: skip


def excerpt(text: str, max_words: int) -> str:
    """The article's first paragraphs up to about ``max_words`` words (real pairs are ~2,000-char excerpts)."""
    out, n = [], 0
    for para in text.split("\n"):
        w = len(para.split())
        if w < 8:  # headings and stubs
            continue
        out.append(para)
        n += w
        if n >= max_words:
            break
    return "\n\n".join(out)


def eval_docs(n: int, max_words: int, part: str) -> list[str]:
    """Held-out articles of 100+ words: the first half calibrates, the second half evaluates."""
    held = held_out_articles()
    half = held[len(held) // 2 :] if part == "eval" else held[: len(held) // 2]
    docs = []
    for art in half:
        text = excerpt(art["text"], max_words)
        if len(text.split()) >= 100:
            docs.append(text)
        if len(docs) >= n:
            break
    return docs


@contextmanager
def leave_site_out(pack, page: dict):
    """Check ``page`` with a spinner table learnt without its site's pages and a span scorer fitted
    without them (`bench/loso.py`'s rows): the shipped table and scorer saw every real page."""
    site_name = site(page)
    before = scorer.scorer()  # the shipped scorer (collecting the rows decodes without one)
    if site_name not in _TABLES:
        records = spinner_records()
        _TABLES[site_name] = learn(records, exclude_sites=frozenset({site_name}), pack=pack)
        if before is not None:
            rows = scorer_rows(pack, records, sorted({site(r) for r in records}), [])
            _SCORERS[site_name] = fit([r for r in rows if r["site"] != site_name], before.span_p)
    learned.use_table(pack, _TABLES[site_name])
    if site_name in _SCORERS:
        scorer.use_scorer(_SCORERS[site_name])
    try:
        yield
    finally:
        learned.use_own_table(pack)
        scorer.use_scorer(before)


_TABLES: dict = {}
_SCORERS: dict = {}


def real_pairs(pack) -> dict:
    pairs = list(load_jsonl(DEV / "real-pairs.jsonl"))
    by_style: dict[str, dict] = {}
    spinner = PairScore()
    everything = PairScore()  # the reference point: every eligible word of the page flagged
    scores: dict[str, list[float]] = {}
    flagged: dict[str, list[str]] = {}
    for p in pairs:
        with leave_site_out(pack, p):
            rep = check(p["spun_text"], pack).to_dict()
        style = p.get("style", "spinner")
        scores.setdefault(style, []).append(rep["score"])
        if rep["spun"]:
            flagged.setdefault(style, []).append(p["id"])
        if style == "spinner":
            spinner.add_pair(p["id"], p["spun_text"], p["source_text"], rep.get("spans", []))
            everything.add_pair(p["id"], p["spun_text"], p["source_text"], every_eligible_word(pack, p["spun_text"]))
    for style, s in scores.items():
        n = len(s)
        by_style[style] = {"pages": n, "flagged": len(flagged.get(style, [])), "scores": [round(x, 3) for x in s]}
    by_style["spinner"].update(spinner.result())
    by_style["spinner"]["per_doc"] = spinner.per_doc
    base = everything.result()
    by_style["spinner"]["flag_every_eligible_word"] = {
        k: base[k] for k in ("token_precision", "token_recall", "token_f1")
    }
    return by_style


def seed(pack) -> dict:
    pair = next(load_jsonl(DEV / "seed-pair.jsonl"))
    with leave_site_out(pack, pair):
        rep = check(pair["spun_text"], pack).to_dict()
    ps = PairScore()
    ps.add_pair("seed", pair["spun_text"], pair["source_text"], rep["spans"])
    # The named swaps, judged on the restored text: each occurrence of the spun phrase
    # should now read as the original phrase.
    restored = rep["restored"].lower()
    spun_l = pair["spun_text"].lower()
    out = {"spun": rep["spun"], "score": rep["score"], "spans": len(rep["spans"]), **ps.result()}
    named = {}
    for spun_words, orig in SEED_SWAPS.items():
        occurrences = spun_l.count(spun_words.lower())
        fixed = restored.count(orig.lower()) - spun_l.count(orig.lower())
        named[spun_words] = {"original": orig, "occurrences": occurrences, "restored": max(0, min(fixed, occurrences))}
    out["named_swaps"] = named
    out["named_swaps_restored_share"] = round(
        sum(v["restored"] for v in named.values()) / max(1, sum(v["occurrences"] for v in named.values())), 4
    )
    return out


def synthetic(pack, docs: list[str], clean_scores: list[float], threshold: float, rates, styles) -> dict:
    out = {}
    rng = random.Random(7)
    for style in styles:
        table = table_for(style, pack)
        for rate in rates:
            tot = {"tp": 0, "fp": 0, "fn": 0, "swaps": 0, "restored_right": 0, "restored_wrong": 0}
            scores = []
            achieved = []
            for text in docs:
                sp = spin(text, table, rate, rng, pack, phrase_originals=style == "phrase")
                achieved.append(sp.rate)
                with hide_from_engine(pack) if style == "heldout" else nullcontext():
                    rep = check(sp.text, pack).to_dict()
                scores.append(rep["score"])
                g = gold_span_score(sp.text, sp.swaps, rep["spans"])
                for k in tot:
                    tot[k] += g[k]
            p = tot["tp"] / (tot["tp"] + tot["fp"]) if tot["tp"] + tot["fp"] else 0.0
            r = tot["tp"] / (tot["tp"] + tot["fn"]) if tot["tp"] + tot["fn"] else 0.0
            restored = tot["restored_right"] + tot["restored_wrong"]
            out[f"{style}@{rate}"] = {
                "docs": len(docs),
                "achieved_rate": round(sum(achieved) / len(achieved), 4),
                "token_precision": round(p, 4),
                "token_recall": round(r, 4),
                "token_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                "restore_recall": round(tot["restored_right"] / tot["swaps"], 4) if tot["swaps"] else 0.0,
                "restore_precision": round(tot["restored_right"] / restored, 4) if restored else None,
                "doc_recall_default_threshold": round(recall_at(scores, threshold), 4),
                "doc_auc": round(roc_auc(scores, clean_scores) or 0.0, 4),
                "doc_recall_at_1pct_fpr": round(recall_at(scores, threshold_at_fpr(clean_scores)), 4),
            }
            print(f"  {style}@{rate}: {out[f'{style}@{rate}']}", file=sys.stderr)
    return out


def speed(pack, docs: list[str], fast_passes: int = 9, full: bool = True) -> dict:
    """MB/s on one core. ``first_pass``: documents not checked before (thesaurus lookups and
    re-inflection are memoised per process, as warm as the sets before left them); ``warm``: the same
    documents again (every lookup memoised: the ceiling a long batch approaches); ``fast``: one pass
    of the screening mode. A screening pass over the set takes tens of milliseconds, so it is at the
    mercy of whatever else the machine runs: ``fast_median`` is the median of ``fast_passes`` more
    passes, and ``load_avg_1m`` says how busy the machine was. Without ``full``: the screening mode
    alone (``fast`` and ``fast_median``)."""
    total = sum(len(d.encode()) for d in docs)
    res: dict = {"bytes": total, "docs": len(docs)}
    modes = (("first_pass", "full"), ("warm", "full"), ("fast", "fast"), ("cascade", "cascade"))
    for label, mode in modes if full else modes[2:3]:
        t0 = time.perf_counter()
        for d in docs:
            check(d, pack, fast=mode == "fast", cascade=mode == "cascade")
        dt = time.perf_counter() - t0
        res[label] = {"mb_per_s": round(total / dt / 1e6, 4), "docs_per_s": round(len(docs) / dt, 2)}
    times = []
    for _ in range(fast_passes):
        t0 = time.perf_counter()
        for d in docs:
            check(d, pack, fast=True)
        times.append(time.perf_counter() - t0)
    dt = statistics.median(times)
    res["fast_median"] = {"mb_per_s": round(total / dt / 1e6, 4), "docs_per_s": round(len(docs) / dt, 2),
                          "passes": fast_passes}  # fmt: skip
    res["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return res


def speed_docs(max_words: int) -> list[str]:
    """The speed set: the last 60 held-out articles (after the evaluation half's), as excerpts."""
    return [excerpt(a["text"], max_words) for a in held_out_articles()[-60:]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=120, help="held-out articles per synthetic condition")
    ap.add_argument("--words", type=int, default=350, help="words per article excerpt")
    ap.add_argument("--quick", action="store_true", help="fewer conditions (rates 0.25 and 0.4)")
    ap.add_argument(
        "--speed-only",
        action="store_true",
        help="only the speed section, in this fresh process: first_pass is then fully cold (every memo empty, "
        "lazily built indexes included)",
    )
    ap.add_argument("--prepare", action="store_true", help="with --speed-only: engine.prepare() first, timed apart")
    ap.add_argument("--fast-only", action="store_true", help="with --speed-only: the screening mode (--fast) alone")
    args = ap.parse_args()
    require_shared()
    t0 = time.perf_counter()
    pack = LanguagePack.load()
    load_s = time.perf_counter() - t0
    if args.speed_only:
        prepare_s = None
        if args.prepare:
            from unspin.decode.engine import prepare

            t1 = time.perf_counter()
            prepare(pack)
            prepare_s = round(time.perf_counter() - t1, 3)
        sp = speed(pack, speed_docs(args.words), full=not args.fast_only)
        full = "" if args.fast_only else (
            f"check {sp['first_pass']['mb_per_s']} MB/s first pass, {sp['warm']['mb_per_s']} warm, ")
        emit(
            {"pack_load_s": round(load_s, 3), "prepare_s": prepare_s, "speed": sp},
            f"engine speed (cold process): {full}fast {sp['fast']['mb_per_s']} MB/s "
            f"(median of {sp['fast_median']['passes']}: {sp['fast_median']['mb_per_s']}; load {sp['load_avg_1m']})",
        )
        return
    cal = calibrations()["full"]
    docs = eval_docs(args.docs, args.words, "eval")
    clean_news = [r["text"] for r in load_jsonl(DEV / "clean-news.jsonl")]

    clean_wiki = [check(d, pack).to_dict() for d in docs]
    clean_news_reports = [check(d, pack).to_dict() for d in clean_news]
    clean_scores = [r["score"] for r in clean_wiki if r["score"] is not None]
    long_news = [r for r, t in zip(clean_news_reports, clean_news, strict=True) if len(t.split()) >= 100]
    clean = {
        "wiki_docs": len(clean_wiki),
        "wiki_flagged": sum(r["spun"] for r in clean_wiki),
        "wiki_fpr": round(sum(r["spun"] for r in clean_wiki) / len(clean_wiki), 4),
        "news_docs": len(clean_news),
        "news_flagged": sum(r["spun"] for r in clean_news_reports),
        "news_100plus_docs": len(long_news),
        "news_100plus_flagged": sum(r["spun"] for r in long_news),
        "news_scores": [r["score"] for r in clean_news_reports],
        "threshold": cal.threshold,
    }
    print(f"clean: {clean}", file=sys.stderr)
    rates = (0.25, 0.4) if args.quick else RATES
    result = {
        "pack_load_s": round(load_s, 3),
        "real_pairs": real_pairs(pack),
        "seed": seed(pack),
        "clean": clean,
        "synthetic": synthetic(pack, docs, clean_scores, cal.threshold, rates, STYLES),
        "speed": speed(pack, speed_docs(args.words)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    rp = result["real_pairs"]["spinner"]
    sd = result["seed"]
    emit(
        result,
        f"engine: real spinner pairs F1 {rp['token_f1']} restore R/P {rp['restore_recall']}/{rp['restore_precision']} "
        f"WER {rp['wer_before']}→{rp['wer_after']} flagged {rp['flagged']}/{rp['pages']}; seed restore recall "
        f"{sd['restore_recall']}; clean FPR wiki {clean['wiki_fpr']} "
        f"news {clean['news_flagged']}/{clean['news_docs']}; "
        f"check {result['speed']['first_pass']['mb_per_s']} MB/s first pass, {result['speed']['warm']['mb_per_s']} "
        f"warm, fast {result['speed']['fast']['mb_per_s']} MB/s",
    )


if __name__ == "__main__":
    main()
