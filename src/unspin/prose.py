"""Is this source code? A cheap, line-based detector, so code is judged ``not-prose``, never ``spun``.

The language gate (``decode.detect.gate``) tells prose from tables and number lists by the share of
tokens that are words. Source code with many comments or docstrings passes that test (``textio.py``
scored 0.99 "spun", ``stdio.h`` 0.95), and a language model of English prose finds code very unlikely,
which the detector reads as substitutions. Code, though, has lines no prose has: statements ending in
``;`` or an opening brace, ``def f(`` and ``#include``, assignments, ``snake_case`` names and calls,
and block-comment gutters. A text is code when enough of its lines look like that.

Measured by ``bench/prose.py``: every Python file of this repository and every header of
/usr/include is marked, and none of the 2,000 held-out Wikipedia articles or the clean news texts.
"""

from __future__ import annotations

import re

__all__ = ["code_share", "looks_like_code"]

# A line is code-like when it matches one of these (after stripping its indentation).
_CODE_LINE = re.compile(
    r"""
      \{\s*(?://.*|/\*.*)?$                        # a block opener ends the line
    | (?:[)\]]|\+\+|--|^(?:return|break|continue|goto)\b.*|^[\w*]+(?:\s+[\w*]+){1,3})\s*;\s*(?://.*|/\*.*)?$
                                                   # a statement: "f(x);", "int x;", "i++;" (not a list's "pears;")
    | ^[})\]]+[;,)]*\s*(?:else\b.*|//.*)?$         # only closing brackets
    | ^(?:def|class|async\s+def)\s+\w+\s*[(:]      # Python definitions
    | ^(?:import\s+[\w.]+|from\s+[\w.]+\s+import\b) # imports
    | ^(?:return|raise|yield|elif|except|try:|finally:|else:|pass$|continue$|break$)
    | ^@\w[\w.]*(?:\(|$)                           # decorators
    | ^\#\s*(?:include|define|undef|ifn?def|if|elif|else|endif|pragma)\b  # the C preprocessor
    | ^(?:typedef|struct|enum|union|extern|static|const|unsigned|void|int|char)\b.*[;({,]\s*$
    | ^(?:if|for|while|with|switch)\b.*[:{(]\s*$   # control statements
    | ^[A-Za-z_][\w.\[\]'"]*\s*(?::\s*[\w\[\], |.]+)?\s*(?:[-+*/|&%]?=|:=)\s*(?:\S+$|.*[()\[\]{}"'.+*/])
                                                   # assignments "x = f(y)", "x: T = 3" (not "sugar = to taste")
    | ^(?:/\*|\*/|\*\s|\*$|\*\*|//|\#\s|\#$|\#!)    # comment gutters: /*, ' * ', **, //, # comments
    | ^[A-Za-z_]\w*\s*(?:=\s*[^,]+)?,$              # an enum member: "ABDAY_2," "RED = 1,"
    | ^(?:\"\"\"|''')                              # docstring quotes
    """,
    re.VERBOSE,
)
# Tokens no prose uses: snake_case names, calls without a space, member access, code operators.
_CODE_TOKEN = re.compile(
    r"\b[a-z]+_[a-z0-9_]+\b|\b_*[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\b\w+\.\w+\(|\w\(\)|==|!=|->|=>|\+=|&&|\|\||::"
)
# Comments and docstrings are prose inside code: their lines count as code when they are delimited so.
_BLOCKS = (("/*", "*/"), ('"""', '"""'), ("'''", "'''"))

# Every code-like line has one of these characters (each pattern of _CODE_LINE and _CODE_TOKEN needs
# one), starts with one of these words, ends with a comma (an enum member) or holds a docstring's
# quotes: a line with none of them is prose, and is passed over without running the patterns.
_CODE_CHARS = frozenset("{};)]([=:@#*/_&|>")
_CODE_STARTS = (
    "return", "break", "continue", "goto", "def", "class", "async", "import", "from", "raise", "yield",
    "elif", "except", "try", "finally", "else", "pass", "typedef", "struct", "enum", "union", "extern",
    "static", "const", "unsigned", "void", "int", "char", "if", "for", "while", "with", "switch",
)  # fmt: skip

MIN_LINES = 4  # fewer lines than this: too little to tell
CODE_SHARE = 0.4  # share of (non-blank) lines that look like code, from which a text is code
PROSE_LINE = 400  # a longer line (outside a comment) is a paragraph, never counted as code


def _may_be_code(line: str) -> bool:
    """False only for a (stripped) line no pattern can match and that opens no comment or docstring."""
    return (not _CODE_CHARS.isdisjoint(line) or line.startswith(_CODE_STARTS) or line.endswith(",")
            or '"""' in line or "'''" in line)  # fmt: skip


def code_share(text: str, max_lines: int = 2000) -> float:
    """The share of the first ``max_lines`` non-blank lines of ``text`` that look like code."""
    lines = [line.strip() for line in text.splitlines()[: max_lines * 2] if line.strip()][:max_lines]
    if len(lines) < MIN_LINES:
        return 0.0
    code = 0
    closing = None  # the end of the comment or docstring the line is in
    for line in lines:
        if closing is not None:
            code += 1
            if closing in line:
                closing = None
            continue
        if len(line) > PROSE_LINE:
            continue  # a paragraph: code lines are short, and the regexes cost most on long lines
        if not _may_be_code(line):
            continue  # prose: no pattern below can match it, nor does it open a block
        if _CODE_LINE.search(line) or len(_CODE_TOKEN.findall(line)) >= 2:
            code += 1
        for opening, end in _BLOCKS:
            at = line.find(opening)
            if at >= 0 and line.find(end, at + len(opening)) < 0:
                closing = end
                code += not (_CODE_LINE.search(line) or len(_CODE_TOKEN.findall(line)) >= 2)
                break
    return code / len(lines)


def looks_like_code(text: str) -> bool:
    """True when ``text`` is source code (see the module docstring); prose never is."""
    return code_share(text) >= CODE_SHARE
