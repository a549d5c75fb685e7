"""Tokens with character offsets, shared by every stage.

Every later stage (language-pack building, decoding, tracing) must see text cut the same way, or
n-gram statistics learnt from the corpus would not match what the engine looks up. So there is one
tokenizer, one sentence splitter and one normalisation for the language model (`lm_form`), here.

Offsets are Python ``str`` indices into the text given, so a report can point at what the user pasted.

`tokenize` and `sentence_tokens` run compiled (``pack/ext/text_scan.hh``, built with the KenLM batch
scorer by ``scripts/build-kenlm-tools.sh``) when the extension is present; the pure-Python functions
below (``_tokenize_py``, ``_sentence_tokens_py``) are the reference it is tested against and the path
taken without it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["NUMBER", "PUNCT", "WORD", "Token", "lm_form", "sentence_tokens", "sentences", "tokenize"]

WORD = "word"
NUMBER = "number"
PUNCT = "punct"


class Token(NamedTuple):
    """One token: its text, its [start, end) offsets in the input, and its kind."""

    text: str
    start: int
    end: int
    kind: str


# Numbers keep their internal separators ("1,000", "3.5", "10:30") so a changed figure is one token.
# Words are runs of letters/digits with internal apostrophes ("don't", "O'Brien"); hyphens and all
# other symbols are tokens of their own, so "Turkey-backed" shares statistics with "Turkey" and "backed".
_TOKEN_RE = re.compile(
    r"(?P<number>\d+(?:[.,:]\d+)+(?![^\W_])|\d+(?![^\W_]))"
    r"|(?P<word>[^\W_]+(?:['’][^\W_]+)*)"
    r"|(?P<punct>[^\w\s]|_)"
)
_POSSESSIVE_RE = re.compile(r"['’][sS]$")
_HAS_LETTER_RE = re.compile(r"[^\W\d_]")


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Cut ``text[start:end]`` into tokens; offsets are into ``text``.

    A possessive or contracted ``'s`` is split off ("Turkey’s" → "Turkey", "’s") because that is how
    it behaves grammatically and how it is counted in the language pack.
    """
    ext = _compiled()
    if ext is not None and type(text) is str and type(start) is int and (end is None or type(end) is int):
        n = len(text)
        lo = 0 if start < 0 else min(start, n)  # the clamping re's finditer(text, pos, endpos) does
        hi = n if end is None or end > n else max(end, 0)
        if lo > hi:
            return []
        out = ext.tokenize(text, lo, hi)
        if out is not None:
            return out
    return _tokenize_py(text, start, end)


def _tokenize_py(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """`tokenize` in pure Python: the reference for the compiled scanner."""
    out: list[Token] = []
    append = out.append
    for m in _TOKEN_RE.finditer(text, start, len(text) if end is None else end):
        kind = m.lastgroup or PUNCT
        s, e = m.span()
        tok = m.group()
        if kind == "word" and not tok.isalpha():  # plain words (most of them) need no more checks
            if not _HAS_LETTER_RE.search(tok):
                kind = NUMBER
            elif e - s > 2 and _POSSESSIVE_RE.search(tok):
                append(Token(tok[:-2], s, e - 2, WORD))
                append(Token(tok[-2:], e - 2, e, WORD))
                continue
        append(Token(tok, s, e, kind))
    return out


# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen rep rev fr hon vs etc inc ltd co corp
    jan feb mar apr jun jul aug sep sept oct nov dec no nos fig al approx dept est""".split()
)
_CLOSERS = frozenset("\"'”’)]»")
_ENDERS = frozenset(".!?…")


def sentence_tokens(text: str) -> list[list[Token]]:
    """Tokens grouped by sentence.

    A sentence ends at ``.``/``!``/``?`` (plus closing quotes or brackets) followed by whitespace and
    a token that does not start in lower case, and always at a line break: scraped pages put
    headlines, bylines and captions on lines of their own, without final punctuation.
    """
    ext = _compiled()
    if ext is not None and type(text) is str:
        out = ext.sentence_tokens(text)
        if out is not None:
            return out
    return _sentence_tokens_py(text)


def _sentence_tokens_py(text: str) -> list[list[Token]]:
    """`sentence_tokens` in pure Python: the reference for the compiled scanner."""
    groups: list[list[Token]] = []
    for line in re.finditer(r"[^\n]+", text):
        toks = _tokenize_py(text, *line.span())
        if not toks:
            continue
        first_of_line = len(groups)
        begin = 0
        n = len(toks)
        i = 0
        while i < n:
            t = toks[i]
            if t.kind == PUNCT and t.text in _ENDERS:
                j = i + 1
                while j < n and toks[j].kind == PUNCT and (toks[j].text in _ENDERS or toks[j].text in _CLOSERS):
                    j += 1
                if j >= n:
                    break
                last, nxt = toks[j - 1], toks[j]
                prev = toks[i - 1] if i > 0 else None
                abbreviation = (
                    t.text == "."
                    and prev is not None
                    and prev.end == t.start
                    and (prev.text.lower() in _ABBREVIATIONS or (len(prev.text) == 1 and prev.text.isalpha()))
                )
                if nxt.start > last.end and not abbreviation and not nxt.text[:1].islower():
                    groups.append(toks[begin:j])
                    begin = j
                i = j
                continue
            i += 1
        groups.append(toks[begin:])
        # A fragment with no word in it (a stray quote after a full stop) belongs to what precedes it.
        if len(groups) - first_of_line > 1 and all(t.kind == PUNCT for t in groups[-1]):
            tail = groups.pop()
            groups[-1] = groups[-1] + tail
    return groups


_EXT: list = []  # [the compiled scanner, or None], resolved at the first call


def _compiled():
    """The compiled scanner (``unspin.pack._kenlm_batch``, configured with this module's objects), or
    None when the extension was not built. Imported lazily: ``unspin.pack`` imports this module."""
    if not _EXT:
        try:
            from .pack import _kenlm_batch as ext  # type: ignore[attr-defined]

            ext.configure_tokens(Token, WORD, NUMBER, PUNCT, sorted(_ENDERS), sorted(_CLOSERS), _ABBREVIATIONS)
        except (ImportError, AttributeError):  # not built, or built before the scanner existed
            ext = None
        _EXT.append(ext)
    return _EXT[0]


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` over ``text`` (see :func:`sentence_tokens`)."""
    return [(g[0].start, g[-1].end) for g in sentence_tokens(text)]


_DIGIT_RE = re.compile(r"\d")


def lm_form(token_text: str) -> str:
    """The form a token takes in the language model: lower case, straight apostrophe, digits as 0.

    Digits collapse so that "33 Turkish troops" and "34 Turkish troops" share their statistics.
    """
    if token_text.isalpha():
        return token_text.lower()
    return _DIGIT_RE.sub("0", token_text.lower().replace("’", "'"))
