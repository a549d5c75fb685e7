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
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit, require_shared
from engine import eval_docs
from spinner import spin, table_for
from unspin.decode import check
from unspin.decode.detect import SCREEN_FEATURES
from unspin.learn.logistic import fit_logistic
from unspin.pack import LanguagePack

TARGET_FPR = 0.005
RATES = (0.15, 0.25, 0.4, 0.6)  # spinner rates of the spun copies (real spun pages swap about half their words)
OUT = REPO / "src" / "unspin" / "data" / "calibration.json"


def recall_at_target(neg: np.ndarray, pos: np.ndarray) -> float:
    """Share of ``pos`` above the (1 - TARGET_FPR) quantile of ``neg``."""
    k = int(TARGET_FPR * len(neg))
    cut = np.sort(neg)[::-1][k]
    return float((pos > cut).mean())


def fit_operating_point(neg: np.ndarray, pos: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Weights chosen for recall at the target false-positive rate, then scaled into probabilities.

    Log-loss fitting serves the average document; the threshold is set by the few most spun-looking
    clean documents, so the direction that combines the features is searched for the operating point
    itself (non-negative weights on standardised features: monotone in every piece of evidence), and
    a 1-D logistic fit along it turns the combined evidence into a probability-like score.
    """
    scale = np.maximum(np.vstack([neg, pos]).std(axis=0), 1e-9)
    best, best_w = -1.0, np.ones(neg.shape[1])
    for w in [np.eye(neg.shape[1])[i] for i in range(neg.shape[1])] + list(rng.dirichlet(np.ones(neg.shape[1]), 3000)):
        d = w / scale
        r = recall_at_target(neg @ d, pos @ d)
        if r > best:
            best, best_w = r, d
    proj = np.concatenate([neg @ best_w, pos @ best_w])[:, None]
    a, b = fit_logistic(proj, np.array([0] * len(neg) + [1] * len(pos)), nonneg=True)
    return best_w * a[0], b


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=300)
    args = ap.parse_args()
    require_shared()
    pack = LanguagePack.load()
    docs = eval_docs(args.docs, 350, "calibration")
    rng = random.Random(11)
    spun_docs = []
    spun_rates = []
    styles = ("common", "synonym", "unseen")
    tables = {s: table_for(s, pack) for s in styles}
    for i, d in enumerate(docs):
        style = styles[i % 3]
        rate = RATES[(i // 3) % len(RATES)]
        sp = spin(d, tables[style], rate, rng, pack)
        spun_docs.append(sp.text)
        spun_rates.append(sp.rate)
    result = {"target_fpr": TARGET_FPR, "docs": len(docs)}
    calibration = {}
    # One full check per document gives every feature of both modes (fast uses the screening ones).
    names = ["evidence", *SCREEN_FEATURES]

    measured: dict[str, float] = {}

    def features(text: str) -> list[float]:
        stats = check(text, pack).stats
        measured[text] = stats["measured_rate"]
        return [stats["evidence"], *(stats["screen"][k] for k in SCREEN_FEATURES)]

    neg_all = np.array([features(d) for d in docs])
    pos_all = np.array([features(d) for d in spun_docs])
    # The reporting pass's rate estimate: true swap share ~ scale * (measured share - base), least
    # squares over the spun copies (the share the measuring pass finds in honest text is the base).
    m = np.array([measured[t] for t in spun_docs])
    slope, intercept = np.polyfit(m, np.array(spun_rates), 1)
    rate = {"base": round(float(-intercept / slope), 4), "scale": round(float(slope), 4)}
    result["rate"] = {**rate, "clean_measured_mean": round(float(np.mean([measured[d] for d in docs])), 4)}
    rng_np = np.random.default_rng(0)
    for mode in ("full", "fast"):
        cols = list(range(1, len(names))) if mode == "fast" else list(range(len(names)))
        neg, pos = neg_all[:, cols], pos_all[:, cols]
        weights, bias = fit_operating_point(neg, pos, rng_np)

        def score(f: np.ndarray, weights: np.ndarray = weights, bias: float = bias) -> np.ndarray:
            return 1.0 / (1.0 + np.exp(-np.clip(f @ weights + bias, -60, 60)))

        neg_scores = np.sort(score(neg))[::-1]
        k = int(TARGET_FPR * len(neg_scores))
        threshold = float(min(0.999999, neg_scores[k] + 1e-6)) if k < len(neg_scores) else 0.5
        threshold = max(threshold, 0.5)  # never call a text spun at odds below even
        recall = float((score(pos) >= threshold).mean())
        fpr = float((score(neg) >= threshold).mean())
        calibration[mode] = {
            "weights": [round(float(w), 6) for w in weights],
            "bias": round(bias, 6),
            "threshold": round(threshold, 6),
            "features": [names[c] for c in cols],
        }
        result[mode] = {**calibration[mode], "calibration_recall": round(recall, 4), "calibration_fpr": round(fpr, 4)}
    calibration["rate"] = rate
    calibration["fitted_on"] = (
        f"{len(docs)} clean held-out Wikipedia excerpts (calibration half) and their spun copies "
        f"(evaluation spinner, styles common/synonym/unseen, rates {RATES[0]}-{RATES[-1]})"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    emit(
        result,
        f"calibrate: full w={result['full']['weights']} t={result['full']['threshold']} "
        f"recall {result['full']['calibration_recall']}; fast t={result['fast']['threshold']} "
        f"recall {result['fast']['calibration_recall']} → {OUT.relative_to(REPO)}",
    )


if __name__ == "__main__":
    main()
