"""Facts a reader relies on (numbers, names, dates, quotations) and how a copy changed them.

Only aligned passages are compared: a fact outside every passage is not "missing", the copy
just covers another stretch of the story. Within a passage, a fact of the source with no equal in the
copy is ``altered`` when the copy's passage holds an unmatched fact of the same kind ("Foreign
Ministry" → "Overseas Ministry", 33 → 34, a reworded quotation), else ``missing``; a fact only the
copy states is ``added``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..decode.channel import FUNCTION_WORDS

__all__ = ["Fact", "changed_facts", "facts"]

NUMBER, NAME, DATE, QUOTE = "number", "name", "date", "quote"

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE_RE = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{4}}|{_DAY})\b"
)
_NUMBER_RE = re.compile(r"(?<![\w.,])[-−]?\d+(?:[.,:]\d+)*(?:\s?(?:%|per ?cent))?(?![\w])")
_NUMBER_WORDS = r"(?:hundred|thousand|million|billion|trillion)"
_NAME_RE = re.compile(r"\b[A-Z][\w'’.-]*(?:[ \t]+(?:(?:of|the|de|al|bin|van|von|der|for|and)[ \t]+)?[A-Z][\w'’.-]*)*")
_QUOTE_RE = re.compile(r"[“\"]([^“”\"\n]{12,}?)[”\"]")
_WORD_RE = re.compile(r"[^\W_]+")
MIN_OVERLAP = 0.3  # share of words two names or quotations need in common to be one fact, altered


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact stated in a text: ``text[start:end]``, its kind and its comparable ``key``."""

    kind: str
    start: int
    end: int
    text: str
    key: str


def _common_word(word: str, vocab) -> bool:
    """A capitalised word that the corpus mostly writes in lower case is a word, not a name."""
    return vocab.cased_count(word.lower()) > vocab.cased_count(word)


def _sentence_start(text: str, pos: int, lo: int) -> bool:
    before = text[lo:pos].rstrip(" \t“\"'‘(")
    # A dateline's dash opens a sentence too: "Kestrel Bay – Emergency crews ...".
    return not before or before[-1] in ".!?\n:–—"


def facts(text: str, start: int = 0, end: int | None = None, vocab=None) -> list[Fact]:
    """The facts of ``text[start:end]`` (offsets into ``text``), at most one per character range."""
    end = len(text) if end is None else end
    found: list[Fact] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def add(kind: str, s: int, e: int, key: str) -> None:
        found.append(Fact(kind, s, e, text[s:e], key))
        taken.append((s, e))

    for m in _QUOTE_RE.finditer(text, start, end):
        words = _WORD_RE.findall(m.group(1).lower())
        if len(words) >= 3:
            add(QUOTE, m.start(), m.end(), " ".join(words))
    for m in _DATE_RE.finditer(text, start, end):
        if free(*m.span()):
            add(DATE, *m.span(), " ".join(m.group().lower().replace(",", " ").split()))
    for m in _NUMBER_RE.finditer(text, start, end):
        if free(*m.span()):
            key = m.group().replace("−", "-").replace(" ", "").replace("percent", "%").replace("per cent", "%")
            add(NUMBER, *m.span(), key)
    for m in _NAME_RE.finditer(text, start, end):
        # Leading function words are capitalised only because they open a sentence ("The Foreign
        # Ministry"); a lone common word opening a sentence ("Officials") is no name.
        words = [w for w in re.finditer(r"\S+", m.group())]
        while words and words[0].group().lower() in FUNCTION_WORDS:
            words.pop(0)
        if not words:
            continue
        s = m.start() + words[0].start()
        name = text[s : m.end()].rstrip(".")
        e = s + len(name)
        if re.fullmatch(_NUMBER_WORDS, name.lower()) or not free(s, e):
            continue
        if len(words) == 1 and _sentence_start(text, s, start) and vocab is not None and _common_word(name, vocab):
            continue
        add(NAME, s, e, name.lower().replace("’", "'"))
    found.sort(key=lambda f: f.start)
    return found


def _overlap(a: str, b: str) -> float:
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) / max(1, min(len(wa), len(wb)))


def _pair_altered(
    gone: list[Fact], new: list[Fact], where: Callable[[Fact, bool], float]
) -> list[tuple[Fact | None, Fact | None]]:
    """Pair source facts that have no equal in the copy with unmatched copy facts of their kind.

    Best pairs first: names and quotations pair only when they share words (``MIN_OVERLAP``), the
    most similar first; numbers and dates pair by nearest relative position in the passage
    (``where(fact, in_copy)``, from 0 to 1).
    """
    options = []
    for i, f in enumerate(gone):
        for j, g in enumerate(new):
            if g.kind != f.kind:
                continue
            similar = _overlap(f.key, g.key) if f.kind in (QUOTE, NAME) else 1.0
            if similar >= MIN_OVERLAP:
                options.append((-similar, abs(where(g, True) - where(f, False)), i, j))
    options.sort()
    src_of: dict[int, int] = {}
    used: set[int] = set()
    for _, _, i, j in options:
        if i not in src_of and j not in used:
            src_of[i] = j
            used.add(j)
    out: list[tuple[Fact | None, Fact | None]] = [
        (f, new[src_of[i]] if i in src_of else None) for i, f in enumerate(gone)
    ]
    out.extend((None, g) for j, g in enumerate(new) if j not in used)
    return out


def changed_facts(copy: str, source: str, pairs, vocab=None) -> list[dict]:
    """Facts changed between aligned ``pairs`` ((copy span), (source span)) of text, in order.

    Pass whole passages rather than sentence pairs: a sentence the copy split in two or merged
    still has its facts inside the same passage.

    Each is ``{"kind", "change", "source", "copy", "source_start", "source_end", "copy_start",
    "copy_end"}`` with offsets into each text (``None`` for the side that lacks the fact).
    """
    out: list[dict] = []
    for (cs, ce), (ss, se) in pairs:
        c_facts = facts(copy, cs, ce, vocab)
        s_facts = facts(source, ss, se, vocab)
        c_keys = {(f.kind, f.key) for f in c_facts}
        s_keys = {(f.kind, f.key) for f in s_facts}
        gone = [f for f in s_facts if (f.kind, f.key) not in c_keys]
        new = [f for f in c_facts if (f.kind, f.key) not in s_keys]

        def where(f: Fact, in_copy: bool, cs: int = cs, ce: int = ce, ss: int = ss, se: int = se) -> float:
            lo, hi = (cs, ce) if in_copy else (ss, se)
            return (f.start - lo) / max(1, hi - lo)

        for src, cp in _pair_altered(gone, new, where):
            kind = (src or cp).kind
            out.append(
                {
                    "kind": kind,
                    "change": "altered" if src and cp else ("missing" if src else "added"),
                    "source": src.text if src else None,
                    "copy": cp.text if cp else None,
                    "source_start": src.start if src else None,
                    "source_end": src.end if src else None,
                    "copy_start": cp.start if cp else None,
                    "copy_end": cp.end if cp else None,
                }
            )
    return out
