"""The learned channel: the pack's spinner table (`unspin.learn.table`) applied to the candidates.

The thesaurus says what a spinner *could* have swapped; the table says what real spinners *did*. For
every observed term of a sentence:

- an original the table has seen swapped into it gains ``LEARNED_WEIGHT · log10(1 + count)`` (log10)
  over its thesaurus cost, and an original only the table knows (no thesaurus lists the pair: "12
  months" ← "year", "the place" ← "where") is proposed at ``LEARNED_ONLY_COST`` plus that gain;
- the swap prior there moves by how often spinners output the word against how often they left it in
  place (``OUTPUT_WEIGHT`` times the log ratio of that share to the typical page's share, clipped):
  "stated", "whereas", "physician" are spinner outputs far more often than chance.

Nothing changes for a pack without a table. Adjusted candidate lists are memoised on the pack, per table.
"""

from __future__ import annotations

import math

from ..tokens import WORD, Token
from .channel import SpanOriginals, swap_prior

# Chosen on bench/loso.py's leave-one-site-out figures (8 settings tried: slightly optimistic there).
LEARNED_WEIGHT = 5.0
LEARNED_ONLY_COST = 0.5
OUTPUT_WEIGHT = 2.0
#: The share of a spun page's eligible words a spinner swaps (real pages: 20-40 %): the reference
#: against which one word's output share counts as evidence.
TYPICAL_SHARE = 0.3
OUTPUT_CLIP = (-1.0, 1.0)
MAX_WORDS = 3


def table_for(pack):
    """The pack's spinner table (None without one); `use_table` overrides it (leave-one-site-out)."""
    memo = pack.memo
    if "spinner_table" not in memo:
        from ..learn.table import FILE_NAME, SpinnerTable

        path = pack.path / FILE_NAME
        memo["spinner_table"] = SpinnerTable.read(path) if path.is_file() else None
    return memo["spinner_table"]


#: The memos on the pack derived from the table in use, forgotten when `use_table` changes it.
_DERIVED = ("learned_originals", "learned_words")


def use_table(pack, table) -> None:
    """Decode with ``table`` (None: none) instead of the pack's own, from now on in this process."""
    pack.memo["spinner_table"] = table
    for key in _DERIVED:
        pack.memo.pop(key, None)


def use_own_table(pack) -> None:
    """Back to the pack's own table (after `use_table`)."""
    pack.memo.pop("spinner_table", None)
    for key in _DERIVED:
        pack.memo.pop(key, None)


def word_records(pack) -> dict[str, tuple[float, bool]]:
    """Per single word of the table in use: (its `output_bonus`, whether spinners swapped it in), for
    the screen's table features (`detect.screen`); empty without a table. Memoised on the pack."""
    got = pack.memo.get("learned_words")
    if got is None:
        table = table_for(pack)
        got = {}
        if table is not None:
            for w in set(table.output) | set(table.kept) | set(table.pairs):
                if " " not in w:
                    got[w] = (output_bonus(table, w), w in table.pairs)
        pack.memo["learned_words"] = got
    return got


def output_bonus(table, observed: str) -> float:
    """log10 change of the swap prior at ``observed`` from the table's output/kept record."""
    if " " in observed:
        return 0.0
    out, kept = table.output.get(observed, 0), table.kept.get(observed, 0)
    if out + kept == 0:
        return 0.0
    share = (out + 0.5 * TYPICAL_SHARE) / (out + kept + 0.5)
    lo, hi = OUTPUT_CLIP
    return OUTPUT_WEIGHT * min(hi, max(lo, math.log10(share / TYPICAL_SHARE)))


def _adjusted(table, memo: dict, observed: str, found: list) -> list:
    got = memo.get(observed)
    if got is not None:
        return got
    learned = table.pairs.get(observed, {})
    if not learned:
        return found  # not memoised: the memo holds at most one list per term of the table
    out, seen = [], set()
    for cost, words in found:
        key = " ".join(words)
        count = learned.get(key, 0)
        out.append((cost + LEARNED_WEIGHT * math.log10(1 + count) if count else cost, words))
        seen.add(key)
    for key, count in learned.items():
        if key not in seen:
            out.append((LEARNED_ONLY_COST + LEARNED_WEIGHT * math.log10(1 + count), tuple(key.split())))
    out.sort(key=lambda cw: -cw[0])
    memo[observed] = out
    return out


def adjust_spans(pack, sent: list[Token], forms: list[str], spans: list[SpanOriginals], ok: list[bool]):
    """``spans`` (from `channel.propose_spans`) with the learned channel applied, plus the spans only
    the table knows originals for."""
    table = table_for(pack)
    if table is None:
        return spans
    memo = pack.memo.setdefault("learned_originals", {})
    out = []
    covered = set()
    for sp in spans:
        observed = " ".join(forms[sp.start : sp.end])
        covered.add((sp.start, sp.end))
        out.append(
            SpanOriginals(sp.start, sp.end, sp.log_rho + output_bonus(table, observed),
                          _adjusted(table, memo, observed, sp.found))
        )  # fmt: skip
    n = len(sent)
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + MAX_WORDS) + 1):
            if j > i + 1 and (sent[j - 1].kind != WORD or sent[j - 1].start != sent[j - 2].end + 1):
                break
            if (i, j) in covered or not ok[j - 1]:
                continue
            observed = " ".join(forms[i:j])
            if observed in table.pairs:
                found = _adjusted(table, memo, observed, [])
                log_rho = math.log10(swap_prior(sent[i:j])) + output_bonus(table, observed)
                out.append(SpanOriginals(i, j, log_rho, found))
    return out
