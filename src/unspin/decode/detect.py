"""Document verdicts: from the decoder's evidence (or a cheap screen) to a calibrated score.

Flagging an honest author is the worst error unspin can make, so the default thresholds are chosen on
clean text (held-out Wikipedia excerpts of 50 to 1,200 words and clean news): at most 0.5 % of the clean
excerpts of each length band (50-150, 150-400, 400+ words) score above them. ``bench/calibrate.py``
fits the numbers stored in ``data/calibration.json``.

Texts the models cannot judge get a verdict that says so instead of a guess.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..tokens import Token

MIN_WORDS = 50  # below this a document verdict is a guess: "too-short"
MIN_ENGLISH_SHARE = 0.6  # share of words the pack knows, below which the text is "not-english"
MIN_FUNCTION_SHARE = 0.15  # English prose: ~0.35-0.5 of words are function words; French: < 0.1
MIN_PROSE_SHARE = 0.5  # share of tokens that are words; tables, code and lists of numbers fall below

SPUN, CLEAN, TOO_SHORT, NOT_ENGLISH, NOT_PROSE = "spun", "clean", "too-short", "not-english", "not-prose"


@dataclass(frozen=True, slots=True)
class Calibration:
    """score = sigmoid(w · shrunk features + bias); ``threshold`` on the score keeps clean FPR ≤ target
    in every length band.

    A short text's features are noisy: a 70-word honest news item can look as odd as a spun page by
    chance. So each feature is shrunk towards its mean over honest text by a pseudo-count of ``shrink``
    distinct eligible terms, ``(n · x + shrink · mean) / (n + shrink)``: a long text speaks for itself,
    a short one must be much odder to reach the same score. ``n`` counts *distinct* terms, so a text
    pasted twice (or ten times) scores as it did once.

    Weights are fitted non-negative, so the score is monotone in every piece of evidence.
    """

    weights: tuple[float, ...]
    bias: float
    threshold: float
    means: tuple[float, ...] | None = None
    shrink: float = 0.0
    #: cascade mode: a score below this clears a document (`engine.check(cascade=True)`); set so that
    #: the screen passes on nearly every document the full check would flag.
    clear: float | None = None
    #: ((distinct terms, log-odds offset), ...): what shrinking leaves of the difference between length
    #: bands, fitted so that each band's clean excerpts reach the threshold equally rarely; interpolated
    #: in log(terms), constant beyond the ends.
    length_offsets: tuple[tuple[float, float], ...] = ()
    #: the names of the features the weights apply to, in order (``"evidence"`` and `SCREEN_FEATURES`):
    #: a mode reads only those it was fitted on.
    features: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: dict) -> Calibration:
        """One mode's entry of ``data/calibration.json`` (as ``bench/calibrate.py`` writes it)."""
        return cls(
            tuple(raw["weights"]), raw["bias"], raw["threshold"],
            tuple(raw["means"]) if raw.get("means") else None, float(raw.get("shrink", 0.0)),
            raw.get("clear"), tuple(tuple(p) for p in raw.get("length_offsets", ())),
            tuple(raw.get("features", ())),
        )  # fmt: skip

    def vector(self, named: dict[str, float]) -> tuple[float, ...]:
        """This mode's features, in its order, from every feature the engine measured (by name)."""
        return tuple(named[n] for n in self.features)

    def offset(self, n_terms: int) -> float:
        pts = self.length_offsets
        if not pts:
            return 0.0
        x = math.log(max(n_terms, 1))
        if x <= math.log(pts[0][0]):
            return pts[0][1]
        for (n0, o0), (n1, o1) in itertools.pairwise(pts):
            x0, x1 = math.log(n0), math.log(n1)
            if x <= x1:
                return o0 + (o1 - o0) * (x - x0) / (x1 - x0)
        return pts[-1][1]

    def shrunk(self, features: tuple[float, ...], n_terms: int) -> tuple[float, ...]:
        if not self.shrink or self.means is None:
            return tuple(features)
        k = self.shrink
        return tuple((n_terms * x + k * m) / (n_terms + k) for x, m in zip(features, self.means, strict=True))

    def score(self, features: tuple[float, ...], n_terms: int = 10**9) -> float:
        x = self.shrunk(features, n_terms)
        z = self.bias + self.offset(n_terms) + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


# Before the first calibration run: the full verdict reads the decoder's evidence and the language-model
# screen, the fast one the screen (a shipped calibration names its own features, `Calibration.features`).
_LM_SCREEN = ("unseen_both_sides", "low_pmi_share", "neg_mean_pmi")
_DEFAULTS = {
    "full": Calibration((0.5, 0.3, 0.0, 0.0), -6.0, 0.5, features=("evidence", *_LM_SCREEN)),
    "fast": Calibration((0.5, 0.0, 0.0), -4.0, 0.5, features=_LM_SCREEN),
}


@lru_cache(maxsize=1)
def _calibration_file() -> dict:
    try:
        return json.loads(resources.files("unspin").joinpath("data/calibration.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError, ValueError):
        return {}


@lru_cache(maxsize=1)
def calibrations() -> dict[str, Calibration]:
    """The shipped calibration (or neutral defaults before the first calibration run): ``full`` and
    ``fast`` verdicts, and, where fitted, ``cascade``: the screen's own weights for the one question a
    cascade asks of it (would the full check flag this text?), with its ``clear`` level."""
    raw = _calibration_file()
    try:
        found = {mode: Calibration.from_json(raw[mode]) for mode in ("full", "fast", "cascade") if mode in raw}
    except (KeyError, TypeError):
        return dict(_DEFAULTS)
    if "full" not in found or "fast" not in found:
        return dict(_DEFAULTS)
    # A calibration naming a feature the engine does not measure (or not naming its features) cannot
    # score: the neutral defaults until bench/calibrate.py fits it again.
    known = {"evidence", *SCREEN_FEATURES}
    for c in found.values():
        if not c.features or len(c.features) != len(c.weights) or not known.issuperset(c.features):
            return dict(_DEFAULTS)
    return found


def cascade_clears(cals: dict[str, Calibration], named: dict[str, float], n_terms: int) -> bool:
    """Whether a cascade may leave the text to the screen (`engine.check(cascade=True)`): the
    ``cascade`` calibration's score (fitted to tell the texts the full check flags from the rest, not
    for a verdict of its own) is under its ``clear`` level, and the fast verdict calls the text clean.
    ``cals``: `calibrations()`, or a fit being measured (bench/calibrate.py); without a ``cascade``
    entry nothing is cleared. ``named``: the measured features by name."""
    screen, fast = cals.get("cascade"), cals["fast"]
    if screen is None or screen.clear is None or screen.score(screen.vector(named), n_terms) >= screen.clear:
        return False
    return fast.score(fast.vector(named), n_terms) < fast.threshold


def rate_map(default: tuple[float, float]) -> tuple[float, float]:
    """(base, scale) turning the measuring pass's share of substituted words into an estimate of a
    spun document's swap rate, as fitted by bench/calibrate.py (``default`` before the first fit)."""
    rate = _calibration_file().get("rate") or {}
    try:
        return float(rate["base"]), float(rate["scale"])
    except (KeyError, TypeError, ValueError):
        return default


def gate(pack, tokens: list[Token]) -> str | None:
    """A verdict for texts that cannot be judged (None when the text can be judged).

    English is recognised by its function words ("the", "of", "and" … make up a third of English
    prose and almost none of French or German) and by words the pack knows; prose by the share of
    tokens that are words (tables, code and lists of numbers fall below).
    """
    n_tokens, n_words, n_alpha, n_function, n_known = _gate_counts(pack, tokens)
    if n_tokens and n_words / n_tokens < MIN_PROSE_SHARE:
        return NOT_PROSE
    if n_alpha:
        function_share = n_function / n_alpha
        known = n_known / n_alpha
        if n_alpha >= 20 and (function_share < MIN_FUNCTION_SHARE or known < MIN_ENGLISH_SHARE):
            return NOT_ENGLISH
    if n_words < MIN_WORDS:
        return TOO_SHORT
    return None


GATE_SAMPLE = 2000  # alphabetic words looked at for the language test


def _gate_counts(pack, tokens: list[Token]) -> tuple[int, int, int, int, int]:
    """(tokens, words, alphabetic words of the sample, of them function words, of them known to the
    pack), in one compiled pass (``pack/ext/text_scan.hh``). The sample: the first ``GATE_SAMPLE``
    alphabetic words; known: the pack counted the word's `lm_form` at least ``min_count`` times."""
    from ..native import module
    from .channel import FUNCTION_WORDS

    tokens = tokens if type(tokens) is list else list(tokens)
    return module().gate_counts(tokens, FUNCTION_WORDS, pack.vocab.compiled_tables[0], GATE_SAMPLE)


SCREEN_FEATURES = (
    "unseen_both_sides", "low_pmi_share", "neg_mean_pmi",
    "spinner_output_share", "spinner_output_bonus", "spinner_term_share",
)  # fmt: skip
#: A word whose output record moves the swap prior by more than this (log10) is a typical spinner output.
OUTPUT_BONUS_MIN = 0.5


def screen(
    pack, sentences: list[list[Token]], flags: list[list[bool]] | None = None, words: list[str] | None = None
) -> tuple[float, ...]:
    """Screening evidence without decoding, from one pass of the language model per sentence.

    For each known content word:

    - ``unseen_both_sides``: per 100 words, how many neither follow their left neighbour nor lead
      into their right one in any n-gram the pack has seen. Honest writing rarely puts a common
      word between two unseen bigrams; a spinner that swaps "power" for "electricity" after "air"
      does it constantly.
    - ``low_pmi_share`` and ``neg_mean_pmi``: how much better the context predicts the word and the
      word after it than their plain frequency does (log10 P(w|h) - log10 P(w)). Writers use words
      that belong with their neighbours; thesaurus swaps do not, whatever their frequency, so this
      normalises away the rare-but-right vocabulary of specialised text.

    And from the pack's spinner table (what real spinners did; `learned`), per 100 eligible words:

    - ``spinner_output_share``: how many are words real spinners output far more often than they
      leave them in place ("stated", "whereas", "physician": `learned.output_bonus` over
      ``OUTPUT_BONUS_MIN``); ``spinner_output_bonus``: the sum of those bonuses;
    - ``spinner_term_share``: how many are words the table saw a spinner swap in.

    One spinner output is an honest author's word choice; a text full of them is a spinner's. These
    cost one dictionary lookup per eligible word. The screen's calibration (`--fast`, the cascade)
    reads them; the full verdict's does not, since they know only the spinners the table was learnt
    from (see bench/calibrate.py, ``MODE_FEATURES``).

    ``flags``: the tokens' eligibility (`channel.eligible_flags`), and ``words``: `eligible_words`
    of the same, when the caller has them.
    """
    from .channel import eligible_flags

    sentences = _rows(sentences)  # any sequences (or iterators): both passes below read them
    flags = eligible_flags(pack, sentences) if flags is None else _rows(flags)
    count, hits, low, pmi_sum = _screen_counts(pack, sentences, flags)
    learned = _table_counts(pack, eligible_words(sentences, flags) if words is None else words)
    if not count:
        return (0.0, 0.0, 0.0, *learned)
    return (100.0 * hits / count, 100.0 * low / count, -pmi_sum / count, *learned)


def eligible_words(sentences: list[list[Token]], flags: list[list[bool]]) -> list[str]:
    """The eligible words of the text, in order, lower case (eligible words are alphabetic: lower case
    is their LM form). The engine counts the distinct ones; the screen looks each up in the table."""
    return [t.text.lower() for sent, row in zip(sentences, flags, strict=True) for t in itertools.compress(sent, row)]


def _table_counts(pack, words: list[str]) -> tuple[float, float, float]:
    """(spinner_output_share, spinner_output_bonus, spinner_term_share) of the eligible ``words`` (see `screen`)."""
    from . import learned

    if not words:
        return (0.0, 0.0, 0.0)
    found = [got for got in map(learned.word_records(pack).get, words) if got is not None]
    bonuses = [b for b, _ in found if b > OUTPUT_BONUS_MIN]
    n = len(words)
    return (100.0 * len(bonuses) / n, 100.0 * sum(bonuses) / n, 100.0 * sum(term for _, term in found) / n)


def _screen_counts(pack, sentences: list[list[Token]], flags: list[list[bool]]) -> tuple[int, int, int, float]:
    """(count, hits, low, pmi_sum): the whole document's language-model pass in one call of the
    compiled scorer (``Model.screen_counts``). Per sentence, KenLM's full scores of the tokens'
    `lm_form` with sentence start and end; each flagged token the model knows counts, is a hit when
    neither its own n-gram nor the next one is longer than a unigram, and adds its gain (its log10
    probability and the next token's, each minus its unigram log10 probability) to ``pmi_sum``, a
    gain below zero counting as ``low``. ``ValueError`` when ``flags`` has another number of rows."""

    return pack.lm.batch.screen_counts(_rows(sentences), _rows(flags))


def _rows(xs) -> list:
    """``xs`` as a list of lists or tuples (the shapes the compiled loops take), copying only what is not."""
    if type(xs) is list and all(type(x) is list or type(x) is tuple for x in xs):
        return xs
    return [x if type(x) is list or type(x) is tuple else list(x) for x in xs]
