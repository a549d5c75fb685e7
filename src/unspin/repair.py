"""Repair: undo the damage that web extraction does to text, and log every edit.

Scraped and spun pages arrive with HTML entities left in or mangled ("& # 39", ",quot"), mojibake
("Itâ€™s"), leaked template tokens ("%MINIFYHTML…%"), and characters planted to fool text matchers
(zero-width spaces, Cyrillic look-alikes inside Latin words). Later stages need the words back.

Two promises shape this module:

* **Clean text comes out byte-identical.** Every rule matches only a shape that honest text does not
  contain ("quota" and "quotation" are not ",quot"; a lone "&" is not an entity), and ftfy runs with
  only its encoding fixes, never its quote-uncurling or normalisation.
* **Every edit is logged against the input**: ``input[start:end] == before``. Edits that only show
  up once an earlier edit is applied (``&amp;%%X%%#39;``) are found by repeating the pass and composing
  the logs, so the result is idempotent and the log still indexes the original string.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Callable
from difflib import SequenceMatcher
from typing import NamedTuple

import ftfy
from ftfy.badness import BADNESS_RE, is_bad

from .report import ENTITY, HOMOGLYPH, INVISIBLE, MOJIBAKE, TEMPLATE, Repair, Report
from .textio import require_text

__all__ = ["repair", "repair_text"]


class _Edit(NamedTuple):
    start: int
    end: int
    after: str
    kind: str


# ftfy with only its encoding repairs: its other fixes (uncurling quotes, NFC, ligatures, widths,
# line breaks) would change clean text, which repair must never do.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)

# --- leaked template tokens -------------------------------------------------------------------------
# Removed with one neighbouring space so no double space is left behind.
_TEMPLATE_RE = re.compile(
    r"%MINIFYHTML[0-9a-fA-F]*%"  # WordPress minifier placeholders
    r"|%%[A-Za-z][A-Za-z0-9_]*%%"  # %%NAME%% mail-merge / CMS placeholders
    r"|\{\{[^{}\n]{0,200}\}\}"  # {{ handlebars / jinja }}
    r"|\{%[^{}\n]{0,200}%\}"  # {% jinja tags %}
    r"|\[\[[^\[\]\n]{0,200}\]\]"  # [[ shortcodes ]]
)

# --- HTML entities, well-formed and mangled ---------------------------------------------------------
# Numeric references as scrapers leave them: "&#39;", "&#39", "& #39;", "& # 39", "&amp;#39;".
# The spaced forms only for punctuation code points: "Q& #1 seed" must stay as written.
_SPACED_OK = frozenset({34, 38, 39, 160, 8211, 8212, 8216, 8217, 8220, 8221, 8230})
_NUMERIC_RE = re.compile(r"&(?:amp;)*(?P<sp1> ?)# ?(?P<num>[0-9]{1,7}|[xX][0-9a-fA-F]{1,6})(?P<semi> ?;)?")
_NAMED_RE = re.compile(r"&(?:amp;)*(?P<name>[A-Za-z][A-Za-z0-9]{1,31});")
# The few named entities common enough to be recognised without their semicolon.
_BARE_NAMES = "quot|amp|apos|nbsp|lt|gt|rsquo|lsquo|rdquo|ldquo|ndash|mdash|hellip"
_BARE_NAMED_RE = re.compile(rf"&(?:amp;)*(?P<name>{_BARE_NAMES})(?![A-Za-z0-9;])")
# "&quot;" after the "&" was turned into a comma (",quot") or dropped ("quot;").
_QUOT_FRAGMENT_RE = re.compile(r"(?<=[^\s,&]),quot;?(?![A-Za-z])|(?<![A-Za-z&,])quot;")

_APOSTROPHE_LIKE = "'’‘"
_CONTRACTION_TAIL_RE = re.compile(r"(?:s|t|re|ll|ve|d|m)(?![^\W_])", re.IGNORECASE)

# --- invisible characters ----------------------------------------------------------------------------
# Always noise in prose: zero-width space, word joiner, BOM inside text, soft hyphen.
_INVISIBLE_RE = re.compile(r"[\u200b\u2060\ufeff\u00ad\u180e]+")
# Joiners are meaningful in some scripts and emoji, so only between Latin letters.
_JOINER_RE = re.compile(r"(?<=[A-Za-z])[\u200c\u200d\u200e\u200f]+(?=[A-Za-z])")
_JOINER_CHARS_RE = re.compile(r"[\u200c\u200d\u200e\u200f]")

# --- look-alike letters ------------------------------------------------------------------------------
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D", "Ԍ": "G", "Һ": "H", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "ο": "o", "ν": "v", "ι": "i", "α": "a", "κ": "k", "ρ": "p", "τ": "t", "υ": "u",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip
_CONFUSABLE_CLASS = "".join(sorted(_CONFUSABLES))
_LATIN_RE = re.compile(r"[A-Za-z]")
_CONFUSABLE_RUN_RE = re.compile(rf"[{_CONFUSABLE_CLASS}]+")
_FOREIGN_LETTER_RE = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")  # letters of other scripts


# Each finder first asks whether its damage can be present at all (the characters every match needs:
# a substring test, or ``str.isascii``, which is O(1)), so clean text costs a few scans at C speed.
# The answers are the same with the pre-checks off (tests/test_repair.py compares both).
_PRECHECKS = True


def _template_edits(text: str, curly: bool) -> list[_Edit]:
    if _PRECHECKS and "%" not in text and "{" not in text and "[[" not in text:  # what every token starts with
        return []
    out = []
    for m in _TEMPLATE_RE.finditer(text):
        start, end = m.span()
        # Take one neighbouring space with the token, so no double space is left behind: the one
        # before it, unless the token starts a line.
        line_start = start == 0 or text[start - 1] == "\n"
        if not line_start and text[start - 1] in " \t":
            start -= 1
        elif end < len(text) and text[end] in " \t":
            end += 1
        out.append(_Edit(start, end, "", TEMPLATE))
    return out


def _decode_codepoint(ref: str) -> str | None:
    try:
        cp = int(ref[1:], 16) if ref[0] in "xX" else int(ref)
    except ValueError:
        return None
    if cp == 160:
        return " "
    if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or (cp < 32 and cp not in (9, 10)) or 0x7F <= cp < 0xA0:
        return None
    return chr(cp)


def _decode_named(name: str) -> str | None:
    decoded = html.unescape(f"&{name};")
    if decoded == f"&{name};":
        return None
    return " " if decoded == "\xa0" else decoded


def _entity_edits(text: str, curly: bool) -> list[_Edit]:
    out: list[_Edit] = []
    amp = not _PRECHECKS or "&" in text  # every reference starts with "&"
    quot = not _PRECHECKS or "quot" in text  # and every fragment holds "quot"
    if not amp and not quot:
        return out
    for m in _NUMERIC_RE.finditer(text) if amp else ():
        spaced = m.group("sp1") == " " or (m.group("num") and text[m.start("num") - 1] == " ")
        semi = m.group("semi")
        spaced = spaced or (semi is not None and semi.startswith(" "))
        decoded = _decode_codepoint(m.group("num"))
        if decoded is None:
            continue
        if spaced and ord(decoded) not in _SPACED_OK and decoded != " ":
            continue
        if semi is not None and semi.startswith(" ") and not spaced:
            continue
        start, end = m.start(), m.end()
        if semi is not None and semi.startswith(" ") and m.group("sp1") != " " and text[m.start("num") - 1] != " ":
            end = m.end() - len(semi)  # "&#39 ;" is too odd to claim the semicolon
        out.append(_Edit(start, end, decoded, ENTITY))
    for regex in (_NAMED_RE, _BARE_NAMED_RE) if amp else ():
        for m in regex.finditer(text):
            decoded = _decode_named(m.group("name"))
            if decoded is not None:
                out.append(_Edit(m.start(), m.end(), decoded, ENTITY))
    closing = "”" if curly else '"'
    for m in _QUOT_FRAGMENT_RE.finditer(text) if quot else ():
        out.append(_Edit(m.start(), m.end(), closing, ENTITY))
    return _attach_spaced_quotes(text, out)


def _attach_spaced_quotes(text: str, edits: list[_Edit]) -> list[_Edit]:
    """Give a spaced-out apostrophe ("Turkey & # 39 hits") back to the word it belonged to.

    Scrapers that turn ``&#39;`` into ``& # 39`` also pad it with spaces. Within a line such quotes
    alternate opening (attach to the next word) and closing (attach to the previous one); before
    "s"/"t"/"ll" it is a contraction and joins both sides.
    """
    out: list[_Edit] = []
    parity: dict[int, int] = {}
    for e in sorted(edits):
        taken = out[-1].end if out else 0  # a space already given to the previous quote
        if e.after not in _APOSTROPHE_LIKE or " " not in text[e.start : e.end]:
            out.append(e)  # only the spaced-out forms lost their attachment
            continue
        before_space = e.start > taken and text[e.start - 1] == " "
        after_space = e.end < len(text) and text[e.end] == " "
        if not (before_space or after_space):
            out.append(e)
            continue
        line = text.rfind("\n", 0, e.start)
        nxt = e.end + 1 if after_space else e.end
        at_line_end = nxt >= len(text) or text[nxt] in "\n.,;:!?"
        if before_space and _CONTRACTION_TAIL_RE.match(text, nxt) and e.start > 1 and text[e.start - 2].isalpha():
            out.append(_Edit(e.start - 1, e.end + (1 if after_space else 0), e.after, e.kind))
            continue
        opening = parity.get(line, 0) % 2 == 0 and not at_line_end
        parity[line] = parity.get(line, 0) + 1
        if opening and after_space:
            out.append(_Edit(e.start, e.end + 1, e.after, e.kind))
        elif not opening and before_space:
            out.append(_Edit(e.start - 1, e.end, e.after, e.kind))
        else:
            out.append(e)
    return out


def _invisible_edits(text: str, curly: bool) -> list[_Edit]:
    if _PRECHECKS and text.isascii():  # every character matched here is non-ASCII
        return []
    out = [_Edit(m.start(), m.end(), "", INVISIBLE) for m in _INVISIBLE_RE.finditer(text)]
    # The joiner pattern starts with a look-behind, which is tried at every position: first a cheap
    # scan for the joiners themselves.
    if not _PRECHECKS or _JOINER_CHARS_RE.search(text):
        out += [_Edit(m.start(), m.end(), "", INVISIBLE) for m in _JOINER_RE.finditer(text)]
    return out


def _homoglyph_edits(text: str, curly: bool) -> list[_Edit]:
    # Look-alikes are rare in English, so find them first and only then look at the word around them.
    out: list[_Edit] = []
    if _PRECHECKS and text.isascii():
        return out
    done_until = -1
    for run in _CONFUSABLE_RUN_RE.finditer(text):
        if run.start() < done_until:
            continue
        start = run.start()
        while start > 0 and (text[start - 1].isalpha()):
            start -= 1
        end = run.end()
        while end < len(text) and text[end].isalpha():
            end += 1
        done_until = end
        word = text[start:end]
        # Only a word mixing Latin letters with look-alikes, and no other foreign letter: genuine Greek
        # or Russian words have no Latin letter, and "Ελληνικά-style" words have non-look-alikes.
        if not _LATIN_RE.search(word) or any(ch not in _CONFUSABLES for ch in _FOREIGN_LETTER_RE.findall(word)):
            continue
        # A word in capitals with its look-alikes only at an edge is a name styled so ("SENSЕ" with a
        # Ukrainian Е, one of ftfy's negatives), not letters planted inside a word to fool a matcher.
        if word.isupper() and all(r.start() == 0 or r.end() == len(word) for r in _CONFUSABLE_RUN_RE.finditer(word)):
            continue
        for r in _CONFUSABLE_RUN_RE.finditer(word):
            fixed = "".join(_CONFUSABLES[ch] for ch in r.group())
            out.append(_Edit(start + r.start(), start + r.end(), fixed, HOMOGLYPH))
    return out


def _mojibake_edits(text: str, curly: bool) -> list[_Edit]:
    if (text.isascii() or not _looks_bad(text)) if _PRECHECKS else not is_bad(text):
        return []
    out = []
    pos = 0
    for line in text.split("\n"):
        if is_bad(line):
            fixed = ftfy.fix_text(line, _FTFY)
            if fixed != line:
                out += [_Edit(pos + i1, pos + i2, after, MOJIBAKE) for i1, i2, after in _diff(line, fixed)]
        pos += len(line) + 1
    return out


_DIFF_TOKEN = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]")


def _diff(a: str, b: str) -> list[tuple[int, int, str]]:
    """The changes turning ``a`` into ``b``: (start, end, replacement) in ``a``.

    Diffed over tokens (runs of ASCII letters and digits, every other character alone), not
    characters: mojibake repair changes only non-ASCII stretches, and a character-level
    ``SequenceMatcher`` takes time quadratic in a repeated character's count (one 10,000-character
    line took 20 s). The common head and tail are cut off first, at C speed.
    """
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    while head > 0 and a[head - 1].isalnum() and a[head - 1].isascii():  # back to a token boundary
        head -= 1
    tail = 0
    while tail < limit - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    while tail > 0 and a[len(a) - tail].isalnum() and a[len(a) - tail].isascii():
        tail -= 1
    stop_a, stop_b = len(a) - tail, len(b) - tail
    ta = [m.span() for m in _DIFF_TOKEN.finditer(a, head, stop_a)]  # spans are offsets in `a`
    tb = [m.span() for m in _DIFF_TOKEN.finditer(b, head, stop_b)]
    wa, wb = [a[x:y] for x, y in ta], [b[x:y] for x, y in tb]
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        start = ta[i1][0] if i1 < len(ta) else stop_a
        end = ta[i2 - 1][1] if i2 > i1 else start
        after = b[tb[j1][0] : tb[j2 - 1][1]] if j2 > j1 else ""
        out.append((start, end, after))
    return out


def _badness_probe() -> tuple[re.Pattern, int] | None:
    """What lets `_looks_bad` search only near suspicious characters: a character class that every
    match of ftfy's ``BADNESS_RE`` must contain a character of, and the longest match.

    Derived from the pattern itself (so it follows ftfy): each alternative of the pattern contributes
    its narrowest mandatory class of non-ASCII characters. None (search the whole text, as ftfy does)
    when the pattern has a shape this reasoning does not cover: an alternative without such a class,
    a look-around, an anchor other than the string start, or an unbounded width.
    """
    try:
        import re._parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        return None
    c = sre_parse
    try:
        parsed = sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags)
        width = parsed.getwidth()[1]
    except Exception:  # any surprise from a private module means: no shortcut
        return None
    if BADNESS_RE.flags & (re.IGNORECASE | re.MULTILINE) or width >= c.MAXREPEAT or width > 64:
        return None
    if len(parsed.data) != 1 or parsed.data[0][0] is not c.BRANCH:
        return None

    def chars(op, av) -> set[int] | None:  # the characters an item must consume one of, if all non-ASCII
        if op is c.LITERAL:
            return {av} if av > 127 else None
        if op is c.IN:
            out: set[int] = set()
            for o, a in av:
                if o is c.LITERAL:
                    out.add(a)
                elif o is c.RANGE:
                    out.update(range(a[0], a[1] + 1))
                else:
                    return None  # negation or a category
            return out if out and min(out) > 127 else None
        return None

    allowed = {c.LITERAL, c.IN, c.ANY, c.MAX_REPEAT, c.MIN_REPEAT, c.AT, c.SUBPATTERN, c.BRANCH}

    def plain(items) -> bool:  # no look-around, back-reference or anchor but the string start
        for op, av in items:
            if op not in allowed or (op is c.AT and av is not c.AT_BEGINNING_STRING and av is not c.AT_BEGINNING):
                return False
            if op in (c.MAX_REPEAT, c.MIN_REPEAT) and not plain(av[2]):
                return False
            if op is c.SUBPATTERN and not plain(av[-1]):
                return False
            if op is c.BRANCH and not all(plain(b) for b in av[1]):
                return False
        return True

    need: set[int] = set()
    for branch in parsed.data[0][1][1]:
        if not plain(branch):
            return None
        options = [s for s in (chars(op, av) for op, av in branch) if s]
        if not options:
            return None
        need |= min(options, key=len)
    cls = "".join(re.escape(chr(ch)) for ch in sorted(need))
    return re.compile(f"[{cls}]"), width


_PROBE: list = []  # [probe or None], computed at the first non-ASCII text


def _looks_bad(text: str) -> bool:
    """``ftfy.badness.is_bad(text)``, searching only the stretches around characters a match needs.

    A match holds one of the probe's characters and is at most ``width`` long, so it lies within
    ``width - 1`` characters of one; the pattern has no look-around or end anchor, so a match found in
    such a stretch is a match in the whole text, and none is missed.
    """
    if not _PROBE:
        _PROBE.append(_badness_probe())
    probe = _PROBE[0]
    if probe is None:
        return is_bad(text)
    need, width = probe
    lo = hi = -1
    search = BADNESS_RE.search
    for m in need.finditer(text):
        p = m.start()
        if p - (width - 1) > hi:  # a new stretch: search the one before it
            if hi >= 0 and search(text, lo, hi):
                return True
            lo = max(0, p - (width - 1))
        hi = p + width
    return hi >= 0 and search(text, lo, hi) is not None


# Earlier finders win where edits overlap; the next pass sees what was left. Mojibake comes before
# the character-level finders: UTF-8 read as Latin-1 turns "í" into "Ã\xad", whose soft hyphen the
# invisible-character rule would otherwise delete first, leaving "antÃgeno" unrepairable (ftfy's
# in-the-wild cases: Czech, Slovak, Portuguese, Chinese and Korean broke that way).
_FINDERS: tuple[Callable[[str, bool], list[_Edit]], ...] = (
    _template_edits,
    _mojibake_edits,
    _entity_edits,
    _invisible_edits,
    _homoglyph_edits,
)


def _find_edits(text: str, curly: bool | None = None) -> list[_Edit]:
    if curly is None:
        curly = "“" in text or "”" in text
    chosen: list[_Edit] = []  # sorted by start, disjoint
    starts: list[int] = []
    for finder in _FINDERS:
        for e in finder(text, curly):
            if e.start == e.end and not e.after:
                continue
            k = bisect_right(starts, e.start)
            if k > 0 and chosen[k - 1].end > e.start:
                continue  # overlaps the edit before it
            if k < len(chosen) and chosen[k].start < max(e.end, e.start + 1):
                continue  # overlaps the edit after it
            chosen.insert(k, e)
            starts.insert(k, e.start)
    return chosen


def _apply(text: str, edits: list[_Edit]) -> str:
    parts = []
    pos = 0
    for e in edits:
        parts.append(text[pos : e.start])
        parts.append(e.after)
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)


def _compose(base: list[_Edit], mid: str, later: list[_Edit]) -> list[_Edit]:
    """Express ``later`` (edits on ``mid``, the result of ``base``) as edits on the original.

    A later edit that touches the output of a base edit is merged with it into one edit, so the log
    never claims a before-text that was not in the input.
    """
    # Pieces of `mid`: (mid_start, mid_end, orig_start, orig_end, base index or -1).
    pieces = []
    o = m = 0
    for i, e in enumerate(base):
        if e.start > o:
            pieces.append((m, m + e.start - o, o, e.start, -1))
            m += e.start - o
        pieces.append((m, m + len(e.after), e.start, e.end, i))
        m += len(e.after)
        o = e.end
    pieces.append((m, len(mid), o, o + len(mid) - m, -1))
    starts = [p[0] for p in pieces]

    def to_orig(pos: int, side: str) -> tuple[int, int]:
        """Original position and the mid position it was widened to (edits are atomic)."""
        k = max(0, bisect_right(starts, pos) - 1)
        if side == "end" and k > 0 and pieces[k][0] == pos:
            k -= 1
        ms, me, os_, oe, idx = pieces[k]
        if idx >= 0:
            return (os_, ms) if side == "start" else (oe, me)
        return os_ + (pos - ms), pos

    groups: list[list] = []  # [mid_lo, mid_hi, orig_lo, orig_hi, [later edits], kind]
    for e in later:
        olo, mlo = to_orig(e.start, "start")
        ohi, mhi = to_orig(e.end, "end")
        if mhi < mlo:
            mhi, ohi = mlo, olo
        if groups and mlo < groups[-1][1]:
            g = groups[-1]
            g[1], g[3] = max(g[1], mhi), max(g[3], ohi)
            g[4].append(e)
        else:
            groups.append([mlo, mhi, olo, ohi, [e], e.kind])
    merged: list[_Edit] = []
    used: set[int] = set()
    for mlo, mhi, olo, ohi, edits, kind in groups:
        for b_i, b in enumerate(base):
            if olo <= b.start and b.end <= ohi and (b.start < ohi or b.start == olo):
                used.add(b_i)
                kind = b.kind
        local = [_Edit(x.start - mlo, x.end - mlo, x.after, x.kind) for x in edits]
        merged.append(_Edit(olo, ohi, _apply(mid[mlo:mhi], local), kind))
    return sorted([b for i, b in enumerate(base) if i not in used] + merged)


_RESCAN_RE = re.compile(r"[&#;%{}\[\],qQ\u200b-\u200f\u00ad]")


def _rescan(text: str, edits: list[_Edit], curly: bool) -> list[_Edit]:
    """Edits on ``text`` (the result of ``edits``) near where those edits landed.

    New damage can only appear where an edit joined or produced characters, and no pattern spans a
    line break, so only the lines holding an edit's output are scanned again.
    """
    found: list[_Edit] = []
    last_line_end = -1
    shift = 0
    for e in edits:
        pos = e.start + shift  # where this edit's output starts in `text`
        shift += len(e.after) - (e.end - e.start)
        if pos <= last_line_end:
            continue
        lo = text.rfind("\n", 0, pos) + 1
        hi = text.find("\n", pos + len(e.after))
        hi = len(text) if hi < 0 else hi
        found += [x._replace(start=x.start + lo, end=x.end + lo) for x in _find_edits(text[lo:hi], curly)]
        last_line_end = hi
    return found


def repair_text(text: str, max_passes: int = 4) -> tuple[str, list[Repair]]:
    """Repaired text and the edit log (offsets into ``text``)."""
    curly = "“" in text or "”" in text
    edits = _find_edits(text, curly)
    if not edits:
        return text, []
    current = _apply(text, edits)
    # Another pass only when an edit could have made new damage: a removal joins its neighbours,
    # and a decoded character could complete another pattern.
    # An entity decoded to a non-ASCII character may complete mojibake ("10Î&frac14;s" → "10Î¼s" → "10μs").
    if all(e.after and not _RESCAN_RE.search(e.after) and (e.kind != ENTITY or e.after.isascii()) for e in edits):
        return current, _log(text, edits)
    latest = edits
    for _ in range(max_passes - 1):
        later = _rescan(current, latest, curly)
        if not later:
            break
        edits = _compose(edits, current, later)
        current = _apply(current, later)
        latest = later
    return current, _log(text, edits)


def _log(text: str, edits: list[_Edit]) -> list[Repair]:
    return [
        Repair(e.start, e.end, text[e.start : e.end], e.after, e.kind)
        for e in edits
        if text[e.start : e.end] != e.after
    ]


def repair(text: str) -> Report:
    """The repair stage as a report: ``repaired`` and ``repairs`` filled."""
    require_text(text, unicode=False)  # None or bytes: a clear TypeError here, not one from deep inside
    repaired, repairs = repair_text(text)
    return Report(repaired=repaired, repairs=repairs)


def input_span(repairs: list[Repair], start: int, end: int) -> tuple[int, int]:
    """Map ``[start, end)`` in the repaired text to the input text the user gave.

    Outside repairs the two texts differ by a running shift; a position inside a repair's output is
    widened to that whole repair's input, so the span's text is always a real slice of the input.
    """

    def convert(pos: int, is_end: bool) -> int:
        shift = 0
        for r in repairs:
            out_start = r.start + shift
            out_end = out_start + len(r.after)
            if (pos <= out_start) if is_end else (pos < out_start):
                break
            inside = out_start < pos <= out_end if is_end else out_start <= pos < out_end
            if inside:
                return r.end if is_end else r.start
            shift += len(r.after) - (r.end - r.start)
        return pos - shift

    return convert(start, False), convert(end, True)
