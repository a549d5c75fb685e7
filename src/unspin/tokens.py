"""Tokens with character offsets, shared by every stage.

Every later stage (language-pack building, decoding, tracing) must see text cut the same way, or
n-gram statistics learnt from the corpus would not match what the engine looks up. So there is one
tokenizer, one sentence splitter and one normalisation for the language model (`lm_form`), here.

Offsets are Python ``str`` indices into the text given, so a report can point at what the user pasted.

`tokenize`, `sentence_tokens` and `lm_form` run in the compiled extension (``pack/ext/text_scan.hh``,
built by ``setup.py``; `unspin.native`), their only implementation (the screen and the language gate
use the same code); their rules are stated here.
"""

from __future__ import annotations

import operator
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


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Cut ``text[start:end]`` into tokens; offsets are into ``text``.

    The rule, as Python's ``re`` would say it (``\\w``, ``\\d`` and ``\\s`` in their Unicode sense),
    first alternative first:

    - a **number**: ``\\d+(?:[.,:]\\d+)+`` or ``\\d+``, not followed by a letter or digit. Numbers keep
      their internal separators ("1,000", "3.5", "10:30") so a changed figure is one token;
    - a **word**: ``[^\\W_]+(?:['’][^\\W_]+)*``, letters and digits with internal apostrophes ("don't",
      "O'Brien"); one made of decimal digits only ("1'2") is a number. A possessive or
      contracted ``'s`` after at least one more character is split off ("Turkey’s" → "Turkey", "’s")
      because that is how it behaves grammatically and how it is counted in the language pack;
    - **punct**: any other single character that is not whitespace (``_`` included). Hyphens are
      tokens of their own, so "Turkey-backed" shares statistics with "Turkey" and "backed".

    ``start`` and ``end`` are clamped to the text as ``re``'s ``finditer(text, start, end)`` clamps them.
    """
    if type(text) is not str:
        text = str(text)
    n = len(text)
    start = operator.index(start)
    lo = 0 if start < 0 else min(start, n)
    hi = n if end is None or (end := operator.index(end)) > n else max(end, 0)
    if lo > hi:
        return []
    return _scanner().tokenize(text, lo, hi)


# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen rep rev fr hon vs etc inc ltd co corp
    jan feb mar apr jun jul aug sep sept oct nov dec no nos fig al approx dept est""".split()
)
_CLOSERS = frozenset("\"'”’)]»")
_ENDERS = frozenset(".!?…")


def sentence_tokens(text: str) -> list[list[Token]]:
    """Tokens grouped by sentence.

    A sentence ends at ``.``/``!``/``?``/``…`` (plus more of them and closing quotes or brackets)
    followed by whitespace and a token that does not start in lower case, unless it is a full stop
    right after an abbreviation (`_ABBREVIATIONS`) or a single letter; and always at a line break:
    scraped pages put headlines, bylines and captions on lines of their own, without final
    punctuation. A fragment with no word in it (a stray quote after a full stop) belongs to the
    sentence before it on its line.
    """
    if type(text) is not str:
        text = str(text)
    return _scanner().sentence_tokens(text)


_SCANNER: list = []  # [the configured extension], resolved at the first call


def _scanner():
    """The compiled scanner, configured with this module's objects. Imported lazily (`unspin.native`):
    ``unspin.pack`` imports this module, and ``unspin repair`` must not load KenLM or numpy."""
    if not _SCANNER:
        from .native import module

        ext = module()
        ext.configure_tokens(Token, WORD, NUMBER, PUNCT, sorted(_ENDERS), sorted(_CLOSERS), _ABBREVIATIONS)
        _SCANNER.append(ext)
    return _SCANNER[0]


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` over ``text`` (see :func:`sentence_tokens`)."""
    return [(g[0].start, g[-1].end) for g in sentence_tokens(text)]


def lm_form(token_text: str) -> str:
    """The form a token takes in the language model: lower case (``str.lower``), the right single quote
    as a straight apostrophe, every decimal digit as 0 (compiled, as the screen computes it).

    Digits collapse so that "33 Turkish troops" and "34 Turkish troops" share their statistics.
    """
    return _scanner().lm_form(token_text)
