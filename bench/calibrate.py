"""Fit the detector's calibration and write ``src/unspin/data/calibration.json``.

    python bench/calibrate.py [--docs 300]

Uses only the calibration half of the held-out Wikipedia articles (bench/engine.py measures on the
other half, and on clean news): clean excerpts, and the same excerpts spun by our evaluation spinner
at several rates and styles. For each mode (full decoding, fast screening) it fits
``score = sigmoid(a * evidence + b)`` by logistic regression, then sets the threshold so that at most
``TARGET_FPR`` of the clean calibration documents score above it. The target is half the promised
1 %, leaving room for the difference between calibration and unseen text.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit, require_shared
from engine import eval_docs
from spinner import spin, table_for
from unspin.decode import check
from unspin.pack import LanguagePack

TARGET_FPR = 0.005
OUT = REPO / "src" / "unspin" / "data" / "calibration.json"


def fit_logistic(xs: list[float], ys: list[int], iters: int = 50) -> tuple[float, float]:
    """1-D logistic regression by Newton's method (with a tiny ridge for separable data)."""
    a, b = 0.0, 0.0
    for _ in range(iters):
        ga = gb = haa = hab = hbb = 0.0
        for x, y in zip(xs, ys, strict=True):
            p = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, a * x + b))))
            ga += (p - y) * x
            gb += p - y
            w = p * (1 - p)
            haa += w * x * x
            hab += w * x
            hbb += w
        ga += 1e-3 * a
        haa += 1e-3
        hbb += 1e-6
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-9:
            break
    return a, b


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=300)
    args = ap.parse_args()
    require_shared()
    pack = LanguagePack.load()
    docs = eval_docs(args.docs, 350, "calibration")
    rng = random.Random(11)
    spun_docs = []
    tables = {s: table_for(s, pack) for s in ("synonym", "unseen")}
    for i, d in enumerate(docs):
        style = ("synonym", "unseen")[i % 2]
        rate = (0.15, 0.25, 0.4)[i % 3]
        spun_docs.append(spin(d, tables[style], rate, rng, pack).text)
    result = {"target_fpr": TARGET_FPR, "docs": len(docs)}
    calibration = {}
    for mode in ("full", "fast"):
        fast = mode == "fast"
        neg = [check(d, pack, fast=fast).stats["evidence"] for d in docs]
        pos = [check(d, pack, fast=fast).stats["evidence"] for d in spun_docs]
        a, b = fit_logistic(neg + pos, [0] * len(neg) + [1] * len(pos))
        if a <= 0:
            raise SystemExit(f"{mode}: evidence does not separate spun from clean (a={a:.3f}); not writing")

        def score(x: float, a: float = a, b: float = b) -> float:
            return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, a * x + b))))

        neg_scores = sorted((score(x) for x in neg), reverse=True)
        k = int(TARGET_FPR * len(neg_scores))
        threshold = min(0.999999, neg_scores[k] + 1e-6) if k < len(neg_scores) else 0.5
        threshold = max(threshold, 0.5)  # never call a text spun at odds below even
        recall = sum(score(x) >= threshold for x in pos) / len(pos)
        fpr = sum(score(x) >= threshold for x in neg) / len(neg)
        calibration[mode] = {"a": round(a, 6), "b": round(b, 6), "threshold": round(threshold, 6)}
        result[mode] = {**calibration[mode], "calibration_recall": round(recall, 4), "calibration_fpr": round(fpr, 4)}
    calibration["fitted_on"] = (
        f"{len(docs)} clean held-out Wikipedia excerpts (calibration half) and their spun copies "
        "(evaluation spinner, styles synonym/unseen, rates 0.15-0.4)"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    emit(
        result,
        f"calibrate: full a={result['full']['a']} t={result['full']['threshold']} "
        f"recall {result['full']['calibration_recall']}; fast t={result['fast']['threshold']} "
        f"recall {result['fast']['calibration_recall']} → {OUT.relative_to(REPO)}",
    )


if __name__ == "__main__":
    main()
