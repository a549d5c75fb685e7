"""The spin channel: which originals could a spinner have turned into what we observe, and how likely.

A spinner reads the original, and for a share of the words it can replace, swaps in one of the
replacements its thesaurus lists. Turned around, for an observed word or phrase ``s`` the possible
originals are the terms whose entries list ``s`` (the pack's reverse thesaurus, inflection-aware,
multi-word in both directions), and

    P(s | o)  =  rho(o) · 1 / degree(o) ** ALPHA

where ``rho`` is the chance that a spinner touches a word like ``o`` at all and the second factor
says that a word with 300 synonyms explains any one of them weakly. ``ALPHA`` below 1 softens that,
because spinners do not pick uniformly: they favour the common synonyms their tables list first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..tokens import WORD, Token, lm_form

# A spinner leaves these alone (or the thesaurus has nothing useful for them): never candidates.
FUNCTION_WORDS = frozenset(
    """a an the and or but if of in on at to for from by with as is are was were be been being have has had do does
    did not no nor so than that this these those there their they them he she it its his her we our you your i me my
    who whom whose which what when where why how all any both each few more most other some such only own same too
    very can will just should would could may might must shall also into over under again further then once here out
    up down off about above below between through during before after until while because 's n't""".split()
)

RHO = 0.12  # prior share of eligible words a spinner swaps (spun pages here: 10–40 %)
RHO_CAPITALISED = 0.03  # names and titles are mostly left alone, but "Overseas Ministry" happens
ALPHA = 0.5
MAX_CANDIDATES = 40


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible original for observed word tokens ``[start, end)`` (indices into the sentence)."""

    start: int
    end: int
    words: tuple[str, ...]  # the original, in language-model form
    log_channel: float  # log10 P(observed | original) including the prior of a swap here
    via: str  # how it was proposed, for the report's "why"


def eligible(tok: Token, first_in_sentence: bool) -> bool:
    """Could a spinner have produced this token? Words only; not numbers, not symbols."""
    if tok.kind != WORD or not tok.text.isalpha() or len(tok.text) < 2:
        return False
    return lm_form(tok.text) not in FUNCTION_WORDS


def swap_prior(tokens: list[Token]) -> float:
    """rho for an observed span: lower when it is capitalised mid-sentence (a name or a title)."""
    first = tokens[0]
    if first.text[:1].isupper() and not first.text.isupper():
        return RHO_CAPITALISED
    return RHO


def keep_logprob(rho: float) -> float:
    return math.log10(1.0 - rho)


def propose(pack, tokens: list[Token], max_words: int | None = None) -> list[Candidate]:
    """Candidate originals for every eligible word and phrase of one sentence.

    Phrases are runs of eligible-or-function words separated by single spaces ("men and women",
    "get the job done"); a phrase must start and end with an eligible word.
    """
    thesaurus = pack.thesaurus
    max_words = max_words or thesaurus.max_phrase_words
    forms = [lm_form(t.text) for t in tokens]
    ok = [eligible(t, i == 0) for i, t in enumerate(tokens)]
    wordish = [t.kind == WORD for t in tokens]
    out: list[Candidate] = []
    n = len(tokens)
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + max_words) + 1):
            if j > i + 1 and (not wordish[j - 1] or tokens[j - 1].start != tokens[j - 2].end + 1):
                break
            if not ok[j - 1]:
                continue
            observed = " ".join(forms[i:j])
            originals = thesaurus.sources(observed)
            if not originals:
                continue
            rho = swap_prior(tokens[i:j])
            seen: set[tuple[str, ...]] = set()
            scored = []
            for term, _pos in originals:
                words = tuple(term.split())
                if words in seen or words == tuple(forms[i:j]):
                    continue
                seen.add(words)
                degree = max(1, thesaurus.degree(term))
                scored.append((math.log10(rho) - ALPHA * math.log10(degree), words))
            scored.sort(reverse=True)
            for log_channel, words in scored[:MAX_CANDIDATES]:
                out.append(Candidate(i, j, words, log_channel, "thesaurus"))
    return out
