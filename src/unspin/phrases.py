"""Phrase lists: known tortured phrases and spinner tables, brought by the user, matched exactly.

Research-integrity staff keep lists ("counterfeit consciousness" → "artificial intelligence"); a
listed phrase is evidence no language model needs to weigh. A list is plain UTF-8 TSV, one entry a
line, ``#`` starting a comment line::

    spun<TAB>original[<TAB>note[<TAB>confidence]]

* ``original`` ``-`` means "not known": the phrase is flagged, nothing is restored.
* ``confidence`` (0 < c ≤ 1, default 1.0) is the span's confidence and what the entry adds to the
  document's score (see `apply`): an entry below the verdict threshold flags without deciding.
* Matching is case-insensitive, ignores how words are separated (line breaks, runs of spaces,
  hyphens, punctuation: every run of non-word characters is one separator, as in the tokenizer) and
  is inflection-aware: the last word of an entry also matches its other noun forms ("counterfeit
  consciousnesses"; lemminflect's tables); the stated original then takes the same inflection where
  lemminflect knows one. Other inflections need entries of their own.
  Matches start and end on word boundaries.
* A bad list is refused whole, with one line per problem and its line number: a wrong number of
  fields, an empty field, a phrase that is its own original, a duplicate entry, a bad confidence, a
  query that does not parse, bytes that are not UTF-8.

**Fingerprint queries.** The Problematic Paper Screener (Cabanac, Labbé) runs its tortured-phrase
*fingerprints* as queries on Dimensions.ai; we found no published grammar of its own, so the ``spun``
field of an entry may be a query in the conventional Lucene/Dimensions reading, taken over the whole
document: ``"a b"`` a phrase; ``"a b"~N`` its words in any order within ``N`` extra words of each
other; ``A AND B``, ``A OR B``, ``A NOT B`` (= A AND NOT B), ``NOT A``, parentheses; terms side by
side mean AND; precedence NOT > AND > OR; operators are upper case; an unquoted run of words is a
phrase. A document matches when the query is true of it; the occurrences of its terms that are not
under a NOT become the spans. The original is stated only when the query has exactly one such term
and it is an exact phrase (else it is null).

**Speed.** Every phrase (and every inflected form) is one key of one Aho–Corasick automaton
(pyahocorasick, integer payloads, side arrays) run over a normalised copy of the text (lower case,
separator runs collapsed to one space, built with numpy) with an offset map back to the input. The
compiled list is pickled in a cache keyed by the lists' content hash (``phrases/`` in the channel
table's cache folder: ``$UNSPIN_CACHE_DIR`` or ``$XDG_CACHE_HOME/unspin``, ``~/.cache/unspin``), so
a 100 k-entry list loads in a fraction of a second after its first use.
Overlapping matches are resolved by weighted interval scheduling: the set of non-overlapping
matches that covers the most text (not greedy leftmost).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "Entry", "Match", "PhraseList", "PhraseListError", "apply", "as_phrase_lists", "find_all", "from_text",
    "load_phrases", "mine", "normalise", "phrases_from_env",
]  # fmt: skip

FORMAT_VERSION = 4  # bump when the compiled form changes: the cache is keyed by it
MAX_QUERY_TERMS = 32
MAX_QUERY_TOKENS = 128

_SEP = re.compile(r"[\W_]+")
_ASCII_WORD = np.array([chr(c).isalnum() for c in range(128)], dtype=bool)


class PhraseListError(ValueError):
    """A list that cannot be used: ``problems`` holds one line per problem (``FILE:LINE: what``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a list."""

    spun: str  # as written in the list
    original: str | None
    note: str
    confidence: float
    source: str  # the list's file name (or "pasted list")
    line: int
    query: tuple | None = None  # a parsed fingerprint query, or None for a plain phrase

    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(frozen=True, slots=True)
class Match:
    """A listed phrase found in a text: ``text[start:end]``, the entry, and its original as it
    should read there (inflected and cased like the match), or None."""

    start: int
    end: int
    entry: Entry
    original: str | None


def normalise(s: str) -> str:
    """The matching form of a phrase: lower case, every run of non-word characters one space."""
    return _SEP.sub(" ", s.lower()).strip()


# --- reading lists ------------------------------------------------------------------------------------

_QUERY_HINT = re.compile(r'"|\b(?:AND|OR|NOT)\b|~\d|[()]')


def parse_list(text: str, source: str) -> list[Entry]:
    """The entries of one list; raises `PhraseListError` listing every bad line."""
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue

        def bad(what: str, no: int = no) -> None:
            problems.append(f"{source}:{no}: {what}")

        if "\ufffd" in line:
            bad("not valid UTF-8")
            continue
        fields = line.split("\t")
        if len(fields) < 2 or len(fields) > 4:
            bad(f"expected spun<TAB>original[<TAB>note[<TAB>confidence]], found {len(fields)} field(s)")
            continue
        spun, original = fields[0].strip(), fields[1].strip()
        note = fields[2].strip() if len(fields) > 2 else ""
        if not spun or not original:
            bad(f"empty {'spun phrase' if not spun else 'original'} (write - for an unknown original)")
            continue
        confidence = 1.0
        if len(fields) == 4:
            try:
                confidence = float(fields[3])
            except ValueError:
                confidence = float("nan")
            if not 0.0 < confidence <= 1.0:
                bad(f"confidence {fields[3].strip()!r} is not a number in (0, 1]")
                continue
        query = None
        if _QUERY_HINT.search(spun):
            try:
                query = parse_query(spun)
            except ValueError as exc:
                bad(f"bad fingerprint query: {exc}")
                continue
            key = "Q " + " ".join(spun.split())
        else:
            key = normalise(spun)
            if not key:
                bad(f"spun phrase {spun!r} has no words")
                continue
            if original != "-" and normalise(original) == key:
                bad(f"{spun!r} is its own original")
                continue
        if key in seen:
            bad(f"duplicate of line {seen[key]} ({spun!r})")
            continue
        seen[key] = no
        entries.append(Entry(spun, None if original == "-" else original, note, confidence, source, no, query))
    if problems:
        raise PhraseListError(problems)
    return entries


# --- fingerprint queries ------------------------------------------------------------------------------

_QTOKEN = re.compile(r'\s*(?:(?P<q>"[^"]*")(?:~(?P<slop>\d+))?|(?P<op>AND|OR|NOT)\b|(?P<p>[()])|(?P<w>[^\s"()]+))')


def parse_query(query: str) -> tuple:
    """A fingerprint query → a tree: ("term", words, slop|None) | ("and"|"or", a, b) | ("not", a)."""
    tokens: list[tuple[str, object]] = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        m = _QTOKEN.match(query, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read {query[pos:]!r}")
        pos = m.end()
        if m.group("q") is not None:
            words = tuple(normalise(m.group("q")[1:-1]).split())
            if not words:
                raise ValueError("an empty quoted phrase")
            slop = int(m.group("slop")) if m.group("slop") is not None else None
            tokens.append(("term", (words, slop)))
        elif m.group("op"):
            tokens.append(("op", m.group("op")))
        elif m.group("p"):
            tokens.append(("p", m.group("p")))
        elif m.group("w"):
            words = tuple(normalise(m.group("w")).split())
            if words:  # consecutive bare words make one phrase
                if tokens and tokens[-1][0] == "bare":
                    tokens[-1] = ("bare", tokens[-1][1] + words)  # type: ignore[operator]
                else:
                    tokens.append(("bare", words))
    tokens = [("term", (t[1], None)) if t[0] == "bare" else t for t in tokens]
    if len(tokens) > MAX_QUERY_TOKENS:  # also bounds the nesting the recursive descent below meets
        raise ValueError(f"more than {MAX_QUERY_TOKENS} words, operators and parentheses")
    at = 0

    def peek() -> tuple[str, object] | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> tuple[str, object]:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def or_expr() -> tuple:
        left = and_expr()
        while peek() == ("op", "OR"):
            take()
            left = ("or", left, and_expr())
        return left

    def and_expr() -> tuple:
        left = unary()
        while True:
            t = peek()
            if t == ("op", "AND"):
                take()
                left = ("and", left, unary())
            elif t == ("op", "NOT"):  # A NOT B: A AND NOT B
                take()
                left = ("and", left, ("not", unary()))
            elif t is not None and (t[0] == "term" or t == ("p", "(")):
                left = ("and", left, unary())  # side by side: AND
            else:
                return left

    def unary() -> tuple:
        t = peek()
        if t is None:
            raise ValueError("the query ends where a term was expected")
        if t == ("op", "NOT"):
            take()
            return ("not", unary())
        if t == ("p", "("):
            take()
            inner = or_expr()
            if peek() != ("p", ")"):
                raise ValueError("a '(' is not closed")
            take()
            return inner
        if t[0] == "term":
            take()
            words, slop = t[1]  # type: ignore[misc]
            return ("term", words, slop)
        raise ValueError(f"unexpected {t[1]!r}")

    tree = or_expr()
    if at != len(tokens):
        raise ValueError(f"unexpected {tokens[at][1]!r}")
    terms = list(_terms(tree))
    if not any(not negated for _, negated in terms):
        raise ValueError("the query has no term outside a NOT, so nothing to flag")
    if len(terms) > MAX_QUERY_TERMS:
        raise ValueError(f"more than {MAX_QUERY_TERMS} terms")
    return tree


def _terms(tree: tuple, negated: bool = False) -> Iterable[tuple[tuple, bool]]:
    if tree[0] == "term":
        yield tree, negated
    elif tree[0] == "not":
        yield from _terms(tree[1], not negated)
    else:
        yield from _terms(tree[1], negated)
        yield from _terms(tree[2], negated)


def _truth(tree: tuple, present: dict[tuple, bool]) -> bool:
    kind = tree[0]
    if kind == "term":
        return present.get(tree, False)
    if kind == "not":
        return not _truth(tree[1], present)
    if kind == "and":
        return _truth(tree[1], present) and _truth(tree[2], present)
    return _truth(tree[1], present) or _truth(tree[2], present)


# --- inflections --------------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def _forms(word: str, upos: str) -> tuple[tuple[str, str], ...]:
    """(Penn tag, form) for the other forms of ``word`` as a ``upos`` (NOUN or VERB), word itself excluded."""
    from lemminflect import getAllInflections, getAllLemmas, getInflection

    lemmas = {word, *getAllLemmas(word, upos).get(upos, ())}
    out: dict[str, str] = {}
    for lemma in lemmas:
        table = getAllInflections(lemma, upos)
        if upos == "NOUN" and "NNS" not in table and lemma == word and ("NN" in table or not getAllLemmas(word)):
            # A noun lemminflect lists without a plural ("due"), or a word it does not know ("qubit"):
            # its rules still make the plural.
            table = {"NNS": tuple(getInflection(word, tag="NNS"))}
        for tag, forms in table.items():
            for form in forms:
                if form != word and form.isalpha() and form not in out:
                    out[form] = tag
    return tuple((tag, form) for form, tag in out.items())


def _variants(words: Sequence[str]) -> list[tuple[str, int, str]]:
    """(key, inflected word position or -1, Penn tag) for a phrase and its inflected forms."""
    out = [(" ".join(words), -1, "")]
    last = len(words) - 1
    if words[last].isalpha():
        for tag, form in _forms(words[last], "NOUN"):
            out.append((" ".join([*words[:last], form]), last, tag))
    # The first word's verb forms ("utilised profound learning") are left out: they doubled the
    # automaton for a rare case and cost a third of the matching speed (bench/phrases.py).
    return out


def _inflect(original: str, position: int, n_words: int, tag: str) -> str:
    """The original with the inflection the match had (on its last word)."""
    from lemminflect import getInflection

    words = original.split(" ")
    at = len(words) - 1 if position == n_words - 1 else 0
    upos = "NOUN" if tag.startswith("NN") else "VERB"
    if not words[at].isalpha():
        return original
    from lemminflect import getAllLemmas

    lemma = (getAllLemmas(words[at].lower(), upos).get(upos) or (words[at],))[0]
    forms = getInflection(lemma, tag=tag)
    if forms:
        words[at] = forms[0] if words[at].islower() else words[at][:1] + forms[0][1:]
    return " ".join(words)


def _match_case(observed: str, text: str) -> str:
    """Write the original the way the observed words were written (Title, UPPER or lower)."""
    if observed.isupper() and len(observed) > 1:
        return text.upper()
    if observed[:1].isupper():
        if all(w[:1].isupper() for w in observed.split()):
            return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
        return text[:1].upper() + text[1:]
    return text


# --- the compiled list --------------------------------------------------------------------------------


def _cache_dir() -> Path:
    """Beside the channel table's cache (decode/channel_cache.py); its files may be deleted at any time."""
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    base = os.environ.get("UNSPIN_CACHE_DIR") or xdg / "unspin"
    return Path(base) / "phrases"


class PhraseList:
    """One or more lists compiled into one matcher: build once, call `find` on any number of texts.

    Picklable, and quick to unpickle: the entries are kept as columns and the automaton's side
    arrays as numpy arrays (the cache and the workers load this form).
    """

    def __init__(self, entries: list[Entry], sources: list[tuple[str, str]]) -> None:
        import ahocorasick

        self.sources = sources  # (name, sha256 of its bytes)
        self.identity = self.identity_of(sources)
        names = sorted({e.source for e in entries})
        self._names = names
        self._spun = [e.spun for e in entries]
        self._orig = [e.original for e in entries]
        self._note = [e.note for e in entries]
        self._conf = np.array([e.confidence for e in entries], dtype=np.float64)
        self._src = np.array([names.index(e.source) for e in entries], dtype=np.int32)
        self._line = np.array([e.line for e in entries], dtype=np.int64)
        self._queries = {i: e.query for i, e in enumerate(entries) if e.query is not None}
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        # Side arrays indexed by the automaton's integer payload (one per distinct key).
        v_entry: list[int] = []
        v_pos: list[int] = []
        v_tag: list[int] = []
        v_len: list[int] = []
        tags: dict[str, int] = {"": 0}
        # Query terms get their own keys: (query term id, word index or -1) per key.
        self._terms: list[tuple[int, tuple, bool]] = []  # (entry index, term, negated)
        v_terms: dict[int, list[tuple[int, int]]] = {}
        keys: dict[str, int] = {}

        def key_id(key: str) -> int:
            vid = keys.get(key)
            if vid is None:
                vid = keys[key] = len(v_entry)
                v_entry.append(-1)
                v_pos.append(-1)
                v_tag.append(0)
                v_len.append(key.count(" ") + 1)
                automaton.add_word(f" {key} ", vid)
            return vid

        # Exact phrases first, so that an entry's own wording wins over another's inflected form.
        plain = [(i, normalise(e.spun).split()) for i, e in enumerate(entries) if e.query is None]
        for i, words in plain:
            v_entry[key_id(" ".join(words))] = i
        for i, words in plain:
            for key, position, tag in _variants(words)[1:]:
                vid = key_id(key)
                if v_entry[vid] == -1:
                    v_entry[vid], v_pos[vid] = i, position
                    v_tag[vid] = tags.setdefault(tag, len(tags))
        for i, query in self._queries.items():
            for term, negated in _terms(query):
                tid = len(self._terms)
                self._terms.append((i, term, negated))
                words, slop = term[1], term[2]
                if slop is None:
                    for key, _, _ in _variants(words):
                        v_terms.setdefault(key_id(key), []).append((tid, -1))
                else:
                    for k, word in enumerate(words):
                        for key, _, _ in _variants([word]):
                            v_terms.setdefault(key_id(key), []).append((tid, k))
        automaton.make_automaton()
        self._automaton = automaton
        self._v_entry = np.array(v_entry, dtype=np.int32)
        self._v_pos = np.array(v_pos, dtype=np.int16)
        self._v_tag = np.array(v_tag, dtype=np.int16)
        self._v_len = np.array(v_len, dtype=np.int16)
        self._tags = [t for t, _ in sorted(tags.items(), key=lambda x: x[1])]
        self._v_terms = v_terms
        self.keys = len(keys)

    @staticmethod
    def identity_of(sources: list[tuple[str, str]]) -> str:
        """The lists' identity: a hash of their contents (names aside) and of this format."""
        return hashlib.sha256(repr((FORMAT_VERSION, [h for _, h in sources])).encode()).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self._spun)

    def entry(self, i: int) -> Entry:
        """The ``i``-th entry of the compiled lists."""
        return Entry(
            self._spun[i],
            self._orig[i],
            self._note[i],
            float(self._conf[i]),
            self._names[int(self._src[i])],
            int(self._line[i]),
            self._queries.get(i),
        )

    @property
    def entries(self) -> list[Entry]:
        return [self.entry(i) for i in range(len(self))]

    def describe(self) -> str:
        names = ", ".join(name for name, _ in self.sources)
        n = len(self)
        return f"{n:,} entr{'y' if n == 1 else 'ies'} ({self.keys:,} forms) from {names}"

    # --- matching ---

    def find(self, text: str) -> list[Match]:
        """The listed phrases in ``text``: non-overlapping, in order, offsets into ``text``."""
        return find_all([self], text)

    def _candidates(self, norm: str) -> list[tuple[int, int, int, int]]:
        """Every match in ``norm``, overlapping: (norm start, norm end, entry index, variant id; -1/-2
        for a query's term with/without a placeable original)."""
        cands: list[tuple[int, int, int, int]] = []
        term_hits: list[tuple[int, int, int, int]] = []  # (start, end, term id, word index)
        v_entry, v_terms, v_len = self._v_entry, self._v_terms, self._v_len
        for end, vid in self._automaton.iter(norm):
            # The key is " w1 ... wn ": walk back over its n words from the trailing space.
            start = end
            for _ in range(v_len[vid]):
                start = norm.rfind(" ", 0, start)
            i = int(v_entry[vid])
            if i >= 0:
                cands.append((start + 1, end, i, vid))
            if v_terms:
                for tid, k in v_terms.get(vid, ()):
                    term_hits.append((start + 1, end, tid, k))
        if term_hits:
            cands.extend(self._query_matches(norm, term_hits))
        return cands

    def _match(self, text: str, start: int, end: int, i: int, vid: int) -> Match:
        """The `Match` of entry ``i`` at ``text[start:end]``, its original inflected and cased."""
        original = self._orig[i]
        if original is not None and vid >= 0 and self._v_pos[vid] >= 0:
            n_words = len(normalise(self._spun[i]).split())
            original = _inflect(original, int(self._v_pos[vid]), n_words, self._tags[self._v_tag[vid]])
        if original is not None and vid == -2:
            original = None  # a query match whose original cannot be placed
        if original is not None:
            original = _match_case(text[start:end], original)
        return Match(start, end, self.entry(i), original)

    def _query_matches(self, norm: str, hits: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
        """Occurrences of the positive terms of every query that is true of this document."""
        by_term: dict[int, list[tuple[int, int]]] = {}
        prox: dict[int, list[tuple[int, int, int, int]]] = {}
        hits.sort()
        word_no, last = 0, 0
        for s, e, tid, k in hits:
            if k < 0:
                by_term.setdefault(tid, []).append((s, e))
            else:
                word_no += norm.count(" ", last, s)
                last = s
                prox.setdefault(tid, []).append((word_no, k, s, e))
        for tid, occ in prox.items():
            term = self._terms[tid][1]
            found = _proximity(occ, len(term[1]), term[2])
            if found:
                by_term[tid] = found
        out = []
        per_entry: dict[int, list[int]] = {}
        for tid, (i, _, _) in enumerate(self._terms):
            per_entry.setdefault(i, []).append(tid)
        for i, tids in per_entry.items():
            present = {self._terms[t][1]: t in by_term for t in tids}
            if not _truth(self._queries[i], present):
                continue
            positive = [t for t in tids if not self._terms[t][2]]
            exact_one = len(positive) == 1 and self._terms[positive[0]][1][2] is None
            for t in positive:
                for s, e in by_term.get(t, []):
                    out.append((s, e, i, -1 if exact_one else -2))
        return out


def _proximity(occ: list[tuple[int, int, int, int]], n: int, slop: int) -> list[tuple[int, int]]:
    """Windows holding every one of the ``n`` words within ``n + slop`` words (any order)."""
    occ.sort()
    found: list[tuple[int, int]] = []
    have: dict[int, int] = {}
    lo = 0
    for hi in range(len(occ)):
        have[occ[hi][1]] = have.get(occ[hi][1], 0) + 1
        while occ[hi][0] - occ[lo][0] + 1 > n + slop:
            have[occ[lo][1]] -= 1
            if not have[occ[lo][1]]:
                del have[occ[lo][1]]
            lo += 1
        if len(have) == n:
            # Shrink from the left while the window still holds every word: the tightest window.
            while have[occ[lo][1]] > 1:
                have[occ[lo][1]] -= 1
                lo += 1
            found.append((occ[lo][2], occ[hi][3]))
    return found


def _best_cover(cands: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Weighted interval scheduling: the non-overlapping candidates covering the most characters;
    among equals, the list's earlier entries. Returns them in text order."""
    if len(cands) <= 1:
        return cands
    cands = sorted(set(cands), key=lambda c: (c[1], c[0], c[2]))
    ends = [c[1] for c in cands]
    best = [0.0] * (len(cands) + 1)
    take = [False] * len(cands)
    prev = [0] * len(cands)
    for j, (s, e, i, _) in enumerate(cands):
        p = bisect_right(ends, s - 1, 0, j)  # candidates ending before this one starts (a space apart)
        prev[j] = p
        with_j = best[p] + (e - s) - i * 1e-9
        take[j] = with_j > best[j]
        best[j + 1] = with_j if take[j] else best[j]
    out = []
    j = len(cands) - 1
    while j >= 0:
        if take[j]:
            out.append(cands[j])
            j = prev[j] - 1
        else:
            j -= 1
    return out[::-1]


_BMP_WORD: np.ndarray | None = None


def _bmp_word() -> np.ndarray:
    """Which characters of the Basic Multilingual Plane are word characters (``str.isalnum``)."""
    global _BMP_WORD
    if _BMP_WORD is None:
        _BMP_WORD = np.fromiter((chr(c).isalnum() for c in range(0x10000)), dtype=bool, count=0x10000)
    return _BMP_WORD


def _normalised(text: str) -> tuple[str, np.ndarray]:
    """``(" " + norm + " ", keep)``: ``norm`` is ``text`` lower-cased with every run of non-word
    characters one space (leading ones dropped); ``keep`` marks the characters of ``text`` that
    ``norm`` keeps, so ``flatnonzero(keep)[k]`` is the index in ``text`` of ``norm[k]``.

    Vectorised: the per-character work is numpy's, on the narrowest array that holds the text
    (bytes for ASCII, UTF-16 units without astral characters, else UTF-32).
    """
    # "İ" is the one character whose lower case is two; it is "i" for matching.
    low = (text.replace("\u0130", "i") if "\u0130" in text else text).lower()
    if low.isascii():
        arr: np.ndarray = np.frombuffer(low.encode("ascii"), dtype=np.uint8)
        word = _ASCII_WORD[arr]
        codec = "ascii"
    else:
        b16 = low.encode("utf-16-le")
        if len(b16) == 2 * len(low):
            arr, codec = np.frombuffer(b16, dtype=np.uint16), "utf-16-le"
            word = _bmp_word()[arr]
        else:
            arr, codec = np.frombuffer(low.encode("utf-32-le"), dtype=np.uint32), "utf-32-le"
            word = _bmp_word()[np.minimum(arr, 0xFFFF)]
            astral = np.flatnonzero(arr > 0xFFFF)
            word[astral] = [chr(c).isalnum() for c in arr[astral].tolist()]
    # Keep every word character and the first separator after a word.
    keep = word.copy()
    keep[1:] |= word[:-1]
    spaced = arr.copy()
    spaced[~word] = 32
    return " " + spaced[keep].tobytes().decode(codec) + " ", keep


# --- loading ------------------------------------------------------------------------------------------


def _read_source(path: str) -> tuple[str, bytes]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise PhraseListError([f"{path}: is a directory, not a phrase list"]) from None
    except OSError as exc:
        raise PhraseListError([f"{path}: cannot read the phrase list: {exc.strerror or exc}"]) from None
    if b"\0" in data[:8192]:
        raise PhraseListError([f"{path}: a binary file, not a TSV phrase list"])
    return p.name, data


def compile_lists(sources: list[tuple[str, bytes]], cache: bool = True) -> PhraseList:
    """Compile lists given as (name, bytes); through the cache keyed by their content when ``cache``."""
    hashes = [(name, hashlib.sha256(data).hexdigest()) for name, data in sources]
    key = hashlib.sha256(repr((FORMAT_VERSION, hashes)).encode()).hexdigest()
    path = _cache_dir() / f"{key}.pkl"
    if cache and path.exists():
        try:
            with path.open("rb") as fh:
                compiled = pickle.load(fh)
            if isinstance(compiled, PhraseList) and compiled.identity == PhraseList.identity_of(hashes):
                return compiled
        except Exception:  # a torn or stale cache file: rebuild it
            pass
    entries: list[Entry] = []
    problems: list[str] = []
    for name, data in sources:
        text = data.decode("utf-8", errors="replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        try:
            entries.extend(parse_list(text, name))
        except PhraseListError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PhraseListError(problems)
    if not entries:
        raise PhraseListError([f"{', '.join(n for n, _ in sources)}: no entries (spun<TAB>original per line)"])
    compiled = PhraseList(entries, hashes)
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            blob = pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL)
            with tmp.open("wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
            # An unpickled automaton lies in memory in the order it is walked: ~30 % faster matching
            # than the one just built (measured in bench/phrases.py), so use that one from the start.
            compiled = pickle.loads(blob)
        except OSError:
            pass  # a read-only home: compile every time, still correct
    return compiled


def load_phrases(paths: Iterable[str], cache: bool = True) -> PhraseList | None:
    """The lists at ``paths`` as one matcher (None for no paths); `PhraseListError` when one is bad."""
    paths = [p for p in paths if p]
    if not paths:
        return None
    problems: list[str] = []
    sources = []
    for path in paths:
        try:
            sources.append(_read_source(path))
        except PhraseListError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PhraseListError(problems)
    return compile_lists(sources, cache)


def from_text(text: str, name: str = "pasted list") -> PhraseList:
    """A list given as text (the web page, the API); not cached on disk."""
    return compile_lists([(name, text.encode("utf-8"))], cache=False)


def phrases_from_env() -> list[str]:
    """The list files named by ``$UNSPIN_PHRASES`` (``os.pathsep``-separated)."""
    value = os.environ.get("UNSPIN_PHRASES", "")
    return [p for p in value.split(os.pathsep) if p.strip()]


def as_phrase_lists(phrases) -> list[PhraseList]:
    """What the API accepts as ``phrases=``: a `PhraseList`, a path, or a sequence of either."""
    if phrases is None:
        return []
    if isinstance(phrases, (PhraseList, str, os.PathLike)):
        phrases = [phrases]
    lists = [p for p in phrases if isinstance(p, PhraseList)]
    paths = [os.fspath(p) for p in phrases if not isinstance(p, PhraseList)]
    loaded = load_phrases(paths)
    return [*lists, loaded] if loaded is not None else lists


_LIST_STRIDE = 10_000_000  # entries per list in the combined candidate numbering of `find_all`


def find_all(lists: Sequence[PhraseList], text: str) -> list[Match]:
    """The matches of several compiled lists in one text: the non-overlapping set that covers the
    most text across all of them (on a tie, the earlier list and entry), in text order."""
    lists = [pl for pl in lists if len(pl)]
    if not text or not lists:
        return []
    norm, keep = _normalised(text)
    cands = [(s, e, k * _LIST_STRIDE + i, vid) for k, pl in enumerate(lists) for s, e, i, vid in pl._candidates(norm)]
    if not cands:
        return []
    offsets = np.flatnonzero(keep)  # norm position p (after the leading space) → text index
    out = []
    for s, e, g, vid in _best_cover(cands):
        k, i = divmod(g, _LIST_STRIDE)
        out.append(lists[k]._match(text, int(offsets[s - 1]), int(offsets[e - 2]) + 1, i, vid))
    return out


# --- into a report ------------------------------------------------------------------------------------

LIST_SOURCE = "list"  # Span.source of a listed match; the engine's own spans have none


def _to_repaired(repairs, pos: int) -> int:
    """An input offset → the repaired text's (the inverse of `repair.input_span` outside repairs)."""
    shift = 0
    for r in repairs:
        if r.end > pos:
            break
        shift += len(r.after) - (r.end - r.start)
    return pos + shift


def _why(entry: Entry, original: str | None) -> str:
    said = f"“{entry.spun}” → “{original}”" if original else f"“{entry.spun}”"
    note = f" ({entry.note})" if entry.note else ""
    return f"listed in {entry.where()}: {said}{note}"


def apply(report, text: str, phrases: PhraseList | Sequence[PhraseList], threshold: float) -> None:
    """Put ``phrases``' matches in ``report`` (made by the engine from ``text``), in place.

    A match becomes a span with ``source: "list"``; the engine's spans that overlap one are dropped, so
    the two never overlap; ``restored`` states the list's originals too. The score becomes at least
    the highest confidence of a match (1.0 unless the list says otherwise), and the verdict follows
    it, whatever the gate said (too short, not English, not prose): a listed phrase is evidence that
    needs no language model, and the user asked for it. The model's own score stays in
    ``stats.model_score`` when a match raised it. ``stats.listed`` counts the matches.
    """
    from .repair import input_span
    from .report import Span

    matches = find_all([phrases] if isinstance(phrases, PhraseList) else list(phrases), report.repaired)
    report.stats["listed"] = len(matches)
    if not matches:
        return
    listed: list[tuple[int, int, Span]] = []  # (repaired start, repaired end, span)
    for m in matches:
        start, end = input_span(report.repairs, m.start, m.end)
        span = Span(start, end, text[start:end], m.original, m.entry.confidence, _why(m.entry, m.original), LIST_SOURCE)
        listed.append((m.start, m.end, span))
    kept = [s for s in report.spans if not any(s.start < ls.end and ls.start < s.end for _, _, ls in listed)]
    spans = sorted([*kept, *(s for _, _, s in listed)], key=lambda s: (s.start, s.end))
    if report.restored is not None:
        edits = [(m0, m1, s.original) for m0, m1, s in listed if s.original is not None]
        edits += [
            (_to_repaired(report.repairs, s.start), _to_repaired(report.repairs, s.end), s.original)
            for s in kept
            if s.original is not None
        ]
        pieces, pos = [], 0
        for a, b, original in sorted(edits):
            if a < pos:
                continue
            pieces += [report.repaired[pos:a], original]
            pos = b
        pieces.append(report.repaired[pos:])
        report.restored = "".join(pieces)
    report.spans = spans
    report.stats["flagged_words"] = sum(len(s.text.split()) for s in spans)
    best = max(m.entry.confidence for m in matches)
    if report.score is None or best > report.score:
        if report.score is not None:
            report.stats["model_score"] = report.score
        report.score = round(best, 4)
    if best >= threshold:  # the list decides; below the threshold an entry only flags
        from .decode import detect

        report.spun, report.verdict = True, detect.SPUN


# --- mining a list from caught copies -----------------------------------------------------------------

MINE_MAX_WORDS = 4  # longer replaced runs are rewrites, not a spinner's table entries


def _sentence_pairs(spun: list[list], source: list[list]) -> list[tuple[list, list]]:
    """Spun and source sentences paired in order: each spun sentence with the source sentence, at
    most a few ahead of the last one paired, that shares the most words (Jaccard ≥ 0.2)."""
    words = [[{t.text.lower() for t in s if t.kind == "word"} for s in side] for side in (spun, source)]
    pairs, j0 = [], 0
    for i, a in enumerate(words[0]):
        best, best_j = 0.2, -1
        for j in range(j0, min(j0 + 4, len(source))):
            b = words[1][j]
            score = len(a & b) / max(1, len(a | b))
            if score >= best:
                best, best_j = score, j
        if best_j >= 0:
            pairs.append((spun[i], source[best_j]))
            j0 = best_j + 1
    return pairs


def mine_pair(spun_text: str, source_text: str) -> list[tuple[str, str]]:
    """The (spun, original) word runs a spinner swapped in one copy of one source, by aligning
    sentences, then their tokens (difflib); only runs of 1-4 words on both sides, no figures; a lone
    swapped word keeps a shared neighbour, so that an entry is a phrase."""
    from difflib import SequenceMatcher

    from .tokens import WORD, sentence_tokens

    out = []
    for a, b in _sentence_pairs(sentence_tokens(spun_text), sentence_tokens(source_text)):
        sa, sb = [t.text.lower() for t in a], [t.text.lower() for t in b]
        for op, i1, i2, j1, j2 in SequenceMatcher(None, sa, sb, autojunk=False).get_opcodes():
            if op != "replace" or not (0 < i2 - i1 <= MINE_MAX_WORDS and 0 < j2 - j1 <= MINE_MAX_WORDS):
                continue
            if any(t.kind != WORD for t in a[i1:i2]) or any(t.kind != WORD for t in b[j1:j2]):
                continue
            if i2 - i1 == 1 and j2 - j1 == 1:
                # One word for one word: as an entry it would match that word everywhere. Keep the
                # neighbouring shared word with it ("profound learning", not "profound").
                if i2 < len(a) and j2 < len(b) and a[i2].kind == WORD and sa[i2] == sb[j2]:
                    i2, j2 = i2 + 1, j2 + 1
                elif i1 > 0 and j1 > 0 and a[i1 - 1].kind == WORD and sa[i1 - 1] == sb[j1 - 1]:
                    i1, j1 = i1 - 1, j1 - 1
            s, o = " ".join(sa[i1:i2]), " ".join(sb[j1:j2])
            if s != o:
                out.append((s, o))
    return out


def mine(pairs: Iterable[tuple[str, str]], min_count: int = 1) -> list[tuple[str, str, int, int, str]]:
    """A list from (spun copy, source) pairs: (spun, original, times seen, pairs seen in, note), the
    commonest first. A spun phrase seen with several originals keeps the commonest; the others go in
    the note."""
    from collections import Counter, defaultdict

    times: Counter[tuple[str, str]] = Counter()
    docs: Counter[tuple[str, str]] = Counter()
    for spun_text, source_text in pairs:
        found = mine_pair(spun_text, source_text)
        times.update(found)
        docs.update(set(found))
    by_spun: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (s, o), n in times.items():
        by_spun[s].append((n, o))
    rows = []
    for s, options in by_spun.items():
        options.sort(key=lambda x: (-x[0], x[1]))
        n, o = options[0]
        if n < min_count:
            continue
        also = ", ".join(f"{alt} {k}×" for k, alt in options[1:4])
        note = f"seen {n}× in {docs[(s, o)]} pair(s)" + (f"; also: {also}" if also else "")
        rows.append((s, o, n, docs[(s, o)], note))
    rows.sort(key=lambda r: (-r[2], r[0]))
    return rows
