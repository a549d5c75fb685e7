"""check and restore: repair → tokens → decode → report.

Pure functions over a language pack; the pack is loaded once per process (memory-mapped) and shared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..prose import looks_like_code
from ..repair import input_span, repair_text
from ..report import Report, Span
from ..textio import require_text, require_threshold
from ..tokens import WORD, Token, lm_form, sentence_tokens
from . import detect, learned, scorer
from .channel import RHO, RHO_CAPITALISED, Candidate, eligible_flags, keep_logprob, propose_spans, swap_prior
from .decoder import PRESELECT_MARGIN, Decision, decode_sentence, preselect_spans

SPAN_MIN_GAIN = 1.5  # log10 odds a substitution needs to be reported in a document that reads as honest ...
SPUN_SPAN_MIN_GAIN = 0.5  # ... and in one whose score says it is spun (see `span_min_gain`)
EVIDENCE_MIN_GAIN = 1.0  # log10 odds a substitution needs to count as the document's evidence (measuring pass)
ORIGINAL_MIN_GAIN = 1.0  # log10 odds over the runner-up an original needs to be stated, else null
RESTORE_MIN_GAIN = 1.5  # log10 odds of the substitution itself before its original is stated
EVIDENCE_CAP = 4.0  # one span cannot carry a document on its own
WINDOW_SENTENCES = 2000  # longer documents (~40k words) are planned window by window (see `check`)
# The reporting pass's swap prior (see `document_rho`): for a document that reads as honest, and at
# most for one that reads as spun; how sharply it moves with the score around the verdict threshold;
# and how the measuring pass's share of substituted words maps to a spun document's own rate.
DOC_RHO_MIN, DOC_RHO_MAX = 0.02, 0.5
DOC_RHO_WIDTH = 0.05
RATE_BASE, RATE_SCALE = 0.1, 2.0  # defaults until bench/calibrate.py has fitted them (data/calibration.json)


def get_pack(pack=None):
    """The given pack, or the default one (loaded once per process by `unspin.pack.load`)."""
    from ..pack import load

    return pack if pack is not None else load(None)


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
    """The evidence for a span, as it was: how much likelier the language model and the channel find
    the sentence with the decoder's original (``gain``), and whether that original was clear of the
    runner-up. The original may come from the thesaurus, the corpus's substitutes or the word vectors:
    the words say "a synonym", not which source proposed it."""
    times = 10 ** min(d.gain, 9)
    fit = f"{times:,.0f}×" if times < 1e6 else "over a million times"
    best = " ".join(d.cand.words)
    head = f"“{observed}” is unnatural here"
    if original is not None:
        return f"{head}; with “{original}”, a synonym it may have replaced, the sentence is {fit} likelier"
    if d.original_gain < ORIGINAL_MIN_GAIN and d.runner_up is not None:
        return f"{head}; several originals fit (“{best}” / “{' '.join(d.runner_up)}” …), none clearly"
    return f"{head} (the sentence is {fit} likelier with “{best}”), but not clearly enough to name an original"


@dataclass(frozen=True, slots=True)
class SentencePlan:
    """One sentence's candidates, found once and decoded at any document swap rate.

    Candidates are kept if they would pass the pre-selection at the highest rate the document can
    get (``DOC_RHO_MAX``); their channel costs are stated at the reference rate ``RHO``. Changing the
    rate shifts every swap's cost by the same log-ratio, so the plan serves both passes of `check`.
    """

    forms: list[str]
    scored: list[tuple[float, Candidate]]  # (window gain + channel cost at RHO, candidate)
    keepable: list[bool]  # per token: could it have been swapped (eligible, capitalisation aside)?
    capitalised: list[bool]


def plan_sentence(pack, sent: list[Token], ok: list[bool] | None = None) -> SentencePlan | None:
    """The candidates of one sentence (None when it has none); ``ok``: its `eligible_flags`, if known."""
    forms = [lm_form(t.text) for t in sent]
    if ok is None:
        ok = eligible_flags(pack, [sent])[0]
    slack = math.log10(DOC_RHO_MAX / RHO) if DOC_RHO_MAX > RHO else 0.0
    spans = learned.adjust_spans(pack, sent, forms, propose_spans(pack, sent, ok=ok), ok)
    scored = preselect_spans(pack.lm.batch, forms, spans, slack)
    if not scored:
        return None
    capitalised = [swap_prior(sent[k : k + 1]) != RHO for k in range(len(sent))]
    return SentencePlan(forms, scored, list(ok), capitalised)


def decode_plan(pack, plan: SentencePlan | None, rho: float = RHO) -> list[Decision]:
    """The decisions for one planned sentence at document swap rate ``rho``."""
    if plan is None:
        return []
    shift = math.log10(rho / RHO)
    cands = []
    for score, c in plan.scored:
        if score + shift > PRESELECT_MARGIN:
            cands.append(replace(c, log_channel=c.log_channel + shift))
    if not cands:
        return []
    keep = [0.0] * len(plan.forms)
    low = keep_logprob(rho * RHO_CAPITALISED / RHO)
    high = keep_logprob(rho)
    for c in cands:
        for k in range(c.start, c.end):
            keep[k] = (low if plan.capitalised[k] else high) if plan.keepable[k] else 0.0
    return decode_sentence(pack.lm.model, plan.forms, cands, keep)


def check(
    text: str,
    pack=None,
    threshold: float | None = None,
    fast: bool = False,
    explain: list | None = None,
    cascade: bool = False,
    phrases=None,
) -> Report:
    """The full report for ``text``: verdict, score, spans with originals, restored text.

    ``fast``: the screen's calibrated verdict alone (no spans). ``cascade``: the screen first; a text it
    clears (`detect.cascade_clears`: set so that the screen passes on nearly every text the full check
    would flag) gets the screen's report (``stats.mode`` says
    ``cascade-cleared``), every other text the full check: crawl-scale speed, full-check verdicts.

    ``phrases``: the user's phrase lists (a `unspin.phrases.PhraseList`, a path, or a sequence of them),
    whose matches are added as spans and count toward the verdict (`unspin.phrases.apply`).

    ``explain``: a list that receives, for every substitution of the reporting pass (reported or
    not), ``(features, start, end, original)`` (`scorer.features`; offsets into ``text``): what the
    span scorer is fitted on.
    """
    require_text(text), require_threshold(threshold)  # TypeError/ValueError at the door, not deep inside
    report = _check_model(text, pack, threshold, fast, explain, cascade)
    # --- phrase lists (issue 17): the only hook into the engine ---
    if phrases is not None:
        from .. import phrases as listed

        compiled = listed.as_phrase_lists(phrases)
        if compiled:
            mode = "full" if (report.stats or {}).get("mode", "full") == "full" else "fast"
            limit = detect.calibrations()[mode].threshold if threshold is None else threshold
            listed.apply(report, text, compiled, limit)
    return report


def _check_model(text: str, pack, threshold: float | None, fast: bool, explain: list | None, cascade: bool) -> Report:
    """The engine's report for ``text``: `check` (whose arguments these are) without the phrase lists."""
    pack = get_pack(pack)
    repaired, repairs = repair_text(text)
    report = Report(repaired=repaired, repairs=repairs)
    sentences = sentence_tokens(repaired)
    tokens = [t for s in sentences for t in s]
    n_words = sum(1 for t in tokens if t.kind == WORD)
    report.stats = {"words": n_words, "sentences": len(sentences)}
    verdict = detect.gate(pack, tokens)
    if verdict != detect.NOT_PROSE and looks_like_code(repaired):  # code with comments passes the gate
        verdict = detect.NOT_PROSE
    mode = "fast" if fast else "full"
    cal = detect.calibrations()[mode]
    threshold = cal.threshold if threshold is None else threshold
    if verdict in (detect.NOT_ENGLISH, detect.NOT_PROSE):
        report.spun, report.score, report.verdict = False, 0.0, verdict
        report.restored = repaired
        report.stats["flagged_words"] = 0
        return report
    flags = eligible_flags(pack, sentences)
    words = detect.eligible_words(sentences, flags)
    n_terms = len(set(words))  # distinct: a text pasted twice has the terms it had once
    report.stats["eligible_terms"] = n_terms
    screened = detect.screen(pack, sentences, flags, words)
    report.stats["screen"] = dict(zip(detect.SCREEN_FEATURES, (round(x, 4) for x in screened), strict=True))
    named = dict(zip(detect.SCREEN_FEATURES, screened, strict=True))
    if cascade and not fast and detect.cascade_clears(detect.calibrations(), named, n_terms):
        fast, cal = True, detect.calibrations()["fast"]
        threshold = cal.threshold
    if fast:
        report.stats["mode"] = "fast" if mode == "fast" else "cascade-cleared"
        score = cal.score(cal.vector(named), n_terms)
    else:
        report.stats["mode"] = "full"
        # A sentence's plan (every candidate original, scored) is what a check holds most of; a long
        # document is planned in windows of sentences and only the decisions are kept, each window
        # planned again for the reporting pass: memory bounded by the window, time by one more plan.
        windowed = len(sentences) > WINDOW_SENTENCES
        plans = [] if windowed else [plan_sentence(pack, s, ok) for s, ok in zip(sentences, flags, strict=True)]

        def each_plan():
            if not windowed:
                yield from plans
                return
            for w in range(0, len(sentences), WINDOW_SENTENCES):
                part = zip(sentences[w : w + WINDOW_SENTENCES], flags[w : w + WINDOW_SENTENCES], strict=True)
                yield from [plan_sentence(pack, s, ok) for s, ok in part]

        # Pass 1 measures: every document decoded under the same prior, so its evidence is
        # comparable across documents and calibrated into the score.
        measured = [decode_plan(pack, plan, RHO) for plan in each_plan()]
        evidence = _evidence(repaired, sentences, measured, n_terms)
        measured_rate = sum(1 for ds in measured for d in ds if d.gain >= 0) / max(1, sum(map(sum, flags)))
        score = cal.score(cal.vector({"evidence": evidence, **named}), n_terms)
        # Pass 2 reports: the prior the document's own evidence calls for (see `document_rho`).
        rho = document_rho(score, cal.threshold, measured_rate)
        reported = measured if rho == RHO else [decode_plan(pack, plan, rho) for plan in each_plan()]
        context = SpanContext(learned.table_for(pack), spun_weight(score, cal.threshold), measured_rate, explain)
        spans, restored = _spans(
            text, repaired, repairs, sentences, reported, span_min_gain(score, cal.threshold), context
        )
        report.spans, report.restored = spans, restored
        report.stats["flagged_words"] = sum(len(s.text.split()) for s in spans)
        report.stats["evidence"] = round(evidence, 4)
        report.stats["measured_rate"] = round(measured_rate, 4)
        report.stats["swap_rate_prior"] = round(rho, 4)
    report.score = round(score, 4)
    if verdict == detect.TOO_SHORT:
        report.spun, report.verdict = False, verdict
        return report
    report.spun = report.score >= threshold  # the score as reported, so consumers can re-derive it
    report.verdict = detect.SPUN if report.spun else detect.CLEAN
    return report


def spun_weight(score: float, threshold: float) -> float:
    """How far the document's calibrated score puts it on the spun side: ~0 well below the verdict
    threshold, ~1 above it (a logistic step of width ``DOC_RHO_WIDTH``)."""
    z = (score - threshold) / DOC_RHO_WIDTH
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def document_rho(score: float, threshold: float, measured_rate: float) -> float:
    """The prior share of swapped words for the reporting pass.

    Spinning is a property of documents: a spun page has a third or more of its words swapped, an
    honest one none. One fixed prior is too low to find the swaps of a spun page and too high for an
    honest one. So a document that reads as honest (score well below the verdict threshold) is decoded
    under ``DOC_RHO_MIN``, and one that reads as spun under an estimate of its own swap rate: the share
    of words the measuring pass found substituted, less the share it finds in honest text
    (``RATE_BASE``), scaled by ``RATE_SCALE`` for the swaps that pass misses (fitted on our evaluation
    spinner over the calibration articles, bench/calibrate.py), within ``[DOC_RHO_MIN, DOC_RHO_MAX]``.
    """
    base, scale = detect.rate_map((RATE_BASE, RATE_SCALE))
    estimate = min(DOC_RHO_MAX, max(DOC_RHO_MIN, scale * (measured_rate - base)))
    w = spun_weight(score, threshold)
    return DOC_RHO_MIN + (estimate - DOC_RHO_MIN) * w


def span_min_gain(score: float, threshold: float) -> float:
    """The log-odds a substitution needs to be reported: in a document that reads as honest only the
    near-certain ones (an honest author's rare word is the likelier explanation), in a spun one every
    substitution more likely than not."""
    return SPAN_MIN_GAIN + (SPUN_SPAN_MIN_GAIN - SPAN_MIN_GAIN) * spun_weight(score, threshold)


def _evidence(repaired: str, sentences: list[list[Token]], decisions: list[list[Decision]], n_terms: int) -> float:
    """The document's evidence for the score: per 100 distinct eligible terms, the capped log-odds of its
    confident substitutions with a clear original, counted once per distinct observed term (repeats
    are the author's topic words, not new evidence; and a text pasted twice is no less spun)."""
    best_gain: dict[str, float] = {}
    for sent, ds in zip(sentences, decisions, strict=True):
        for d in ds:
            if d.gain < EVIDENCE_MIN_GAIN or d.original_gain < ORIGINAL_MIN_GAIN:
                continue
            key = repaired[sent[d.cand.start].start : sent[d.cand.end - 1].end].lower()
            best_gain[key] = max(best_gain.get(key, 0.0), min(d.gain, EVIDENCE_CAP))
    return 100.0 * sum(best_gain.values()) / max(n_terms, 1)


@dataclass(frozen=True)
class SpanContext:
    """What the span scorer needs beyond each decision: the learned table and the document's evidence."""

    table: object
    spun_weight: float
    measured_rate: float
    explain: list | None = None


def _spans(
    text: str,
    repaired: str,
    repairs,
    sentences: list[list[Token]],
    decisions: list[list[Decision]],
    min_gain: float = SPAN_MIN_GAIN,
    context: SpanContext | None = None,
) -> tuple[list[Span], str]:
    """The report's spans (offsets into ``text``) and the restored text, from the reporting pass.

    With the span scorer (`scorer.scorer`), a span is reported when P(swap) reaches its ``span_p``,
    with that probability as its confidence, and its original is stated when P(right original) reaches
    ``scorer.ORIGINAL_P``; without it, by the decoder's log-odds (``min_gain``, ``ORIGINAL_MIN_GAIN``).
    """
    model = scorer.scorer() if context is not None else None
    spans: list[Span] = []
    pieces: list[str] = []
    pos = 0
    for sent, ds in zip(sentences, decisions, strict=True):
        for d in ds:
            first, last = sent[d.cand.start], sent[d.cand.end - 1]
            form = " ".join(lm_form(t.text) for t in sent[d.cand.start : d.cand.end])
            if model is not None or (context is not None and context.explain is not None):
                x = scorer.features(
                    context.table, form, " ".join(d.cand.words), d.gain, d.original_gain, context.spun_weight,
                    context.measured_rate,
                    first.text[:1].isupper() and d.cand.start > 0, d.cand.log_channel,
                )  # fmt: skip
                if context.explain is not None:
                    context.explain.append((x, *input_span(repairs, first.start, last.end), " ".join(d.cand.words)))
            if model is not None:
                confidence = model.p_swap(x)
                if confidence < model.span_p:
                    continue
                state = model.p_right(x) >= scorer.ORIGINAL_P
            else:
                if d.gain < min_gain:
                    continue
                confidence = 1.0 / (1.0 + 10 ** (-d.gain))
                state = d.original_gain >= ORIGINAL_MIN_GAIN and d.gain >= RESTORE_MIN_GAIN
            observed = repaired[first.start : last.end]
            original = match_case(observed, d.cand.words) if state else None
            start, end = input_span(repairs, first.start, last.end)
            why = _why(observed, d, original)
            seen = context.table.pairs.get(form, {}).get(" ".join(d.cand.words), 0) if context and context.table else 0
            if original is not None and seen:
                why += f"; real spinners made this very swap {seen}× in the pages unspin learnt from"
            spans.append(Span(start, end, text[start:end], original, round(confidence, 4), why))
            if original is not None:
                pieces.append(repaired[pos : first.start])
                pieces.append(original)
                pos = last.end
    pieces.append(repaired[pos:])
    return spans, "".join(pieces)


def restore(text: str, pack=None, phrases=None) -> str:
    """The likely original wording of ``text`` (repaired, every confident span restored)."""
    report = check(text, pack, phrases=phrases)
    return report.restored if report.restored is not None else report.repaired
