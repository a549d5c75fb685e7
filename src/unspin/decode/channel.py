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
from typing import NamedTuple

import numpy as np

from ..pack.memo import BoundedMemo, memo_for
from ..pack.thesaurus import FROM_WORDNET, term_key
from ..tokens import NUMBER, WORD, Token, lm_form
from .neighbours import index_for

# A spinner leaves these alone (or the thesaurus has nothing useful for them): never candidates.
FUNCTION_WORDS = frozenset(
    """a an the and or but if of in on at to for from by with as is are was were be been being have has had do does
    did not no nor so than that this these those there their they them he she it its his her we our you your i me my
    who whom whose which what when where why how all any both each few more most other some such only own same too
    very can will just should would could may might must shall also into over under again further then once here out
    up down off about above below between through during before after until while because 's n't""".split()
)

RHO = 0.12  # the reference swap prior: the measuring pass's (engine.check); the reporting pass's varies
RHO_CAPITALISED = 0.03  # names and titles are mostly left alone, but "Overseas Ministry" happens
ALPHA = 0.25
SIMILARITY_WEIGHT = 3.0  # log10 cost per unit of cosine similarity below the floor
SIMILARITY_FLOOR = 0.6
VECTOR_COST = -1.0  # log10: a swap no thesaurus lists is less likely than one it does
MAX_CANDIDATES = 40
# log10: a pair WordNet puts in one synset is a close synonym, the kind spinners' tables list; Moby
# also links loose associations ("toll" → "demand"), which a spinner's curated table rarely does.
WORDNET_BONUS = 1.0
SUBSTITUTE_WEIGHT = 2.0  # log10 per unit of substitutability (pack.substitutes, cosine in [0, 1])
SUBSTITUTE_MISS = -0.3  # log10: two single words the corpus never puts in the same slots
SUBSTITUTE_COST = -1.0  # log10: an original only the substitutes propose (no thesaurus lists the pair)
# Words whose originals a process remembers beyond the precomputed table (channel_cache), per pack:
# a serve worker meets new words forever. ~40 candidates a word: some hundred MB at most.
MEMO_WORDS = 100_000


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible original for observed word tokens ``[start, end)`` (indices into the sentence)."""

    start: int
    end: int
    words: tuple[str, ...]  # the original, in language-model form
    log_channel: float  # log10 P(observed | original) including the prior of a swap here


# A unit after a figure is the measurement itself ("80 millimetres", "7 days"), not a word a spinner
# rewords, and an n-gram model trained on another country's prose would "restore" it to inches.
UNIT_WORDS = frozenset(
    """mm millimetre millimetres millimeter millimeters cm centimetre centimetres centimeter centimeters
    metre metres meter meters km kilometre kilometres kilometer kilometers inch inches foot feet yard yards
    mile miles mg gram grams kg kilogram kilograms kilo kilos tonne tonnes ton tons ounce ounces lb lbs
    litre litres liter liters ml gallon gallons degree degrees celsius fahrenheit percent pc second seconds
    minute minutes hour hours day days week weeks month months year years decade decades century centuries
    acre acres hectare hectares""".split()
)


def eligible_flags(pack, sentences: list[list[Token]]) -> list[list[bool]]:
    """`eligible_core` for every token of every sentence, then units right after a figure set aside
    (`UNIT_WORDS`)."""
    sentences = [s if isinstance(s, list) else list(s) for s in sentences]
    flags = eligible_core(pack, sentences)
    for sent, row in zip(sentences, flags, strict=True):
        for k in range(1, len(sent)):
            if row[k] and sent[k - 1].kind == NUMBER and sent[k].text.lower() in UNIT_WORDS:
                row[k] = False
    return flags


def eligible_core(pack, sentences: list[list[Token]]) -> list[list[bool]]:
    """Could a spinner have produced this token? For every token of every sentence, in one compiled pass
    (``pack/ext/text_scan.hh``): words only, of two letters or more, all letters (not numbers, symbols
    or names), and not `FUNCTION_WORDS`. A capitalised word after a sentence's first token is a
    candidate only when the pack's corpus writes it more often in lower case than as written
    ("Overseas Ministry" is a swap; "Friday" and "Reuters" are names); without a pack (``None``), it is.
    """
    from ..native import module

    sentences = sentences if type(sentences) is list else list(sentences)
    sentences = [s if type(s) is list or type(s) is tuple else list(s) for s in sentences]
    table = pack.vocab.compiled_tables[1] if pack is not None else None
    return module().eligible_flags(sentences, FUNCTION_WORDS, table)


def plausible_original(observed: tuple[str, ...], original: tuple[str, ...], function_ok: bool = False) -> bool:
    """An original a spinner could have started from: words (not digits; only function words when
    ``function_ok``), and not a mere spelling or inflection variant of what we observe."""
    if not all(w.replace("'", "").replace("-", "").isalpha() for w in original):
        return False
    if all(w in FUNCTION_WORDS for w in original) and not function_ok:
        return False
    return not is_variant(observed, original)


def is_variant(observed: tuple[str, ...], original: tuple[str, ...]) -> bool:
    """Spelling, abbreviation or inflection variants are not swaps: "epicentre"/"epicenter",
    "Jan"/"January", "holidays"/"holiday"."""
    a, b = " ".join(observed), " ".join(original)
    if a.startswith(b) or b.startswith(a):
        return True
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    return prefix >= 5 and abs(len(a) - len(b)) <= 2


def swap_prior(tokens: list[Token], rho: float = RHO) -> float:
    """The swap prior for an observed span, given the document's rate ``rho``: lower when it is
    capitalised mid-sentence (a name or a title)."""
    first = tokens[0]
    if first.text[:1].isupper() and not first.text.isupper():
        return rho * (RHO_CAPITALISED / RHO)
    return rho


def keep_logprob(rho: float) -> float:
    return math.log10(1.0 - rho)


def channel_memo(pack) -> dict[str, list[tuple[float, tuple[str, ...]]]]:
    """The pack's memo of ``originals`` (``pack.memo``), started from the precomputed channel table
    (``channel_cache``) when there is one, which it keeps; ``MEMO_WORDS`` more words at most."""
    from .channel_cache import load

    return memo_for(pack, "channel.originals", lambda: BoundedMemo(MEMO_WORDS, load(pack)))


def originals(pack, observed: str) -> list[tuple[float, tuple[str, ...]]]:
    """The likeliest originals of an observed term, best first, as (log10 channel cost, words).

    Thesaurus sources cost ``-ALPHA * log10(degree)``; vector neighbours no thesaurus links cost
    more (``VECTOR_COST`` and their distance). Kept: the ``MAX_CANDIDATES`` commonest in the corpus,
    because spinners replace common words, and a rare original is a poor explanation.
    Memoised on the pack (`channel_memo`): the same observed words recur in every document. On first contact the
    work is batched: one vectorised search each for the candidates' counts, degrees and vectors.
    """
    memo = channel_memo(pack)
    found = memo.get(observed)
    if found is not None:
        return found
    if " " in observed and not pack.thesaurus.has_term(observed):
        found = []  # only the thesaurus proposes originals of a phrase, and it does not know this one
    else:
        found = compute_originals(pack, observed)
    memo[observed] = found
    return found


def compute_originals(pack, observed: str) -> list[tuple[float, tuple[str, ...]]]:
    """``originals`` without the memo: the thesaurus, the substitutes, the vector neighbours, the costs.

    Costs (log10), per original ``o`` of the observed ``s``:

    - proposed by the thesaurus: ``-ALPHA * log10(degree(o))``, plus ``WORDNET_BONUS`` when WordNet
      puts the two in one synset; proposed only by the corpus's substitutes: ``SUBSTITUTE_COST``;
      only by the word vectors: ``VECTOR_COST`` and their distance;
    - for single words, ``SUBSTITUTE_WEIGHT`` times their substitutability (which slots of the corpus
      both fill), or ``SUBSTITUTE_MISS`` when the corpus does not put them in the same slots: a
      spinner's table holds everyday synonyms, not the thesaurus's loose associations;
    - a vector-space distance penalty (``SIMILARITY_WEIGHT`` below ``SIMILARITY_FLOOR``).

    Function words are originals only of single content words, and only when the corpus makes them
    substitutes ("in" → "within", "while" → "whilst", "during" → "throughout").
    """
    thesaurus = pack.thesaurus
    own = tuple(observed.split())
    single = len(own) == 1
    subs = _substitutes(pack, observed) if single else {}
    proposed: dict[tuple[str, ...], float | str] = {}  # words -> "thesaurus", "substitutes" or vector similarity
    wordnet: set[tuple[str, ...]] = set()  # originals WordNet puts in a synset with the observed term
    for term, _pos, flags in thesaurus.sources_with_flags(observed):
        words = tuple(term.split())
        if words != own:
            proposed.setdefault(words, _THESAURUS)
            if flags & FROM_WORDNET:
                wordnet.add(words)
    if single:
        for word in subs:
            proposed.setdefault((word,), _SUBSTITUTES)
        index = index_for(pack)
        for sim, word in index.neighbours(observed) if index is not None else ():
            proposed.setdefault((word,), sim)
    if not proposed:
        return []
    # Rank first (one vectorised count lookup; a stable sort), then test plausibility only until
    # MAX_CANDIDATES are kept, and cost only those: the same list as filtering everything first.
    singles = [w for w in proposed if len(w) == 1]
    counts = dict(zip(singles, pack.vocab.counts([w[0] for w in singles]).tolist(), strict=True)) if singles else {}
    ranked = []
    for words in sorted(proposed, key=lambda w: -counts[w] if len(w) == 1 else -1):
        function_ok = single and len(words) == 1 and words[0] in subs and not isinstance(proposed[words], float)
        if plausible_original(own, words, function_ok):
            ranked.append(words)
            if len(ranked) == MAX_CANDIDATES:
                break
    from_thesaurus = [" ".join(w) for w in ranked if proposed[w] == _THESAURUS]
    degree = dict(zip(from_thesaurus, thesaurus.degrees(from_thesaurus), strict=True))
    vectors = getattr(pack, "vectors", None)
    sims = _similarities(vectors, observed, ranked) if vectors is not None and SIMILARITY_WEIGHT else None
    substitutes = getattr(pack, "substitutes", None)
    found = []
    for k, words in enumerate(ranked):
        how = proposed[words]
        if how == _THESAURUS:
            cost = -ALPHA * math.log10(max(1, degree[" ".join(words)]))
            if words in wordnet:
                cost += WORDNET_BONUS
        elif how == _SUBSTITUTES:
            cost = SUBSTITUTE_COST
        else:
            cost = VECTOR_COST - 2.0 * (1.0 - float(how))
        if single and len(words) == 1 and substitutes is not None:
            together = subs.get(words[0]) or substitutes.of(words[0]).get(observed, 0.0)
            cost += SUBSTITUTE_WEIGHT * together if together else SUBSTITUTE_MISS
        # Spinners swap close synonyms: an original far from the observed word in vector space
        # ("cash" for "down") is a fluent guess, not an explanation.
        if sims is not None and sims[k] is not None:
            cost += SIMILARITY_WEIGHT * min(0.0, sims[k] - SIMILARITY_FLOOR)
        found.append((cost, words))
    return found


_THESAURUS, _SUBSTITUTES = "thesaurus", "substitutes"


def _substitutes(pack, observed: str) -> dict[str, float]:
    """The pack's substitutes of a single word ({} for phrases, or a pack without them)."""
    subs = getattr(pack, "substitutes", None)
    return subs.of(observed) if subs is not None else {}


def _similarities(vectors, observed: str, ranked: list[tuple[str, ...]]) -> list[float | None] | None:
    """Cosine similarity of the observed term to each candidate (None where either has no vector).

    Terms are vectors.vector()'s float32 means; their cosine is ``u·v / float32(|u|·|v|)``. For a
    single word that mean is its stored int8 row, whose dot products and squared norms are exact
    integers in float32, so single words are computed all at once here with bit-identical results;
    phrases take the general path.
    """
    own_vec = vectors.vector(observed)
    if own_vec is None:
        return None
    out: list[float | None] = [None] * len(ranked)
    single = [k for k, w in enumerate(ranked) if len(w) == 1 and term_key(w[0]) == w[0]]
    own_single = " " not in observed and term_key(observed) == observed
    if own_single and single:
        rows = vectors.rows([ranked[k][0] for k in single])
        known = rows >= 0
        if known.any():
            own_q = vectors.quantised(vectors.rows([observed]))[0].astype(np.int64)
            m = vectors.quantised(rows[known]).astype(np.int64)
            dots = (m @ own_q).astype(np.float64)
            own_norm = np.sqrt(np.float32(own_q @ own_q))
            denom = (own_norm * np.sqrt((m * m).sum(axis=1).astype(np.float32))).astype(np.float64)
            for k, d, n in zip(np.asarray(single)[known].tolist(), dots.tolist(), denom.tolist(), strict=True):
                if n > 0:
                    out[k] = d / n
        done = set(single)
    else:
        done = set()
    for k, words in enumerate(ranked):
        if k in done:
            continue
        vec = vectors.vector(" ".join(words))
        if vec is not None:
            denom = float(np.linalg.norm(own_vec) * np.linalg.norm(vec))
            if denom > 0:
                out[k] = float(own_vec @ vec) / denom
    return out


class SpanOriginals(NamedTuple):
    """The originals proposed for observed tokens ``[start, end)`` of a sentence: ``log_rho`` (the
    swap prior there) plus each original's cost is its channel log-probability. ``found`` is the
    memoised `originals` list, shared, never to be modified."""

    start: int
    end: int
    log_rho: float
    found: list[tuple[float, tuple[str, ...]]]


def propose_spans(
    pack,
    tokens: list[Token],
    max_words: int | None = None,
    ok: list[bool] | None = None,
    rho: float = RHO,
) -> list[SpanOriginals]:
    """Candidate originals for every eligible word and phrase of one sentence, span by span.

    Phrases are runs of words separated by single spaces ("men and women", "get the job done") that
    start and end with an eligible word. ``ok``: the tokens' eligibility, when the caller has it
    (`eligible_flags`; `eligible_core` of the sentence otherwise).
    """
    max_words = max_words or pack.thesaurus.max_phrase_words
    forms = [lm_form(t.text) for t in tokens]
    if ok is None:
        ok = eligible_core(pack, [tokens])[0]
    wordish = [t.kind == WORD for t in tokens]
    out: list[SpanOriginals] = []
    n = len(tokens)
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + max_words) + 1):
            if j > i + 1 and (not wordish[j - 1] or tokens[j - 1].start != tokens[j - 2].end + 1):
                break
            if not ok[j - 1]:
                continue
            found = originals(pack, " ".join(forms[i:j]))
            if found:
                out.append(SpanOriginals(i, j, math.log10(swap_prior(tokens[i:j], rho)), found))
    return out
