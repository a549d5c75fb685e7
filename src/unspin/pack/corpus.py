"""The training corpus and the held-out articles: defined once, here.

The engine, trace and batch benchmarks evaluate on the same held-out Wikipedia articles the language
pack never saw, so the split lives in one function (`held_out_articles`) and the training stream
(`training_articles`) is its exact complement. The held-out set is the last `HELD_OUT_COUNT` articles
of the last shard; we keep a sliding buffer while streaming so the split costs no extra pass.
"""

from __future__ import annotations

import json
import lzma
import os
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..tokens import WORD, lm_form, sentences, tokenize
from . import checkout_root

__all__ = [
    "DEFAULT_CORPUS_DIR",
    "HELD_OUT_COUNT",
    "corpus_dir",
    "corpus_shards",
    "held_out_articles",
    "lm_sentences",
    "read_articles",
    "training_articles",
]

#: Where the English Wikipedia extract lives in a checkout: shared/ beside the repository, as for
#: tests and bench (override with $UNSPIN_CORPUS, or $UNSPIN_SHARED for the whole shared folder).
#: None for an installed unspin, which has no such neighbour.
DEFAULT_CORPUS_DIR = (
    root.parent / "shared" / "corpora" / "enwiki" if (root := checkout_root()) is not None else None
)
#: How many articles at the end of the last shard are held out for evaluation.
HELD_OUT_COUNT = 2000


def corpus_dir() -> Path:
    """The Wikipedia corpus folder: $UNSPIN_CORPUS, $UNSPIN_SHARED/corpora/enwiki, or shared/ beside
    the repository."""
    if os.environ.get("UNSPIN_CORPUS"):
        return Path(os.environ["UNSPIN_CORPUS"])
    if os.environ.get("UNSPIN_SHARED"):
        return Path(os.environ["UNSPIN_SHARED"]) / "corpora" / "enwiki"
    if DEFAULT_CORPUS_DIR is None:
        raise FileNotFoundError("no Wikipedia corpus: set UNSPIN_CORPUS (or UNSPIN_SHARED), or pass the corpus")
    return DEFAULT_CORPUS_DIR


def corpus_shards(directory: Path | None = None) -> list[Path]:
    """The shard files in order; the last one is the shard the held-out articles come from."""
    d = directory or corpus_dir()
    shards = sorted(d.glob("enwiki-*.jsonl.xz"))
    if not shards:
        raise FileNotFoundError(f"no enwiki-*.jsonl.xz shards in {d}")
    return shards


def read_articles(path: Path) -> Iterator[dict]:
    """Stream `{id, title, text}` objects from one .jsonl.xz (or plain .jsonl) shard."""
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _split_last(articles: Iterable[dict], n: int) -> tuple[Iterator[dict], deque]:
    """Yield all but the last ``n`` articles; the returned deque holds those ``n`` once exhausted."""
    tail: deque = deque()

    def head() -> Iterator[dict]:
        for a in articles:
            tail.append(a)
            if len(tail) > n:
                yield tail.popleft()

    return head(), tail


def held_out_articles(directory: Path | None = None) -> list[dict]:
    """The evaluation articles: the last `HELD_OUT_COUNT` of the last shard (never trained on)."""
    last = corpus_shards(directory)[-1]
    tail: deque = deque(maxlen=HELD_OUT_COUNT)
    tail.extend(read_articles(last))
    return list(tail)


def training_articles(shard: Path, directory: Path | None = None) -> Iterator[dict]:
    """The articles of ``shard`` that may be trained on (all, except the held-out tail of the last)."""
    if shard.resolve() == corpus_shards(directory)[-1].resolve():
        head, _ = _split_last(read_articles(shard), HELD_OUT_COUNT)
        yield from head
    else:
        yield from read_articles(shard)


def lm_sentences(text: str) -> Iterator[tuple[str, list[str]]]:
    """Per sentence: (space-joined lm_form tokens, cased word tokens).

    The same cut the engine makes at query time (`unspin.tokens`). Each line is tokenized once and
    its tokens dealt out to the sentence spans; `lm_form` works character by character, so applying
    it to the joined sentence equals applying it per token, at a fraction of the cost.
    """
    spans = sentences(text)
    if not spans:
        return
    toks = tokenize(text, spans[0][0], spans[-1][1])
    i, n = 0, len(toks)
    for s, e in spans:
        while i < n and toks[i].start < s:
            i += 1
        j = i
        while j < n and toks[j].end <= e:
            j += 1
        if j > i:
            sent = toks[i:j]
            yield lm_form(" ".join(t.text for t in sent)), [t.text for t in sent if t.kind == WORD]
        i = j
