"""The thesaurus graph: which words and phrases a spinner may put for which, in both directions.

A spinner replaces an original term with an entry from the original's thesaurus list. To undo it we
need the *reverse* channel: given the observed term, the originals whose lists contain it
(`Thesaurus.sources`); and the forward list (`Thesaurus.synonyms`) with its size (`degree`), because an
original with 300 listed synonyms explains any one of them only weakly.

Sources: the Moby thesaurus (public domain; directed lists, phrases included, no part of speech) and
WordNet 3.1 synsets (symmetric, with part of speech). Terms are keyed by their lm_form tokens joined by
spaces, the way the engine sees text ("avant-garde" → "avant - garde"). Thesauri list base forms, so
queries go through lemminflect: "troopers" → lemma "trooper" (NNS) → sources "soldier" → re-inflected
"soldiers"; "departed" → "depart" (VBD) → "leave" → "left".

On disk: a sorted term table, per-term WordNet part-of-speech bits, and forward and reverse CSR
adjacency (uint32) with one flag byte per edge (part-of-speech bits, which source gave the edge).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from ..tokens import lm_form, tokenize
from .store import StringTable, load_array, save_array

__all__ = ["FROM_MOBY", "FROM_WORDNET", "POS_BITS", "Thesaurus", "build_thesaurus", "term_key"]

# Part-of-speech bits (per term and per edge); WordNet's satellite adjectives count as adjectives.
POS_BITS = {"n": 1, "v": 2, "a": 4, "r": 8}
POS_ORDER = ("n", "v", "a", "r")
FROM_MOBY = 16
FROM_WORDNET = 32
_UPOS_TO_POS = {"NOUN": "n", "PROPN": "n", "VERB": "v", "AUX": "v", "ADJ": "a", "ADV": "r"}
# Phrases longer than this are dropped: a spinner never substitutes whole clauses.
MAX_PHRASE_WORDS = 5


@lru_cache(maxsize=262144)
def term_key(term: str) -> str:
    """The lookup key of a word or phrase: its lm_form tokens joined by single spaces."""
    return " ".join(lm_form(t.text) for t in tokenize(term))


def _pos_string(bits: int) -> str:
    for p in POS_ORDER:
        if bits & POS_BITS[p]:
            return p
    return ""


# ---------------------------------------------------------------------------------------------- build

def read_moby(path: Path) -> Iterable[tuple[str, list[str]]]:
    """Moby's ``words.txt``: one list per line, headword first, comma separated, Latin-1."""
    with open(path, encoding="latin-1") as f:
        for line in f:
            parts = [p.strip() for p in line.rstrip("\n").split(",")]
            parts = [p for p in parts if p]
            if len(parts) > 1:
                yield parts[0], parts[1:]


_WN_MARKER = re.compile(r"\([a-z]+\)$")


def read_wordnet(dict_dir: Path) -> tuple[list[tuple[str, list[str]]], dict[str, int]]:
    """WordNet synsets as (pos, member lemmas) and each lemma's part-of-speech bits (from index.*)."""
    synsets: list[tuple[str, list[str]]] = []
    lemma_pos: dict[str, int] = defaultdict(int)
    for name, pos in (("noun", "n"), ("verb", "v"), ("adj", "a"), ("adv", "r")):
        with open(dict_dir / f"index.{name}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                lemma = line.split(" ", 1)[0].replace("_", " ")
                lemma_pos[term_key(lemma)] |= POS_BITS[pos]
        with open(dict_dir / f"data.{name}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split(" ")
                n = int(fields[3], 16)
                words = [_WN_MARKER.sub("", fields[4 + 2 * i]).replace("_", " ") for i in range(n)]
                if len(words) > 1:
                    synsets.append((pos, words))
    return synsets, dict(lemma_pos)


def build_thesaurus(moby_words: Path, wordnet_dict: Path, out: Path) -> dict:
    """Build the graph files into ``out``; returns counts for the manifest."""
    edges: dict[tuple[str, str], int] = defaultdict(int)
    synsets, lemma_pos = read_wordnet(wordnet_dict)

    def ok(key: str) -> bool:
        return bool(key) and key.count(" ") < MAX_PHRASE_WORDS

    moby_heads = 0
    for head, items in read_moby(moby_words):
        h = term_key(head)
        if not ok(h):
            continue
        moby_heads += 1
        hp = lemma_pos.get(h, 0)
        for it in items:
            t = term_key(it)
            if ok(t) and t != h:
                edges[(h, t)] |= FROM_MOBY | (hp & lemma_pos.get(t, 0))
    for pos, words in synsets:
        keys = [k for k in dict.fromkeys(term_key(w) for w in words) if ok(k)]
        for a in keys:
            for b in keys:
                if a != b:
                    edges[(a, b)] |= FROM_WORDNET | POS_BITS[pos]

    terms = {a for a, _ in edges} | {b for _, b in edges}
    keys, strings = StringTable.build(terms, max_bytes=96)
    row = {s: i for i, s in enumerate(strings)}
    src = np.fromiter((row.get(a, -1) for a, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((row.get(b, -1) for _, b in edges), dtype=np.int64, count=len(edges))
    flags = np.fromiter(edges.values(), dtype=np.uint8, count=len(edges))
    keep = (src >= 0) & (dst >= 0)
    src, dst, flags = src[keep], dst[keep], flags[keep]
    n = len(strings)

    def csr(a: np.ndarray, b: np.ndarray, fl: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.lexsort((b, a))
        indptr = np.zeros(n + 1, dtype=np.uint32)
        np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
        return indptr, b[order].astype(np.uint32), fl[order]

    out.mkdir(parents=True, exist_ok=True)
    save_array(out / "terms.npy", keys)
    save_array(out / "term_pos.npy", np.array([lemma_pos.get(s, 0) for s in strings], dtype=np.uint8))
    for name, (ip, ix, fl) in (("fwd", csr(src, dst, flags)), ("rev", csr(dst, src, flags))):
        save_array(out / f"{name}_indptr.npy", ip)
        save_array(out / f"{name}_index.npy", ix)
        save_array(out / f"{name}_flags.npy", fl)
    return {
        "terms": n,
        "edges": len(src),
        "phrases": sum(1 for s in strings if " " in s),
        "max_phrase_words": max((s.count(" ") + 1 for s in strings), default=0),
        "moby_headwords": moby_heads,
        "wordnet_synsets": len(synsets),
    }


# ---------------------------------------------------------------------------------------------- query

@lru_cache(maxsize=262144)
def _analyses(word: str) -> tuple[tuple[str, str, str], ...]:
    """(lemma, upos, Penn tag) readings of an inflected single word, from lemminflect's dictionary."""
    out: list[tuple[str, str, str]] = []
    for upos, lemmas in _all_lemmas(word).items():
        for lemma in lemmas:
            if lemma == word:
                continue
            for tag, forms in _all_inflections(lemma, upos).items():
                if word in forms:
                    out.append((lemma, upos, tag))
    return tuple(out)


# lemminflect's getAllLemmas / getAllInflections / getInflection deep-copy a lemma's table on every
# call, which was most of a cold check's time. The three functions below give the same answers
# (tests/test_pack.py compares them with the library's API) from the same tables, copying only the
# small dicts they change; the tables' values are tuples of strings, so nothing shared is mutated.

def _all_lemmas(word: str) -> dict[str, tuple[str, ...]]:
    """``lemminflect.getAllLemmas(word)`` (no part of speech given)."""
    from lemminflect.core.Lemmatizer import Lemmatizer
    from lemminflect.core.LexicalUtils import applyCapsStyleToDict, getCapsStyle

    lem = Lemmatizer()
    caps = getCapsStyle(word)
    word = word.lower()
    lemmas = dict(lem._getLemmaDict().get(word, {}))
    lemmas.update(lem._getOverridesDict().get(word, {}))
    return applyCapsStyleToDict(lemmas, caps)


def _all_inflections(lemma: str, upos: str | None) -> dict[str, tuple[str, ...]]:
    """``lemminflect.getAllInflections(lemma, upos)``."""
    from lemminflect.core.Inflections import Inflections
    from lemminflect.core.LexicalUtils import applyCapsStyle, applyCapsStyleToDict, getCapsStyle, uposToTags

    infl = Inflections()
    if upos is not None and upos not in infl.DICT_UPOS_TYPES:
        return {}
    caps = getCapsStyle(lemma)
    lemma = lemma.lower()
    if upos == "PROPN":
        lemma = applyCapsStyle(lemma, "first_upper")
        upos = "NOUN"
    forms = dict(infl._getInflDict().get(lemma, {}))
    forms.update(infl._getOverridesDict().get(lemma, {}))
    if upos is not None:
        tags = uposToTags(upos)
        forms = {k: v for k, v in forms.items() if k in tags}
    return applyCapsStyleToDict(forms, caps)


def _inflection(lemma: str, tag: str) -> tuple[str, ...]:
    """``lemminflect.getInflection(lemma, tag)`` (out-of-vocabulary rules included)."""
    from lemminflect.core.Inflections import Inflections
    from lemminflect.core.LexicalUtils import pennTagAlts, tagToUPos

    upos = tagToUPos(tag)
    forms = _all_inflections(lemma, upos if upos == "PROPN" else None)
    form = Inflections._extractForm(forms, tag)
    if form is None:
        for alt in pennTagAlts(tag):
            form = forms.get(alt, None)
            if form:
                break
    if form is None:
        form = Inflections._extractForm(_oov_inflections(lemma, upos), tag)
    return () if form is None else form


@lru_cache(maxsize=65536)
def _oov_inflections(lemma: str, upos: str | None) -> dict[str, tuple[str, ...]]:
    """``lemminflect.getAllInflectionsOOV`` (a small model per call: memoised; read-only to callers)."""
    from lemminflect import getAllInflectionsOOV

    return getAllInflectionsOOV(lemma, upos)


@lru_cache(maxsize=262144)  # a rev list's terms recur across the words that share its lemma
def _inflect_term(term: str, upos: str, tag: str) -> str | None:
    """Put ``term`` (a base form, maybe a phrase) into Penn ``tag``: verbs inflect their first word
    ("get the job done" → "got the job done"), nouns and adjectives their last ("air power" → "air
    powers")."""
    words = term.split(" ")
    i = 0 if upos in ("VERB", "AUX") else len(words) - 1
    form = _dictionary_form(words[i], tag)
    if form is None:
        forms = _inflection(words[i], tag)
        if not forms:
            return None
        form = forms[0]
    words[i] = form
    return " ".join(words)


def _dictionary_form(lemma: str, tag: str) -> str | None:
    """lemminflect's dictionary answer for a lower-case lemma, read without its per-call deep copy of
    the lemma's table (the bulk of a cold check's time); None sends the caller to the full API."""
    from lemminflect.core.Inflections import Inflections

    if not lemma.islower() or tag.startswith("NNP"):
        return None
    infl = Inflections()
    forms = (infl._getOverridesDict().get(lemma) or {}).get(tag) or (infl._getInflDict().get(lemma) or {}).get(tag)
    return forms[0] if forms else None


class Thesaurus:
    """Query side of the graph; see the module docstring."""

    def __init__(self, directory: Path, max_phrase_words: int = MAX_PHRASE_WORDS) -> None:
        self.table = StringTable(load_array(directory / "terms.npy"))
        self.term_pos = load_array(directory / "term_pos.npy")
        self._g = {
            name: (
                load_array(directory / f"{name}_indptr.npy"),
                load_array(directory / f"{name}_index.npy"),
                load_array(directory / f"{name}_flags.npy"),
            )
            for name in ("fwd", "rev")
        }
        #: Longest term in words: how far the engine must look for a multi-word source or target.
        self.max_phrase_words = max(max_phrase_words, 1)
        self._rows = {name: lru_cache(maxsize=512)(partial(self._read_row, name)) for name in ("fwd", "rev")}
        self._synonyms = lru_cache(maxsize=65536)(self._lookup_fwd)
        self._sources = lru_cache(maxsize=65536)(self._lookup_rev)

    def __len__(self) -> int:
        return len(self.table)

    def _row_list(self, name: str, key: str) -> tuple[tuple[str, int], ...]:
        """The term's edges in graph ``name`` as (other term, flags). The last few hundred rows are
        kept (a lemma's row serves all its inflected forms); more would cost memory, not time."""
        return self._rows[name](key)

    def _read_row(self, name: str, key: str) -> tuple[tuple[str, int], ...]:
        r = self.table.find(key)
        if r < 0:
            return ()
        indptr, index, flags = self._g[name]
        a, b = int(indptr[r]), int(indptr[r + 1])
        others = self.table.strings(index[a:b])
        return tuple(zip(others, flags[a:b].tolist(), strict=True))

    def _lookup(self, name: str, term: str) -> tuple[tuple[str, str, int], ...]:
        """(term, part of speech, edge flags) of the term's row in graph ``name``, inflected like it;
        the flags of a term reached through several edges are OR-ed (which sources link the two)."""
        key = term_key(term)
        pos: dict[str, str] = {}
        flags: dict[str, int] = {}
        for t, f in self._row_list(name, key):
            pos.setdefault(t, _pos_string(f))
            flags[t] = flags.get(t, 0) | f
        if " " not in key:
            for lemma, upos, tag in _analyses(key):
                want = _UPOS_TO_POS.get(upos, "")
                for t, f in self._row_list(name, lemma):
                    if want and f & 15 and not f & POS_BITS[want]:
                        continue  # WordNet says this edge is another part of speech
                    infl = _inflect_term(t, upos, tag)
                    if infl and infl != key:
                        pos.setdefault(infl, want or _pos_string(f))
                        flags[infl] = flags.get(infl, 0) | f
        return tuple((t, p, flags[t]) for t, p in pos.items())

    def _lookup_fwd(self, term: str) -> tuple[tuple[str, str, int], ...]:
        return self._lookup("fwd", term)

    def _lookup_rev(self, term: str) -> tuple[tuple[str, str, int], ...]:
        return self._lookup("rev", term)

    def synonyms(self, term: str) -> list[tuple[str, str]]:
        """The term's own list (what a spinner may put for it), inflected like the term."""
        return [(t, p) for t, p, _ in self._synonyms(term)]

    def sources(self, term: str) -> list[tuple[str, str]]:
        """Terms whose list contains ``term`` (what a spinner may have replaced by it), inflected like it."""
        return [(t, p) for t, p, _ in self._sources(term)]

    def has_term(self, term: str) -> bool:
        """Is the term (as written, not a lemma of it) in the graph? One table search."""
        return self.table.find(term_key(term)) >= 0

    def sources_with_flags(self, term: str) -> list[tuple[str, str, int]]:
        """`sources` with each edge's flags (``FROM_MOBY``, ``FROM_WORDNET``, part-of-speech bits)."""
        return list(self._sources(term))

    def synonyms_with_flags(self, term: str) -> list[tuple[str, str, int]]:
        """`synonyms` with each edge's flags."""
        return list(self._synonyms(term))

    def degree(self, term: str) -> int:
        """Size of the term's own list (of its lemma's, when the inflected form has no entry)."""
        return self.degrees([term])[0]

    def degrees(self, terms: list[str]) -> list[int]:
        """`degree` of many terms, with one vectorised table search for all of them."""
        keys = [term_key(t) for t in terms]
        rows = self.table.find_many(keys).tolist()
        indptr = self._g["fwd"][0]
        out = []
        for key, r in zip(keys, rows, strict=True):
            if r < 0 and " " not in key:
                for lemma, _, _ in _analyses(key):
                    r = self.table.find(lemma)
                    if r >= 0:
                        break
            out.append(int(indptr[r + 1]) - int(indptr[r]) if r >= 0 else 0)
        return out

    def pos(self, term: str) -> str:
        """WordNet's first part of speech for the term ("n", "v", "a", "r"), or "" if unknown."""
        r = self.table.find(term_key(term))
        return _pos_string(int(self.term_pos[r])) if r >= 0 else ""
