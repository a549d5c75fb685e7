"""Corpus inputs for the pack builder: Wikipedia shards or plain text files, as LM sentence lines.

A corpus argument is a folder of ``enwiki-*.jsonl.xz`` shards (the held-out tail is skipped, see
`corpus.training_articles`), a ``.jsonl``/``.jsonl.xz`` file of ``{text}`` objects, or a plain text
file (paragraphs separated by line breaks). Each unit of work is one file, so two worker processes
can tokenize two shards at once; each writes its sentences (one per line, lm_form tokens joined by
spaces, what lmplz reads) and returns its cased word counts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .corpus import corpus_shards, lm_sentences, read_articles, training_articles

__all__ = ["CorpusUnit", "ShardResult", "corpus_units", "tokenize_unit"]


@dataclass(frozen=True)
class CorpusUnit:
    """One file of the corpus, and whether it is a Wikipedia shard under the held-out rule."""

    path: Path
    kind: str  # "enwiki" | "jsonl" | "text"
    corpus_root: Path | None = None


@dataclass
class ShardResult:
    """What tokenizing one unit produced."""

    unit: CorpusUnit
    out: Path
    documents: int
    sentences: int
    tokens: int
    words: int
    seconds: float
    cased: Counter


def corpus_units(paths: list[Path]) -> list[CorpusUnit]:
    """Expand corpus arguments into units of work, largest first (balances two workers)."""
    units: list[CorpusUnit] = []
    for p in paths:
        if p.is_dir():
            units += [CorpusUnit(s, "enwiki", p) for s in corpus_shards(p)]
        elif p.name.endswith((".jsonl", ".jsonl.xz")):
            units.append(CorpusUnit(p, "jsonl"))
        elif p.is_file():
            units.append(CorpusUnit(p, "text"))
        else:
            raise FileNotFoundError(f"corpus not found: {p}")
    return sorted(units, key=lambda u: -u.path.stat().st_size)


def _documents(unit: CorpusUnit) -> Iterator[str]:
    if unit.kind == "enwiki":
        for a in training_articles(unit.path, unit.corpus_root):
            yield a["text"]
    elif unit.kind == "jsonl":
        for a in read_articles(unit.path):
            yield a["text"]
    else:
        with open(unit.path, encoding="utf-8") as f:
            yield from f


def tokenize_unit(unit: CorpusUnit, out: Path) -> ShardResult:
    """Write ``unit``'s LM sentences to ``out`` and count its cased words."""
    t0 = time.perf_counter()
    cased: Counter = Counter()
    docs = sents = toks = words = 0
    tmp = out.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8") as f:
        for text in _documents(unit):
            docs += 1
            for lm, cased_words in lm_sentences(text):
                f.write(lm)
                f.write("\n")
                sents += 1
                toks += lm.count(" ") + 1
                words += len(cased_words)
                cased.update(cased_words)
    tmp.rename(out)
    return ShardResult(unit, out, docs, sents, toks, words, time.perf_counter() - t0, cased)
