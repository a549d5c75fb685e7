"""Fit the trace calibration (``src/unspin/data/trace-calibration.json``) and check it on the dev pairs.

    python bench/fit_trace.py [--distractors 5000] [--present 800] [--absent 400] [--write]
    python bench/fit_trace.py --index DIR --present 800 --absent 1200 --shard 7 [--write]

The shipped calibration: passages-only rows from the 1 M index, then the 100 k index's with them::

    python bench/fit_trace.py --index /work/cache-1m/index --present 400 --absent 1200 --shard 6 --cache 1m.pkl
    python bench/fit_trace.py --index /work/cache-15/a100k/index --present 800 --absent 1200 --shard 7 \
        --cache 100k.pkl --merge 1m.pkl --target 0.0025 --write

With ``--index``: on the index ``bench/trace.py --index DIR --build-only`` built (100 k articles),
so that the fit sees the look-alikes of a collection that size (template siblings that a 5 k
collection seldom holds); present copies are of its training-article distractors, absent copies
of ``--shard``'s articles not in it, and trace.py's held-out queries stay unseen.

Collection: training Wikipedia articles (never the held-out ones ``trace.py`` measures on) as
distractors, plus the sources of the present copies. Copies (``trace_data``): excerpts spun in every
style at rates 10–60 %, a quarter each left as spun, sentence-reordered, clause-split or with
sentences dropped; as many again of articles not in the collection (source absent).
Fit: two logistic regressions (numpy IRLS, light L2): ``rank`` on the cheap features of every
candidate, ``decide`` with the alignment coverage on the aligned best few; label 1 for the true
source. The threshold is the smallest confidence at which at most ``--target`` of the source-absent
copies get a (wrong) confident source. Then the dev pairs (real-pairs, train-pairs, seed) are traced
among the same distractors with their sources added: every copy should rank its source first.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV, REPO, emit, load_jsonl, require_shared
from trace_data import Copier, articles
from unspin.pack import load
from unspin.repair import repair_text
from unspin.trace import Reference, add_references, open_index
from unspin.trace.decide import CHEAP, FEATURES, Calibration
from unspin.trace.store import ALIGN_TOP, CANDIDATES

OUT = REPO / "src" / "unspin" / "data" / "trace-calibration.json"
ALIGNED = 4


def fit_signed(x: np.ndarray, y: np.ndarray, signs: list[int]) -> tuple[list[float], float]:
    """``irls`` with each weight held to its sign (+1: evidence for, −1: against): a feature whose
    fitted weight comes out of the wrong sign (collinear with another) is dropped and the rest refit,
    so the model cannot extrapolate against common sense (a lone, barely matching candidate named
    because a feature it lacks had a negative weight)."""
    keep = list(range(x.shape[1]))
    while True:
        w, b = irls(x[:, keep], y)
        wrong = [k for k, v in zip(keep, w, strict=True) if v * signs[k] < 0]
        if not wrong:
            full = [0.0] * x.shape[1]
            for k, v in zip(keep, w, strict=True):
                full[k] = v
            return full, b
        keep.remove(min(wrong, key=lambda k: w[keep.index(k)] * signs[k]))


def irls(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> tuple[list[float], float]:
    """Logistic regression by Newton's method; returns (weights, bias)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = l2 * np.eye(xb.shape[1])
    reg[-1, -1] = 0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -50, 50)))
        g = xb.T @ (p - y) + reg @ w
        h = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return [round(float(v), 5) for v in w[:-1]], round(float(w[-1]), 5)


def dev_pairs() -> list[dict]:
    out = []
    for name in ("real-pairs.jsonl", "train-pairs.jsonl", "seed-pair.jsonl"):
        for p in load_jsonl(DEV / name):
            out.append({**p, "set": name.split("-")[0], "style": p.get("style", "spinner")})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--distractors", type=int, default=5000)
    ap.add_argument("--present", type=int, default=800)
    ap.add_argument("--absent", type=int, default=400)
    ap.add_argument("--target", type=float, default=0.005)
    ap.add_argument("--shard", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="Write the fitted calibration into the package.")
    ap.add_argument("--cache", default=None, help="Keep the candidates' features here (refit without searching).")
    ap.add_argument(
        "--index",
        default=None,
        help="Fit on an index built by bench/trace.py (--index DIR --build-only) instead of building one: present"
        " copies of its training-article distractors, absent copies of --shard's articles not in it.",
    )
    ap.add_argument("--merge", nargs="*", default=[], help="--cache files of other runs whose copies join this fit's.")
    args = ap.parse_args()
    require_shared()
    pack = load()
    copier = Copier(pack)
    pairs = dev_pairs()
    dev_refs: dict[str, str] = {}
    tmp = None
    if args.index:
        # The collection the measurement uses, at its size (template siblings, look-alikes and all),
        # but copies only of training articles: the held-out queries of trace.py stay unseen.
        idx = open_index(Path(args.index), pack)
        rows_ = idx.conn.execute("SELECT doc, id FROM docs WHERE id LIKE 'd-%' ORDER BY doc").fetchall()
        step = max(1, len(rows_) // (args.present * 2))
        sources = []
        for doc, ref_id in rows_[::step]:
            text = idx.reference(doc).text
            if len(text.split()) >= 50:
                sources.append((ref_id, text))
            if len(sources) >= args.present:
                break
        # Articles with anything in the index: ``d-{article}`` or, as passages, ``d-{article}-{k}``.
        known = {i[2:] if i.count("-") < 3 else i[2:].rsplit("-", 1)[0] for i in idx.ids() if i.startswith("d-")}
        orphans = (a for a in articles(args.shard) if a["id"] not in known)
        orphans = [next(orphans) for _ in range(args.absent)]
        present = [(copier(t)[0], i) for i, t in sources]
        absent = [(copier(a["text"])[0], None) for a in orphans]
        by_text: dict[str, str] = {}
        for p in pairs:  # named as trace.py names them
            p["truth"] = by_text.setdefault(p["source_text"], f"src-{p['id']}")
        refs = [None] * len(idx)
    else:
        stream = articles(args.shard)
        distractors = [next(stream) for _ in range(args.distractors)]
        sources = [next(stream) for _ in range(args.present)]
        orphans = [next(stream) for _ in range(args.absent)]
        present = [(copier(a["text"])[0], f"w{a['id']}") for a in sources]
        absent = [(copier(a["text"])[0], None) for a in orphans]
        for p in pairs:
            p["truth"] = dev_refs.setdefault(p["source_text"], f"dev-{p['id']}")
        refs = [Reference(f"w{a['id']}", a["text"]) for a in distractors + sources]
        refs += [Reference(i, t) for t, i in dev_refs.items()]
        tmp = tempfile.TemporaryDirectory()
        idx = open_index(Path(tmp.name) / "idx", pack, create=True)
        t0 = time.perf_counter()
        add_references(idx, refs)
        print(f"built {len(refs)} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.is_file():
        rows = pickle.loads(cache.read_bytes())
    else:
        t0 = time.perf_counter()
        rows = []  # per query: (present, [(features, coverage known, label)])
        for text, truth in present + absent:
            found = idx.search(repair_text(text)[0], top=CANDIDATES, align_top=ALIGNED)
            rows.append((truth is not None, [(dict(c.features), c.passages is not None, c.id == truth) for c in found]))
        print(f"searched {len(rows)} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if cache is not None:
            cache.write_bytes(pickle.dumps(rows))
    for extra in args.merge:  # rows searched in other collections (another size, passages for articles)
        rows = rows + pickle.loads(Path(extra).read_bytes())
    rank_x = [[f[k] for k in CHEAP] for _, cands in rows for f, _, _ in cands]
    rank_y = [float(y) for _, cands in rows for _, _, y in cands]
    dec_x = [[f[k] for k in FEATURES] for _, cands in rows for f, known, _ in cands if known]
    dec_y = [float(y) for _, cands in rows for _, known, y in cands if known]
    signs = {k: -1 if k in ("rare_absent", "numbers_lost") else 1 for k in FEATURES}
    rw, rb = fit_signed(np.array(rank_x), np.array(rank_y), [signs[k] for k in CHEAP])
    dw, db = fit_signed(np.array(dec_x), np.array(dec_y), [signs[k] for k in FEATURES])
    params = {
        "features": list(FEATURES),
        "rank": {"weights": rw, "bias": rb},
        "decide": {"weights": dw, "bias": db},
        "threshold": 0.5,
    }
    cal = Calibration(params)

    # Production's decision, replayed on the stored features: rank, the best ALIGN_TOP with their
    # coverage (stored for the best ALIGNED of the default order), the rest without.
    def decided(cands):
        order = sorted(cands, key=lambda c: -cal.rank(c[0]))
        conf = [
            (
                cal.confidence(
                    f if i < ALIGN_TOP and known else {**f, "coverage": 0.0, "names_kept": 0.0, "numbers_lost": 0.0}
                ),
                y,
            )
            for i, (f, known, y) in enumerate(order)
        ]
        return max(conf, default=(0.0, False))

    p_res = [decided(c) for present_, c in rows if present_]
    a_conf = sorted(decided(c)[0] for present_, c in rows if not present_)
    allowed = int(args.target * len(a_conf))
    threshold = max(0.5, a_conf[-allowed - 1] + 1e-4 if len(a_conf) > allowed else 0.5)
    params["threshold"] = cal.threshold = round(float(threshold), 4)

    import unspin.trace.store as store

    store.calibration = lambda: cal  # the fitted one, for the dev pairs below
    dev = []
    for p in pairs:
        found = idx.search(repair_text(p["spun_text"])[0], top=10)
        rank = next((i + 1 for i, c in enumerate(found) if c.id == p["truth"]), None)
        dev.append((rank, found[0].confidence if found else 0.0, found[0].id if found else None))
    idx.close()
    if tmp is not None:
        tmp.cleanup()

    by_style: dict[str, list] = {}
    for p, r in zip(pairs, dev, strict=True):
        by_style.setdefault(f"{p['set']}:{p['style']}", []).append(r)
    result = {
        "collection": len(refs),
        "calibration": params,
        "synthetic": {
            "best_is_source": round(sum(1 for _, y in p_res if y) / len(p_res), 4),
            "named_right": round(sum(1 for c, y in p_res if y and c >= threshold) / len(p_res), 4),
            "named_wrong": round(sum(1 for c, y in p_res if not y and c >= threshold) / len(p_res), 4),
        },
        "absent": {
            "confident_wrong": round(sum(1 for c in a_conf if c >= threshold) / len(a_conf), 4),
            "confidence_p99": round(float(np.percentile(a_conf, 99)), 4),
        },
        "dev": {
            k: {
                "pairs": len(v),
                "first": sum(1 for r, _, _ in v if r == 1),
                "named": sum(1 for r, c, _ in v if r == 1 and c >= threshold),
                "misses": [r for r in v if r[0] != 1 or r[1] < threshold],
            }
            for k, v in sorted(by_style.items())
        },
    }
    if args.write:
        OUT.write_text(json.dumps(params, indent=1) + "\n", encoding="utf-8")
    emit(
        result,
        f"fit_trace: synthetic best {result['synthetic']['best_is_source']},"
        f" named {result['synthetic']['named_right']};"
        f" absent confidently wrong {result['absent']['confident_wrong']}; threshold {threshold:.3f}",
    )


if __name__ == "__main__":
    main()
