"""Is a candidate the source? A logistic calibration over the retrieval and fingerprint features.

Two small logistic models, fitted by ``bench/fit_trace.py`` on synthetic copies (every spinner
style and rate, sentence reorder, clause splits, dropped sentences) of Wikipedia articles, with and
without their source among Wikipedia distractors, and exported to ``data/trace-calibration.json``:

- ``rank``: the cheap features, for every retrieved candidate (orders them);
- ``decide``: the same plus the passage alignment's coverage and the names and numbers the aligned
  sentences keep, for the best few (their ``confidence``).

``is_source`` holds when the best candidate's confidence reaches ``threshold``, chosen at fit time so
that copies whose source is absent get a confident (wrong) source for at most 1 % of them.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

__all__ = ["CHEAP", "FEATURES", "Calibration", "calibration"]

# bm25_norm: retrieval score / the best the query could reach; bm25_rel: / the best candidate's
# score; margin: (score − the best other candidate's) / the best the query could reach;
# sketch: skeleton shingles shared / the shorter text's; anchors: share of the copy's anchors the
# candidate holds; rare_absent: share of the copy's rare anchors (held by few references) it lacks;
# coverage: share of the shorter text (copy or source) inside aligned passages, times their similarity;
# names_kept: share of the copy's names and numbers in aligned sentences that the source sentence
# holds; numbers_lost: how many of its numbers there the source sentences lack (a share of 4).
CHEAP = ("bm25_norm", "bm25_rel", "margin", "sketch", "anchors", "rare_absent")
FEATURES = (*CHEAP, "coverage", "names_kept", "numbers_lost")

# Until a fit exists (and as a fallback): hand-set weights in the fitted models' form.
_DEFAULT = {
    "rank": {"weights": [4.0, 2.0, 4.0, 6.0, 3.0, -3.0], "bias": -6.0},
    "decide": {"weights": [4.0, 2.0, 4.0, 6.0, 3.0, -3.0, 4.0, 4.0, -2.0], "bias": -13.0},
    "threshold": 0.5,
}


class Calibration:
    def __init__(self, params: dict) -> None:
        self.rank_w = params["rank"]["weights"]
        self.rank_b = params["rank"]["bias"]
        self.decide_w = params["decide"]["weights"]
        self.decide_b = params["decide"]["bias"]
        self.threshold = params["threshold"]
        self.params = params

    @staticmethod
    def _p(weights, bias, values) -> float:
        z = bias + sum(w * v for w, v in zip(weights, values, strict=True))
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    def rank(self, f: dict[str, float]) -> float:
        return self._p(self.rank_w, self.rank_b, [f[k] for k in CHEAP])

    def confidence(self, f: dict[str, float]) -> float:
        return self._p(self.decide_w, self.decide_b, [f[k] for k in FEATURES])


@cache
def calibration() -> Calibration:
    try:
        text = resources.files("unspin").joinpath("data/trace-calibration.json").read_text(encoding="utf-8")
        params = json.loads(text)
        if params.get("features") == list(FEATURES):  # fitted for these features, in this order
            return Calibration(params)
    except (FileNotFoundError, ValueError, KeyError):
        pass
    return Calibration(_DEFAULT)
