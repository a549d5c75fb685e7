"""Spin-invariant fingerprints of a text, for finding its source despite the rewording.

A spinner swaps common content words for thesaurus neighbours and leaves the rest: names, numbers,
rare words (the thesaurus has nothing for "Kandahar" or "1987") and the function words between them.
So the fingerprints are built from what survives:

- **anchors**: names, numbers and rare words, one feature each. They are the postings of the
  inverted index: few per document, highly selective, and nearly all intact in a spun copy.
- **skeleton shingles**: runs of four tokens in which every common content word is replaced by a
  wildcard ("the * * of Ankara in 1987"). A word-for-word swap leaves a skeleton shingle unchanged,
  so two texts that share most of their skeleton are the same text, reworded. They re-rank the
  candidates the anchors found, and are stored as a sample (one hash in four, chosen by the hash
  itself, so the copy and the source sample the same shingles).

Every feature is a stable 64-bit hash (BLAKE2b), the same in every process and every version of
Python, because the index stores them on disk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..decode.channel import FUNCTION_WORDS
from ..pack.memo import BoundedMemo, memo_for
from ..tokens import PUNCT, lm_form, tokenize

__all__ = ["FEATURES_VERSION", "Fingerprint", "fingerprint", "stable_hash"]

# Bump when what a fingerprint contains changes: an index built with other features cannot be queried.
FEATURES_VERSION = 4

# A lower-case word is an anchor when the language pack saw it fewer times than this in ~125 M words
# of Wikipedia: rare enough that spinners' tables seldom list it, and selective in an index.
RARE_COUNT = 3000
SHINGLE = 4
WILDCARD = "*"
SKETCH_SAMPLE = 4  # keep skeleton shingles whose hash is 0 modulo this
POSTED = 96  # anchors a reference posts in the inverted index (bottom-k by hash)


def stable_hash(text: str) -> int:
    """A signed 64-bit hash of ``text`` that never changes (SQLite integers are signed 64-bit)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


_HASHES: dict[str, int] = {}


def _token_hash(form: str) -> int:
    """``stable_hash`` memoised: a collection repeats the same few hundred thousand forms."""
    h = _HASHES.get(form)
    if h is None:
        if len(_HASHES) > 2_000_000:
            _HASHES.clear()
        h = _HASHES[form] = stable_hash(form)
    return h


# Shingle hashes combine the token hashes positionally (odd multipliers, wrapping uint64 arithmetic)
# and finish with a 64-bit mixer, vectorised over the whole text.
_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64)


def _shingle_hashes(hashes: np.ndarray) -> np.ndarray:
    n = hashes.size - SHINGLE + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    acc = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE):
        acc += hashes[k : k + n] * _MULT[k]
    acc ^= acc >> np.uint64(31)
    acc *= np.uint64(0xBF58476D1CE4E5B9)
    acc ^= acc >> np.uint64(29)
    return acc


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The features of one text: anchor hashes (unique) and the sampled skeleton sketch (sorted)."""

    anchors: np.ndarray  # int64, sorted unique: all anchors, which a query looks up
    sketch: np.ndarray  # uint32, sorted unique
    words: int

    def posted(self) -> np.ndarray:
        """The anchors a reference posts in the index: its ``POSTED`` smallest hashes.

        A bottom-k sample keeps postings bounded for long documents; because it is chosen by hash,
        a copy that shares most anchors with its source holds most of the source's sample too.
        """
        return self.anchors[:POSTED]


# Text is cut by the tool's one tokenizer (``unspin.tokens.tokenize``); of punctuation only what
# ends sentences and clauses or opens quotes enters the skeleton.
_KEPT_PUNCT = frozenset('.!?;:,"“”()')
_SENTENCE_END = frozenset('.!?"“”')

# Per distinct token string: (anchor hash or 0, skeleton hash) when it opens a sentence, and when not;
# then its full-text term ("" for punctuation and function words). They depend on the vocabulary's
# counts, so the memo hangs on the vocabulary (``vocab.memo``).
_Forms = tuple[int, int, int, int, str]
FORMS_MEMO = 2_000_000


def _forms_memo(vocab) -> dict[str, _Forms]:
    return memo_for(vocab, "trace.forms", lambda: BoundedMemo(FORMS_MEMO))


def _forms(token: str, vocab, memo: dict[str, _Forms]) -> _Forms:
    first = token[0]
    # Terms keep their digits (``lm_form`` would make "42" and "44" one term).
    term = token.lower().replace("’", "'")
    if first.isdigit():
        a = _token_hash("#" + token)
        found = (a, a, a, a, term)
    elif not first.isalpha():
        h = _token_hash(token)
        found = (0, h, 0, h, "" if first in _KEPT_PUNCT else term)
    else:
        low = lm_form(token)
        if low in FUNCTION_WORDS:
            h = _token_hash(low)
            found = (0, h, 0, h, "")
        else:
            anchor = _token_hash(low)
            wild = _token_hash(WILDCARD)
            if vocab.count(low) < RARE_COUNT:
                found = (anchor, anchor, anchor, anchor, term)
            elif first.isupper():
                # A name, case-folded. A capitalised common word opening a sentence ("Officials")
                # is no name, and a spinner may well have swapped it.
                found = (0, wild, anchor, anchor, term)
            else:
                found = (0, wild, 0, wild, term)
    memo[token] = found
    return found


def fingerprint(text: str, vocab, anchor_terms: list[str] | None = None, terms: list[str] | None = None) -> Fingerprint:
    """Anchors and skeleton sketch of ``text``; ``vocab`` is the language pack's vocabulary.

    In the same pass, when given lists: ``terms`` receives the text's full-text terms (its words and
    numbers, lower-cased, function words left out) and ``anchor_terms`` the terms of its anchors
    (the names, numbers and rare words a full-text query weights up), in text order.
    """
    anchors: set[int] = set()
    skeleton: list[int] = []
    initial = True
    words = 0
    memo = _forms_memo(vocab)
    for t in tokenize(text):
        tok = t.text
        if t.kind == PUNCT and tok not in _KEPT_PUNCT:
            continue
        forms = memo.get(tok) or _forms(tok, vocab, memo)
        a, h = (forms[0], forms[1]) if initial else (forms[2], forms[3])
        if terms is not None and forms[4]:
            terms.append(forms[4])
        if a:
            anchors.add(a)
            if anchor_terms is not None:
                anchor_terms.append(forms[4])
        skeleton.append(h)
        initial = tok in _SENTENCE_END
        words += tok[0].isalpha()
    hashes = np.array(skeleton, dtype=np.int64).view(np.uint64)
    shingles = _shingle_hashes(hashes)
    if shingles.size:
        # All-wildcard shingles say nothing. (Keeping only shingles that hold an anchor was tried:
        # spinners also swap rare words, which broke too many shingles of heavily spun short texts;
        # template siblings are told apart by their names instead, see ``Candidate.is_source``.)
        wild = np.int64(_token_hash(WILDCARD)).view(np.uint64)
        shingles = shingles[~np.lib.stride_tricks.sliding_window_view(hashes == wild, SHINGLE).all(axis=1)]
    sketch = np.unique((shingles & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    return Fingerprint(
        anchors=np.array(sorted(anchors), dtype=np.int64),
        sketch=sketch[sketch % SKETCH_SAMPLE == 0],
        words=words,
    )
