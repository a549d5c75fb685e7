"""Document verdicts: from the decoder's evidence (or a cheap screen) to a calibrated score.

Flagging an honest author is the worst error unspin can make, so the default thresholds are chosen on
clean text (held-out Wikipedia and clean news): at most 1 % of clean documents of 100+ words score
above them. ``bench/calibrate.py`` fits the numbers stored in ``data/calibration.json``.

Texts the models cannot judge get a verdict that says so instead of a guess.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..tokens import WORD, Token, lm_form

MIN_WORDS = 50  # below this a document verdict is a guess: "too-short"
MIN_ENGLISH_SHARE = 0.6  # share of words the pack knows, below which the text is "not-english"
MIN_PROSE_SHARE = 0.5  # share of tokens that are words; tables, code and lists of numbers fall below

SPUN, CLEAN, TOO_SHORT, NOT_ENGLISH, NOT_PROSE = "spun", "clean", "too-short", "not-english", "not-prose"


@dataclass(frozen=True, slots=True)
class Calibration:
    """score = sigmoid(w · features + bias); ``threshold`` on the score keeps clean FPR ≤ target.

    Weights are fitted non-negative, so the score is monotone in every piece of evidence.
    """

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def score(self, features: tuple[float, ...]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


# Features per mode: full = (decoder evidence, screening evidence); fast = (screening evidence,).
_DEFAULTS = {"full": Calibration((0.5, 0.3), -6.0, 0.5), "fast": Calibration((0.5,), -4.0, 0.5)}


@lru_cache(maxsize=1)
def calibrations() -> dict[str, Calibration]:
    """The shipped calibration (or neutral defaults before the first calibration run)."""
    try:
        raw = json.loads(resources.files("unspin").joinpath("data/calibration.json").read_text(encoding="utf-8"))
        return {
            mode: Calibration(tuple(raw[mode]["weights"]), raw[mode]["bias"], raw[mode]["threshold"])
            for mode in ("full", "fast")
        }
    except (FileNotFoundError, OSError, ValueError, KeyError):
        return dict(_DEFAULTS)


def gate(pack, tokens: list[Token]) -> str | None:
    """A verdict for texts that cannot be judged (None when the text can be judged)."""
    words = [t for t in tokens if t.kind == WORD]
    if tokens and len(words) / len(tokens) < MIN_PROSE_SHARE:
        return NOT_PROSE
    alpha = [t for t in words if t.text.isalpha()]
    if alpha:
        known = sum(1 for t in alpha if pack.vocab.count(lm_form(t.text)) > 0)
        ascii_share = sum(1 for t in alpha if t.text.isascii()) / len(alpha)
        if known / len(alpha) < MIN_ENGLISH_SHARE or ascii_share < MIN_ENGLISH_SHARE:
            return NOT_ENGLISH
    if len(words) < MIN_WORDS:
        return TOO_SHORT
    return None


def screen(pack, sentences: list[list[Token]]) -> float:
    """Screening evidence without decoding: the share (per 100) of known content words that neither
    follow their left neighbour nor lead into their right one in any n-gram the pack has seen.

    Honest writing rarely puts a common word between two unseen bigrams; a spinner that swaps
    "power" for "electricity" after "air" does it constantly. One pass of the language model per
    sentence, in C++: no candidates, no search.
    """
    from .channel import eligible

    model = pack.lm.model
    count = hits = 0
    for sent in sentences:
        if not sent:
            continue
        forms = [lm_form(t.text) for t in sent]
        scores = list(model.full_scores(" ".join(forms), bos=True, eos=True))
        for k, tok in enumerate(sent):
            if not eligible(tok, k == 0, pack) or scores[k][2]:  # [2]: out of vocabulary
                continue
            count += 1
            if scores[k][1] <= 1 and scores[k + 1][1] <= 1:
                hits += 1
    return 100.0 * hits / count if count else 0.0
