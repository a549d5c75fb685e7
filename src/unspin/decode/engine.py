"""check and restore: repair → tokens → decode → report.

Pure functions over a language pack; the pack is loaded once per process (memory-mapped) and shared.
"""

from __future__ import annotations

from functools import lru_cache

from ..repair import input_span, repair_text
from ..report import Report, Span
from ..tokens import WORD, Token, lm_form, sentence_tokens
from . import detect
from .channel import eligible_flags, keep_logprob, propose, swap_prior
from .decoder import Decision, attested, decode_sentence, gated, preselect

SPAN_MIN_GAIN = 1.0  # log10 odds a substitution needs to be reported as a span (~91 % confidence)
ORIGINAL_MIN_GAIN = 1.0  # log10 odds over the runner-up an original needs to be stated, else null
EVIDENCE_CAP = 4.0  # one span cannot carry a document on its own
# A word that is unnatural but has no clear original is more often a rare word used well than a swap.
EVIDENCE_NEEDS_ORIGINAL = True


@lru_cache(maxsize=4)
def _load_pack(path: str | None):
    from ..pack import LanguagePack

    return LanguagePack.load(path)


def get_pack(pack=None):
    """The given pack, or the default one (loaded once per process)."""
    return pack if pack is not None else _load_pack(None)


def prepare(pack=None):
    """Do the once-per-process work a first check would otherwise pay (lemminflect's tables, the
    vector neighbour index, the precomputed channel table, the calibration): for servers and batch
    workers to call at start-up, so that their first requests are not the slow ones. Returns the pack."""
    from ..pack.thesaurus import _all_inflections, _all_lemmas
    from .channel import channel_memo
    from .neighbours import index_for

    pack = get_pack(pack)
    channel_memo(pack)
    _all_lemmas("prepared")
    _all_inflections("prepare", "VERB")
    index_for(pack)
    detect.calibrations()
    return pack


def match_case(observed: str, words: tuple[str, ...]) -> str:
    """Write the original the way the observed words were written (Title, UPPER or lower)."""
    text = " ".join(words)
    if observed.isupper() and len(observed) > 1:
        return text.upper()
    if observed[:1].isupper():
        if all(w[:1].isupper() for w in observed.split()):
            return " ".join(w[:1].upper() + w[1:] for w in words)
        return text[:1].upper() + text[1:]
    return text


def _why(observed: str, d: Decision, original: str | None) -> str:
    times = 10 ** min(d.gain, 9)
    fit = f"{times:,.0f}×" if times < 1e6 else "over a million times"
    if original is None:
        return f"“{observed}” is unnatural here; several originals fit ({' / '.join(d.cand.words)} …), none clearly"
    return (
        f"“{observed}” is unnatural here and a known spinner swap for “{original}”, which fits the context {fit} better"
    )


def _decode_sentence(pack, sent: list[Token], ok: list[bool] | None = None) -> list[Decision]:
    """The decisions for one sentence; ``ok``: its tokens' `eligible` flags, if already known."""
    model = pack.lm.model
    forms = [lm_form(t.text) for t in sent]
    order = pack.lm.order
    if ok is None:
        ok = eligible_flags(pack, [sent])[0]
    # The n-gram gate first: spans it passes over need no candidates, so none are looked up.
    lengths = attested(model, forms)
    skip = lambda i, j: gated(lengths, i, j, order)  # noqa: E731
    cands = preselect(model, forms, propose(pack, sent, skip=skip, ok=ok), order, lengths)
    if not cands:
        return []
    keep = [0.0] * len(sent)
    for c in cands:
        for k in range(c.start, c.end):
            keep[k] = keep_logprob(swap_prior(sent[k : k + 1])) if ok[k] else 0.0
    return decode_sentence(model, forms, cands, keep)


def check(text: str, pack=None, threshold: float | None = None, fast: bool = False) -> Report:
    """The full report for ``text``: verdict, score, spans with originals, restored text."""
    pack = get_pack(pack)
    repaired, repairs = repair_text(text)
    report = Report(repaired=repaired, repairs=repairs)
    sentences = sentence_tokens(repaired)
    tokens = [t for s in sentences for t in s]
    n_words = sum(1 for t in tokens if t.kind == WORD)
    report.stats = {"words": n_words, "sentences": len(sentences)}
    verdict = detect.gate(pack, tokens)
    mode = "fast" if fast else "full"
    cal = detect.calibrations()[mode]
    threshold = cal.threshold if threshold is None else threshold
    if verdict in (detect.NOT_ENGLISH, detect.NOT_PROSE):
        report.spun, report.score, report.verdict = False, 0.0, verdict
        report.restored = repaired
        report.stats["flagged_words"] = 0
        return report
    flags = eligible_flags(pack, sentences)
    screened = detect.screen(pack, sentences, flags)
    report.stats["screen"] = dict(zip(detect.SCREEN_FEATURES, (round(x, 4) for x in screened), strict=True))
    if fast:
        features: tuple[float, ...] = screened
        report.stats["mode"] = "fast"
    else:
        spans, restored, evidence = _spans(text, repaired, repairs, pack, sentences, flags)
        report.spans, report.restored = spans, restored
        report.stats["flagged_words"] = sum(len(s.text.split()) for s in spans)
        report.stats["evidence"] = round(evidence, 4)
        features = (evidence, *screened)
    score = cal.score(features)
    report.score = round(score, 4)
    if verdict == detect.TOO_SHORT:
        report.spun, report.verdict = False, verdict
        return report
    report.spun = report.score >= threshold  # the score as reported, so consumers can re-derive it
    report.verdict = detect.SPUN if report.spun else detect.CLEAN
    return report


def _spans(
    text: str, repaired: str, repairs, pack, sentences: list[list[Token]], flags: list[list[bool]] | None = None
) -> tuple[list[Span], str, float]:
    if flags is None:
        flags = eligible_flags(pack, sentences)
    spans: list[Span] = []
    pieces: list[str] = []
    pos = 0
    best_gain: dict[str, float] = {}  # per distinct observed term: repeats are the author's topic words
    n_words = 0
    for sent, ok in zip(sentences, flags, strict=True):
        n_words += sum(1 for t in sent if t.kind == WORD)
        for d in _decode_sentence(pack, sent, ok):
            if d.gain < SPAN_MIN_GAIN:
                continue
            first, last = sent[d.cand.start], sent[d.cand.end - 1]
            observed = repaired[first.start : last.end]
            original = match_case(observed, d.cand.words) if d.original_gain >= ORIGINAL_MIN_GAIN else None
            if original is not None or not EVIDENCE_NEEDS_ORIGINAL:
                key = observed.lower()
                best_gain[key] = max(best_gain.get(key, 0.0), min(d.gain, EVIDENCE_CAP))
            start, end = input_span(repairs, first.start, last.end)
            confidence = 1.0 / (1.0 + 10 ** (-d.gain))
            spans.append(Span(start, end, text[start:end], original, round(confidence, 4), _why(observed, d, original)))
            if original is not None:
                pieces.append(repaired[pos : first.start])
                pieces.append(original)
                pos = last.end
    pieces.append(repaired[pos:])
    per_100 = 100.0 * sum(best_gain.values()) / max(n_words, 1)
    return spans, "".join(pieces), per_100


def restore(text: str, pack=None) -> str:
    """The likely original wording of ``text`` (repaired, every confident span restored)."""
    report = check(text, pack)
    return report.restored if report.restored is not None else report.repaired
