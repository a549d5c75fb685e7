"""Synthetic copies for tracing: spun excerpts of Wikipedia articles, some also rewritten like a round trip.

Shared by ``fit_trace.py`` (the calibration fit, on training articles) and ``trace.py`` (the
measurement, on held-out articles). A copy is an excerpt (a publisher copies a story, not always
all of it), spun by ``spinner.spin`` in one style at one rate, and for some copies also rewritten
the way machine translation and paraphrasers rewrite: sentences reordered, clauses split into
sentences, sentences dropped.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from spinner import spin, table_for
from unspin.pack.corpus import corpus_shards, training_articles
from unspin.tokens import sentences

STYLES = ("common", "synonym", "phrase", "unseen")
RATES = (0.1, 0.2, 0.3, 0.45, 0.6)
REWRITES = ("none", "reorder", "split", "drop")


def articles(shard_index: int, min_words: int = 50) -> Iterator[dict]:
    """Training articles (never the held-out ones) of one corpus shard with at least ``min_words``."""
    for a in training_articles(corpus_shards()[shard_index]):
        if len(a["text"].split()) >= min_words:
            yield a


def excerpt(text: str, rng: random.Random, max_words: int = 800) -> str:
    """The article's first paragraphs, up to ``max_words`` words (at least 60 when it has them)."""
    words = rng.randint(60, max_words)
    out, n = [], 0
    for para in text.split("\n"):
        out.append(para)
        n += len(para.split())
        if n >= words:
            break
    return "\n".join(out)


def rewrite(text: str, kind: str, rng: random.Random) -> str:
    spans = sentences(text)
    sents = [text[s:e] for s, e in spans]
    if kind == "reorder" and len(sents) > 2:
        for i in range(0, len(sents) - 1, 2):
            if rng.random() < 0.6:
                sents[i], sents[i + 1] = sents[i + 1], sents[i]
    elif kind == "split":
        out = []
        for s in sents:
            for joint in (", and ", ", which ", ", but ", "; "):
                if joint in s:
                    head, tail = s.split(joint, 1)
                    s = f"{head}. {tail[:1].upper()}{tail[1:]}"
                    break
            out.append(s)
        sents = out
    elif kind == "drop" and len(sents) > 3:
        sents = [s for s in sents if rng.random() > 0.25] or sents[:1]
    return " ".join(sents)


class Copier:
    """Makes copies in every style and rate, in turn."""

    def __init__(self, pack, seed: int = 7) -> None:
        self.pack = pack
        self.rng = random.Random(seed)
        self.tables = {s: table_for(s, pack) for s in STYLES}
        self.n = 0

    def __call__(self, text: str) -> tuple[str, dict]:
        i, self.n = self.n, self.n + 1
        style, rate = STYLES[i % len(STYLES)], RATES[(i // len(STYLES)) % len(RATES)]
        kind = REWRITES[(i // (len(STYLES) * len(RATES))) % len(REWRITES)]
        spun = spin(excerpt(text, self.rng), self.tables[style], rate, self.rng, self.pack).text
        return rewrite(spun, kind, self.rng), {"style": style, "rate": rate, "rewrite": kind}
