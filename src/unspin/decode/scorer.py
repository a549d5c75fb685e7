"""Span confidence and whether to state an original: two small logistic models over a substitution's evidence.

The decoder's log-odds say how much better the sentence reads with the original; they are not the
probability that a spinner swapped the word, nor that the original is the one it swapped out (the
n-gram model happily "restores" an honest word's synonym). Both probabilities are fitted on real
spinner pages against their sources (`unspin.learn.spans`, leave-one-site-out in ``bench/loso.py``)
and on the sources themselves (honest text, where every substitution is wrong):

- ``p_swap``: the span covers a real swap: the report's ``confidence``;
- ``p_right``: the span covers a real swap *and* the original is the source's word: the original is
  stated only when it reaches ``ORIGINAL_P`` (a confident wrong original is the second-worst error).

Features (`features`): the decoder's gain and original gain (capped), how often real spinners made
this very swap and output this word (the learned table), the document's spun weight and measured swap
rate, capitalisation and span length. Weights live in ``data/span-scorer.json``; without that file
the engine falls back to its log-odds rules.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

FEATURES = (
    "gain", "original_gain", "learned_pair", "learned_output", "output_bonus", "spun_weight", "measured_rate",
    "capitalised", "words", "gain_x_spun", "learned_share", "channel", "pair_x_spun",
)  # fmt: skip
GAIN_CAP = 6.0
ORIGINAL_P = 0.8  # P(right original) needed to state it
FILE = "data/span-scorer.json"


def features(table, observed: str, original: str, gain: float, original_gain: float, spun_weight: float,
             measured_rate: float, capitalised: bool, channel: float = 0.0) -> tuple[float, ...]:  # fmt: skip
    """One substitution's evidence, in `FEATURES` order (``observed``/``original`` in LM form)."""
    from .learned import output_bonus

    pair = out = bonus = share = 0.0
    if table is not None:
        learned = table.pairs.get(observed, {})
        total = sum(learned.values())
        pair = math.log10(1 + learned.get(original, 0))
        out = math.log10(1 + total)
        share = learned.get(original, 0) / total if total else 0.0
        bonus = output_bonus(table, observed)
    g = max(-GAIN_CAP, min(GAIN_CAP, gain))
    return (
        g, max(-GAIN_CAP, min(GAIN_CAP, original_gain)), pair, out, bonus, spun_weight, measured_rate,
        float(capitalised), float(observed.count(" ") + 1), g * spun_weight, share,
        max(-GAIN_CAP, min(GAIN_CAP, channel)), pair * spun_weight,
    )  # fmt: skip


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]
    bias: float

    def __call__(self, x: tuple[float, ...]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(frozen=True)
class SpanScorer:
    p_swap: Logistic
    p_right: Logistic
    span_p: float  # P(swap) a span needs to be reported

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "p_swap": {"weights": list(self.p_swap.weights), "bias": self.p_swap.bias},
            "p_right": {"weights": list(self.p_right.weights), "bias": self.p_right.bias},
            "span_p": self.span_p,
            "original_p": ORIGINAL_P,
        }

    @classmethod
    def from_json(cls, raw: dict) -> SpanScorer:
        if tuple(raw["features"]) != FEATURES:
            raise ValueError("span scorer fitted on other features; refit with bench/loso.py --fit")
        return cls(
            Logistic(tuple(raw["p_swap"]["weights"]), raw["p_swap"]["bias"]),
            Logistic(tuple(raw["p_right"]["weights"]), raw["p_right"]["bias"]),
            float(raw["span_p"]),
        )


_OVERRIDE: list = []


@lru_cache(maxsize=1)
def _shipped() -> SpanScorer | None:
    try:
        raw = json.loads(resources.files("unspin").joinpath(FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError, ValueError):
        return None
    return SpanScorer.from_json(raw)


def scorer() -> SpanScorer | None:
    """The span scorer in use: the shipped one, or the one `use_scorer` set (measurement)."""
    return _OVERRIDE[-1] if _OVERRIDE else _shipped()


def use_scorer(model: SpanScorer | None) -> None:
    """Decode with ``model`` (None: the log-odds rules) from now on in this process."""
    _OVERRIDE.clear()
    _OVERRIDE.append(model)
