"""The decoder: per sentence, the most probable original under  P_LM(O) · P_channel(S | O).

A lattice beam search over the sentence: at each token a hypothesis either keeps the observed word
(paying ``log(1 - rho)`` where a swap was possible) or replaces the observed word or phrase starting
there by a candidate original (paying the channel cost). The n-gram language model scores the
hypothesised original left to right, so a replacement is judged by the words after it too, and
neighbouring swaps support each other ("cellphone contact" → "phone call").

Each decision on the best path then gets a confidence from the same model: the odds of the best path
against the best path with that one decision reverted (is it substituted?) and against the next best
original for the same words (is this the original?).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import kenlm

from .channel import Candidate, SpanOriginals

BEAM = 6
PRESELECT = 6  # candidates per span kept after the local pre-scoring
# log10: a candidate's window gain plus its channel cost must be at least this. Zero would mean "wins
# on its own"; a little below zero keeps candidates that need a neighbouring swap to win.
PRESELECT_MARGIN = -1.0


@dataclass(frozen=True, slots=True)
class Decision:
    """A substitution on the best path, with the evidence for it."""

    cand: Candidate
    gain: float  # log10 odds: best path vs the same path with this span kept as observed
    original_gain: float  # log10 odds: this original vs the next best one for the same span
    runner_up: tuple[str, ...] | None


def preselect_spans(
    batch,
    forms: list[str],
    spans: list[SpanOriginals],
    slack: float = 0.0,
) -> list[tuple[float, Candidate]]:
    """Per span of `channel.propose_spans`, the few originals that make their window more natural
    than the observed words, with their scores; a `Candidate` is made only for those.

    This is the "unnatural where it stands" test: a candidate's window gain plus its channel cost must
    beat ``PRESELECT_MARGIN``, and at most ``PRESELECT`` per span are kept. The window gain: the log10
    probability of the candidate followed by ``order - 1`` words of right context (and ``</s>`` when
    the window reaches the sentence's end), minus that of the observed words followed by the same, both
    from the state after ``order - 1`` words of left context (from ``<s>`` when the window reaches the
    sentence's start). ``batch``: the pack's compiled scorer (`NgramModel.batch`), which computes every
    window gain of the sentence in one call. ``slack`` lowers the margin: the candidates a higher swap
    prior would keep, for decoding at several."""
    groups = [(sp.start, sp.end, [words for _, words in sp.found]) for sp in spans]
    gains = batch.window_gains(forms, groups)
    kept: list[tuple[float, Candidate]] = []
    pos = 0
    margin = PRESELECT_MARGIN - slack
    for sp in spans:
        scored = []
        for (cost, words), gain in zip(sp.found, gains[pos : pos + len(sp.found)], strict=True):
            channel = sp.log_rho + cost
            if gain + channel > margin:
                scored.append((gain + channel, channel, words))
        pos += len(sp.found)
        scored.sort(key=lambda x: -x[0])
        kept.extend((score, Candidate(sp.start, sp.end, words, channel))
                    for score, channel, words in scored[:PRESELECT])
    return kept


def _path_score(model: kenlm.Model, words: list[str]) -> float:
    return model.score(" ".join(words), bos=True, eos=True)


def decode_sentence(
    model: kenlm.Model, forms: list[str], cands: list[Candidate], keep_cost: list[float], beam: int = BEAM
) -> list[Decision]:
    """Best original for one sentence (``forms`` in LM form) and a confidence per substitution.

    ``keep_cost[k]`` is log10 P(no swap) for token k (0 where no swap was possible).
    """
    n = len(forms)
    if not cands or n == 0:
        return []
    starts: dict[int, list[Candidate]] = defaultdict(list)
    for c in cands:
        starts[c.start].append(c)
    bos = kenlm.State()
    model.BeginSentenceWrite(bos)
    # beams[k]: state -> (score, back) for hypotheses that consumed tokens [0, k)
    beams: list[dict] = [dict() for _ in range(n + 1)]
    beams[0][bos] = (0.0, None)
    for k in range(n):
        if not beams[k]:
            continue
        items = sorted(beams[k].items(), key=lambda kv: -kv[1][0])[:beam]
        for state, (score, _) in items:
            out = kenlm.State()
            s = score + model.BaseScore(state, forms[k], out) + keep_cost[k]
            nxt = beams[k + 1]
            if out not in nxt or nxt[out][0] < s:
                nxt[out] = (s, (k, state, None))
            for c in starts.get(k, ()):
                st = state
                s = score + c.log_channel
                for w in c.words:
                    o = kenlm.State()
                    s += model.BaseScore(st, w, o)
                    st = o
                dest = beams[c.end]
                if st not in dest or dest[st][0] < s:
                    dest[st] = (s, (k, state, c))
    best_state, best_score = None, -math.inf
    for state, (score, _) in beams[n].items():
        end = kenlm.State()
        total = score + model.BaseScore(state, "</s>", end)
        if total > best_score:
            best_state, best_score = state, total
    chosen: list[Candidate] = []
    k, state = n, best_state
    while k > 0:
        _, back = beams[k][state]
        prev_k, prev_state, cand = back
        if cand is not None:
            chosen.append(cand)
        k, state = prev_k, prev_state
    chosen.reverse()
    if not chosen:
        return []
    return _confidences(model, forms, chosen, cands, keep_cost)


def _apply(forms: list[str], chosen: list[Candidate]) -> list[str]:
    out: list[str] = []
    pos = 0
    for c in chosen:
        out.extend(forms[pos : c.start])
        out.extend(c.words)
        pos = c.end
    out.extend(forms[pos:])
    return out


def _confidences(
    model: kenlm.Model, forms: list[str], chosen: list[Candidate], cands: list[Candidate], keep_cost: list[float]
) -> list[Decision]:
    base_lm = _path_score(model, _apply(forms, chosen))
    by_span: dict[tuple[int, int], list[Candidate]] = defaultdict(list)
    for c in cands:
        by_span[(c.start, c.end)].append(c)
    decisions = []
    for idx, c in enumerate(chosen):
        others = chosen[:idx] + chosen[idx + 1 :]
        kept_lm = _path_score(model, _apply(forms, others))
        gain = base_lm + c.log_channel - (kept_lm + sum(keep_cost[c.start : c.end]))
        best_alt, runner = -math.inf, None
        for alt in by_span[(c.start, c.end)]:
            if alt.words == c.words:
                continue
            alt_lm = _path_score(model, _apply(forms, [*others[:idx], alt, *others[idx:]]))
            score = alt_lm + alt.log_channel
            if score > best_alt:
                best_alt, runner = score, alt.words
        original_gain = base_lm + c.log_channel - best_alt if runner is not None else 3.0
        decisions.append(Decision(c, gain, original_gain, runner))
    return decisions
