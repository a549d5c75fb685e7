"""Our evaluation spinner: synthetic spun copies with exact gold spans, for measuring, never shipped.

Real spun pages with their sources are few (see ../shared/dev/), so the engine, the detector's
calibration and the trace index are also measured on held-out Wikipedia articles spun here. Styles:

- ``common``   word swaps to one of the few commonest, closest synonyms the pack's thesaurus lists,
  the way commercial spinners' curated tables work ("said" → "stated", "soldiers" → "troops");
- ``synonym``  word swaps from the language pack's own thesaurus, in random senses (a cruder spinner
  that shares the engine's table);
- ``phrase``   as ``synonym`` but preferring multi-word replacements and phrase originals
  ("people" → "men and women", "face" → "facial area");
- ``unseen``   swaps from the MyThes thesaurus (Debian ``mythes-en-us``) restricted to pairs the
  pack's thesaurus does **not** link: a substitution table the engine never saw, so restoration has
  to come from the language model alone and detection from unnaturalness alone (it covers at most
  16 % of content words, so higher rates are not reached);
- ``heldout``  ``common`` swaps from one half of the pack's own pairs (a fixed hash of the pair),
  hidden from the engine's channel while it is measured (`hide_from_engine`): a table it never saw,
  at the rates the issue asks for.

Rates are the share of eligible words (lower-case content words with a replacement) swapped.
Every swap is recorded as a gold span over the spun text with its original, so no alignment guesswork
enters the metrics for synthetic data.
"""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lemminflect import getAllInflections, getAllLemmas, getInflection

from unspin.tokens import WORD, tokenize

REPO = Path(__file__).resolve().parents[1]
MYTHES_DIR = REPO / ".cache" / "spinner-sources"
STYLES = ("common", "synonym", "phrase", "unseen", "heldout")
RATES = (0.1, 0.25, 0.4, 0.6)

# Words a spinner leaves alone: function words carry no synonym worth swapping.
STOPWORDS = frozenset(
    """a an the and or but if of in on at to for from by with as is are was were be been being have has had do
    does did not no nor so than that this these those there their they them he she it its his her we our you your
    i me my who whom whose which what when where why how all any both each few more most other some such only own
    same too very can will just should would could may might must shall also into over under again further then
    once here out up down off about above below between through during before after until while because said says
    one two three four five six seven eight nine ten""".split()
)


@dataclass
class Spun:
    """A spun copy and its gold swaps: ``text[start:end]`` replaced ``original``."""

    text: str
    source: str
    swaps: list[tuple[int, int, str]] = field(default_factory=list)
    eligible: int = 0
    rate: float = 0.0  # share of content words actually swapped


# --- MyThes, for the held-out style -----------------------------------------------------------------


def _mythes_path() -> Path:
    path = MYTHES_DIR / "usr" / "share" / "mythes" / "th_en_US_v2.dat"
    if not path.exists():
        MYTHES_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["apt-get", "download", "mythes-en-us"], cwd=tmp, check=True, capture_output=True)
            deb = next(Path(tmp).glob("mythes-en-us_*.deb"))
            subprocess.run(["dpkg", "-x", str(deb), str(MYTHES_DIR)], check=True)
    return path


@lru_cache(maxsize=1)
def mythes() -> dict[str, list[str]]:
    """MyThes entries: lower-case term → synonyms as written (no "(generic term)"-style relations, no
    names: "Menachem Begin" is not a synonym of "begin")."""
    table: dict[str, list[str]] = {}
    with _mythes_path().open(encoding="utf-8") as fh:
        fh.readline()
        term = None
        for line in fh:
            line = line.rstrip("\n")
            if not line.startswith("("):
                term = line.split("|", 1)[0].lower()
                continue
            syns = [s for s in line.split("|")[1:] if "(" not in s and s.lower() != term]
            if term is not None:
                table.setdefault(term, []).extend(s for s in syns if re.fullmatch(r"[a-z][a-z' -]*", s))
    return table


def _tag_of(word: str) -> tuple[str, str] | None:
    """(lemma, Penn tag) of an inflected word, or None."""
    for upos, lemmas in getAllLemmas(word).items():
        for lemma in lemmas:
            for tag, forms in getAllInflections(lemma, upos=upos).items():
                if word in forms:
                    return lemma, tag
    return None


def _inflect(term: str, tag: str) -> str:
    """Inflect a (possibly multi-word) replacement like the word it replaces: head word only."""
    words = term.split()
    head = 0 if tag.startswith("VB") else len(words) - 1
    forms = getInflection(words[head], tag)
    if forms:
        words[head] = forms[0]
    return " ".join(words)


class UnseenTable:
    """MyThes swaps the language pack's thesaurus does not contain."""

    def __init__(self, pack) -> None:
        self.pack = pack
        self.table = mythes()

    def choices(self, word: str) -> list[str]:
        lt = _tag_of(word)
        if lt is None:
            return []
        lemma, tag = lt
        known = {t for t, _ in self.pack.thesaurus.synonyms(word)} | {t for t, _ in self.pack.thesaurus.sources(word)}
        out = []
        for syn in self.table.get(lemma, []):
            form = _inflect(syn, tag)
            if form == word or form in known or syn in known:
                continue
            # A real spinner writes real words: every word must be one the corpus uses.
            if all(self.pack.vocab.count(w) >= 20 for w in form.split()):
                out.append(form)
        return out


class PackTable:
    """The pack's own thesaurus, forward direction (what a spinner using that table would pick).

    ``common``: like commercial spinners, whose curated tables list a few frequent, close synonyms
    per word, pick only among the five commonest listed synonyms that are near the word in vector
    space. Without it, any listed synonym in any sense (a much cruder spinner).
    """

    def __init__(self, pack, prefer_phrases: bool = False, common: bool = False) -> None:
        self.pack = pack
        self.prefer_phrases = prefer_phrases
        self.common = common
        self._memo: dict[str, list[str]] = {}

    def choices(self, word: str) -> list[str]:
        found = self._memo.get(word)
        if found is None:
            found = self._memo[word] = self._choices(word)
        return found

    def _choices(self, word: str) -> list[str]:
        out = [t for t, _ in self.pack.thesaurus.synonyms(word) if t != word and re.fullmatch(r"[a-z][a-z' -]*", t)]
        if self.common:
            vocab, vectors = self.pack.vocab, self.pack.vectors
            close = [
                t for t in out if " " not in t and vocab.count(t) >= 1000 and (vectors.similarity(word, t) or 0) >= 0.5
            ]
            return sorted(close, key=lambda t: -vocab.count(t))[:5]
        if self.prefer_phrases:
            phrases = [t for t in out if " " in t]
            if phrases:
                return phrases
        return out


def _half(a: str, b: str) -> int:
    """Which half of the thesaurus the unordered pair (a, b) is in: a fixed hash, the same in every
    process (Python's str hash is salted)."""
    x, y = sorted((a.lower(), b.lower()))
    return zlib.crc32(f"{x}\t{y}".encode()) & 1


class HeldOutTable(PackTable):
    """``heldout``: the ``common`` style restricted to one half of the pack's own pairs (by a fixed
    hash), while `hide_from_engine` removes that half from what the engine's channel can see. A
    table the engine never saw, at any rate the pack's coverage allows (MyThes-only swaps, the
    ``unseen`` style, reach 16 % of content words at most)."""

    def __init__(self, pack) -> None:
        super().__init__(pack, common=True)

    def _choices(self, word: str) -> list[str]:
        out = [t for t, _ in self.pack.thesaurus.synonyms(word) if t != word and re.fullmatch(r"[a-z][a-z' -]*", t)]
        out = [t for t in out if _half(word, t) == 1]
        vocab, vectors = self.pack.vocab, self.pack.vectors
        close = [
            t for t in out if " " not in t and vocab.count(t) >= 1000 and (vectors.similarity(word, t) or 0) >= 0.5
        ]
        return sorted(close, key=lambda t: -vocab.count(t))[:5]


@contextmanager
def hide_from_engine(pack):
    """While inside: the engine's channel sees only the pairs of the other half (no precomputed
    channel table, a fresh memo), so ``heldout`` swaps must be found without their pairs."""
    from unspin.decode import channel
    from unspin.pack.memo import BoundedMemo

    th = pack.thesaurus
    original = th.sources_with_flags

    def visible(term: str) -> list[tuple[str, str, int]]:
        return [e for e in original(term) if _half(e[0], term) == 0]

    key = "channel.originals"  # channel.channel_memo's memo on the pack
    saved = pack.memo.get(key)
    th.sources_with_flags = visible
    pack.memo[key] = BoundedMemo(channel.MEMO_WORDS)
    try:
        yield
    finally:
        del th.sources_with_flags
        if saved is None:
            pack.memo.pop(key, None)
        else:
            pack.memo[key] = saved


def table_for(style: str, pack):
    if style == "synonym":
        return PackTable(pack)
    if style == "common":
        return PackTable(pack, common=True)
    if style == "phrase":
        return PackTable(pack, prefer_phrases=True)
    if style == "unseen":
        return UnseenTable(pack)
    if style == "heldout":
        return HeldOutTable(pack)
    raise ValueError(f"unknown style {style!r}")


def _content_word(tok) -> bool:
    return (
        tok.kind == WORD
        and tok.text.isalpha()
        and tok.text.islower()
        and len(tok.text) >= 3
        and (tok.text not in STOPWORDS)
    )


def spin(text: str, table, rate: float, rng: random.Random, pack=None, phrase_originals: bool = False) -> Spun:
    """Swap about ``rate`` of the content words of ``text`` (lower-case non-function words).

    Only words the table has a replacement for can be swapped, so each of those is swapped with
    probability ``rate * content / eligible`` (at most 1): a table that covers few words still spins
    at the stated rate where it can, and ``Spun.rate`` says what share was reached.
    """
    tokens = tokenize(text)
    options: list[tuple[int, int, list[str]]] = []  # (start char, end char, replacements)
    content = 0
    for i, tok in enumerate(tokens):
        if not _content_word(tok):
            continue
        content += 1
        # Phrase originals: a two-word term of the pack's thesaurus replaced as a whole.
        if phrase_originals and pack is not None and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if nxt.kind == WORD and nxt.start == tok.end + 1 and nxt.text.islower():
                two = f"{tok.text} {nxt.text}"
                opts = [t for t, _ in pack.thesaurus.synonyms(two) if t != two and re.fullmatch(r"[a-z][a-z' -]*", t)]
                if opts:
                    options.append((tok.start, nxt.end, opts))
        opts = table.choices(tok.text)
        if opts:
            options.append((tok.start, tok.end, opts))
    p_swap = min(1.0, rate * content / len(options)) if options else 0.0
    plan: list[tuple[int, int, str]] = []
    for start, end, opts in options:
        if plan and start < plan[-1][1]:
            continue  # overlaps a phrase already swapped
        if rng.random() < p_swap:
            plan.append((start, end, rng.choice(opts)))
    spun, swaps = _apply(text, plan)
    return Spun(spun, text, swaps, len(options), len(plan) / content if content else 0.0)


def _apply(text: str, plan: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` with each ``(start, end, replacement)`` of ``plan`` (in order, not overlapping) made, and
    the gold swaps: ``(start, end, original)`` over the spun text."""
    out: list[str] = []
    swaps: list[tuple[int, int, str]] = []
    pos = length = 0
    for start, end, repl in plan:
        chunk = text[pos:start]
        out.append(chunk)
        length += len(chunk)
        swaps.append((length, length + len(repl), text[start:end]))
        out.append(repl)
        length += len(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out), swaps


MIN_LEARNED = 3


def spin_learned(text: str, table, rate: float, rng: random.Random) -> Spun:
    """Spin like the real spinners a learned table (`unspin.learn.table.SpinnerTable`) was counted from:
    every word or phrase of ``text`` the table saw swapped is a site (function words too: "in" ->
    "within", "before" -> "earlier than"), the replacement drawn in proportion to how often real
    spinners made it, the same one wherever the term recurs in the document (a spinner's table is
    deterministic per run), each site swapped with the probability that reaches ``rate`` of the content
    words. The issue's "realistic training generator"; ``Spun.rate`` says what share was reached."""
    inverse: dict[str, dict[str, int]] = {}
    for observed, originals in table.pairs.items():
        for original, count in originals.items():
            # Pairs seen once or twice are as often the alignment's noise ("the" -> "many") as a rule.
            if count < MIN_LEARNED or not re.fullmatch(r"[a-z][a-z' ]*", original):
                continue
            if re.fullmatch(r"[a-z0-9][a-z0-9' ]*", observed):
                inverse.setdefault(original, {})[observed] = count
    tokens = [t for t in tokenize(text) if t.kind == WORD]
    content = sum(1 for t in tokens if _content_word(t))
    sites: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):
            run = tokens[i : i + n]
            if len(run) < n or any(b.start != a.end + 1 for a, b in itertools.pairwise(run)):
                continue
            key = " ".join(t.text.lower() for t in run)
            if key in inverse:
                sites.append((run[0].start, run[-1].end, key))
                i += n
                break
        else:
            i += 1
    p_swap = min(1.0, rate * content / len(sites)) if sites else 0.0
    chosen: dict[str, str] = {}
    plan: list[tuple[int, int, str]] = []
    for start, end, key in sites:
        if rng.random() >= p_swap:
            continue
        if key not in chosen:
            options = sorted(inverse[key].items())
            chosen[key] = rng.choices([o for o, _ in options], weights=[c for _, c in options])[0]
        repl = chosen[key]
        plan.append((start, end, repl[:1].upper() + repl[1:] if text[start].isupper() else repl))
    spun, swaps = _apply(text, plan)
    return Spun(spun, text, swaps, len(sites), len(swaps) / content if content else 0.0)


def main() -> None:
    """Show a few spun sentences: ``python bench/spinner.py STYLE RATE``."""
    from unspin.pack import LanguagePack

    style = sys.argv[1] if len(sys.argv) > 1 else "synonym"
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    pack = LanguagePack.load()
    text = (REPO / "examples" / "spun-news.txt").read_text(encoding="utf-8")
    s = spin(text, table_for(style, pack), rate, random.Random(1), pack, phrase_originals=style == "phrase")
    print(s.text)
    for a, b, orig in s.swaps:
        print(f"  {s.text[a:b]!r} <- {orig!r}")


if __name__ == "__main__":
    main()
