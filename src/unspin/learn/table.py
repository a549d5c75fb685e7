"""The learned spinner table: what real spinners swapped, counted from aligned (spun page, source) pairs.

Real spinners are largely deterministic tables over frequent words ("announced" → "introduced",
"film" → "movie", "said" → "stated", "year" → "12 months"): a thesaurus lists thousands of pairs a
spinner never uses and misses some it does. The table holds, per observed (spun) term, the originals it
was swapped from with counts, and per word how often a spinner output it against how often a spinner
left it in place. Only counts are stored (no text), derived by this code from the pairs.

``unspin pack add-spinner-table PAIRS.jsonl...`` writes it into a pack as ``spinner-table.json``;
`unspin.decode.learned` reads it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..decode.channel import FUNCTION_WORDS, is_variant
from .pairs import align_pair, site

FILE_NAME = "spinner-table.json"
FORMAT = 1
#: Words kept in place fewer times than this across the pairs carry no evidence worth storing.
MIN_KEPT = 2


def _usable(spun: tuple[str, ...], original: tuple[str, ...]) -> bool:
    """A swap worth learning: words on both sides, not a spelling variant, not function words only."""
    if spun == original or not spun or not original:
        return False
    if not all(w.replace("'", "").replace("-", "").isalpha() for w in spun + original):
        return False
    if all(w in FUNCTION_WORDS for w in spun):
        return False
    return not is_variant(spun, original)


@dataclass
class SpinnerTable:
    """``pairs[observed][original]``: how often a spinner turned ``original`` into ``observed`` (both
    space-joined lower-case words); ``output[w]`` / ``kept[w]``: how often single word ``w`` was a
    spinner's output / was left in place."""

    pairs: dict[str, dict[str, int]] = field(default_factory=dict)
    output: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)

    @property
    def swaps(self) -> int:
        return sum(sum(v.values()) for v in self.pairs.values())

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "what": "counts of real spinners' word and phrase swaps (observed form -> original form), and of "
            "words a spinner output or left in place, from aligned (spun page, source) pairs",
            "sources": self.sources,
            "pairs": {k: dict(sorted(v.items())) for k, v in sorted(self.pairs.items())},
            "output": dict(sorted(self.output.items())),
            "kept": dict(sorted(self.kept.items())),
        }

    @classmethod
    def from_json(cls, raw: dict) -> SpinnerTable:
        if raw.get("format") != FORMAT:
            raise ValueError(f"unsupported spinner-table format {raw.get('format')!r} (this unspin reads {FORMAT})")
        return cls(raw["pairs"], raw["output"], raw["kept"], raw.get("sources", []))

    @classmethod
    def read(cls, path: Path) -> SpinnerTable:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def write(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def _linked(pack, spun: str, original: str) -> bool:
    """Does the pack's thesaurus list ``original`` among the terms a spinner could turn into ``spun``?"""
    return any(term == original for term, _pos, _flags in pack.thesaurus.sources_with_flags(spun))


def learn(records: Iterable[dict], exclude_sites: frozenset[str] = frozenset(), pack=None) -> SpinnerTable:
    """Count the swaps of every spinner-style pair (``{spun_text, source_text, spun_url, style}``),
    leaving out the pages of ``exclude_sites`` (leave-one-site-out measurement).

    A block that swaps word for word also counts its word pairs; in one that does not ("Turkish
    troopers have been" ← "Turkish soldiers were"), with a ``pack``, the word pairs its thesaurus links
    are counted too, since the alignment cannot tell which word became which."""
    pairs: dict[str, Counter] = defaultdict(Counter)
    output: Counter = Counter()
    kept: Counter = Counter()
    used: Counter = Counter()
    for rec in records:
        if not rec.get("style", "spinner").startswith("spinner") or site(rec) in exclude_sites:
            continue
        aligned = align_pair(rec["spun_text"], rec["source_text"])
        used[site(rec)] += 1
        for sw in aligned.swaps:
            if not _usable(sw.spun, sw.original):
                continue
            pairs[" ".join(sw.spun)][" ".join(sw.original)] += 1
            if len(sw.spun) == len(sw.original) > 1:
                # "examined constructive" <- "tested positive": the word pairs are swaps as well.
                for s, o in zip(sw.spun, sw.original, strict=True):
                    if _usable((s,), (o,)):
                        pairs[s][o] += 1
            elif pack is not None and len(sw.spun) != len(sw.original):
                for s in sw.spun:
                    for o in sw.original:
                        if o not in sw.spun and _usable((s,), (o,)) and _linked(pack, s, o):
                            pairs[s][o] += 1
            for w in sw.spun:
                output[w] += 1
        for w in aligned.kept:
            if w.isalpha() and w not in FUNCTION_WORDS:
                kept[w] += 1
    keep_words = {w: c for w, c in kept.items() if c >= MIN_KEPT or w in output}
    return SpinnerTable(
        {k: dict(v) for k, v in pairs.items()},
        dict(output),
        keep_words,
        [{"site": s, "pages": n} for s, n in sorted(used.items())],
    )


LICENCE_HEADING = "## Spinner table (`spinner-table.json`): counts learnt by unspin from real spun pages"


def add_to_pack(pack_dir: Path, pair_files: list[Path], pack=None) -> dict:
    """Learn the table from ``pair_files`` (JSONL of pairs) and write it into the pack in place, with its
    provenance in the manifest and LICENSES.md (the pack's identity changes with it). ``pack``: the
    loaded pack, whose thesaurus links the words of unequal swaps (see `learn`)."""
    from ..pack.manifest import read_manifest, write_manifest

    manifest = read_manifest(pack_dir)
    records = []
    for path in pair_files:
        with open(path, encoding="utf-8") as fh:
            records.extend(json.loads(line) for line in fh if line.strip())
    table = learn(records, pack=pack)
    if not table.pairs:
        raise ValueError("no spinner-style pair in the inputs: nothing to learn")
    table.write(pack_dir / FILE_NAME)
    pages = sum(s["pages"] for s in table.sources)
    notice = (
        f"{LICENCE_HEADING}\n\n"
        f"How often real article spinners swapped each word or short phrase, counted by unspin's own code\n"
        f"(`unspin pack add-spinner-table`, `unspin.learn.table`) from {pages} spun web pages aligned with\n"
        f"their sources ({len(table.sources)} sites, listed in the manifest). Only counts of single words and\n"
        f"phrases of up to three words are stored; no text of the pages is included. The pages remain their\n"
        f"owners'; the counts are distributed with unspin under its own licence (Apache-2.0).\n"
    )
    licences = pack_dir / "LICENSES.md"
    text = licences.read_text(encoding="utf-8") if licences.is_file() else ""
    if LICENCE_HEADING in text:
        head, _, rest = text.partition(LICENCE_HEADING)
        tail = rest.split("\n## ", 1)
        text = head + notice + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + notice
    licences.write_text(text, encoding="utf-8")
    manifest = {k: v for k, v in manifest.items() if k not in ("files", "bytes")}
    manifest["spinner_table"] = {
        "file": FILE_NAME, "format": FORMAT, "observed_terms": len(table.pairs), "swaps": table.swaps,
        "pages": pages, "sites": table.sources,
    }  # fmt: skip
    return write_manifest(pack_dir, manifest)
