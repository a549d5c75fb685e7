"""``unspin pack build`` and ``unspin pack info``: make and inspect language packs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

__all__ = ["pack"]


def _fail(message: str) -> None:
    click.echo(f"unspin: error: {message}", err=True)
    sys.exit(2)


@click.group("pack")
def pack() -> None:
    """Build or inspect a language pack (LM, vocabulary, thesaurus, vectors, substitutes)."""


@pack.command("build")
@click.option("--corpus", "corpus", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
              help="Folder of enwiki-*.jsonl.xz shards (held-out tail skipped), .jsonl[.xz] of {text}, "
              "or plain text. Repeatable.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Pack folder to write (replaced).")
@click.option("--sources", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Moby/WordNet/GloVe downloads (default: $UNSPIN_PACK_SOURCES, else a checkout's "
              ".cache/pack-sources: scripts/fetch-pack-sources.sh). KenLM's tools: $UNSPIN_KENLM_BIN or $PATH.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep intermediate files here and reuse them on the next run (default: a temporary folder).")
@click.option("--order", default=4, show_default=True, help="N-gram order.")
@click.option("--prune", default="0 3 4 6", show_default=True,
              help="lmplz count thresholds per order (n-grams seen at most this often are pruned).")
@click.option("--min-count", default=5, show_default=True, help="Vocabulary: drop words seen fewer times.")
@click.option("--vector-words", default=80000, show_default=True, help="Keep vectors for this many frequent words.")
@click.option("--lm-vocab", default=200000, show_default=True,
              help="LM vocabulary: the most frequent tokens kept (rarer ones score as <unk>); 0 = all.")
@click.option("--substitute-words", default=50000, show_default=True,
              help="Distributional substitutes for this many of the commonest words.")
@click.option("--workers", default=2, show_default=True, help="Tokenizer processes.")
@click.option("--memory", default="4G", show_default=True, help="lmplz sorting memory (e.g. 4G, 30%).")
@click.option("--name", default=None, help="Pack name for the manifest (default: the folder name).")
def build_cmd(corpus: tuple[Path, ...], out: Path, sources: Path | None, work: Path | None, order: int, prune: str,
              min_count: int, vector_words: int, lm_vocab: int, substitute_words: int, workers: int, memory: str,
              name: str | None) -> None:
    """Build a language pack from a corpus; progress goes to stderr."""
    from .build import build_pack

    try:
        thresholds = [int(x) for x in prune.replace(",", " ").split()]
    except ValueError:
        _fail(f"--prune wants integers, got {prune!r}")
    if order < 2 or order > 6:
        _fail("--order must be between 2 and 6")
    try:
        m = build_pack(list(corpus), out, sources=sources, work=work, order=order, prune=thresholds,
                       min_count=min_count, vector_words=vector_words, lm_vocab=lm_vocab,
                       substitute_words=substitute_words,
                       workers=max(1, min(workers, 2)), memory=memory, name=name or out.name)
    except (FileNotFoundError, RuntimeError, ValueError) as e:
        _fail(str(e))
    click.echo(f"{out}: {m['bytes'] / 1e6:.1f} MB, built in {m['build']['seconds']:.0f}s")


@pack.command("add-substitutes")
@click.option("--corpus", "corpus", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
              help="The corpus the pack was built from (as for `pack build`). Repeatable.")
@click.option("--pack", "pack_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The pack folder to extend (its other files are left as they are).")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the tokenized corpus here and reuse it (default: a temporary folder).")
@click.option("--words", default=50000, show_default=True, help="Describe this many of the commonest words.")
@click.option("--workers", default=2, show_default=True, help="Processes.")
def add_substitutes_cmd(corpus: tuple[Path, ...], pack_dir: Path, work: Path | None, words: int, workers: int) -> None:
    """Build only a pack's distributional substitutes (which words fill the same slots), in place."""
    from .build import add_substitutes

    try:
        m = add_substitutes(list(corpus), pack_dir, work=work, words=words, workers=max(1, min(workers, 2)))
    except (FileNotFoundError, RuntimeError, ValueError) as e:
        _fail(str(e))
    click.echo(f"{pack_dir}: substitutes for {m['substitutes']['words']:,} words; pack now {m['bytes'] / 1e6:.1f} MB")


@pack.command("add-spinner-table")
@click.argument("pairs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pack", "pack_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The pack folder to extend (its other files are left as they are).")
def add_spinner_table_cmd(pairs: tuple[Path, ...], pack_dir: Path) -> None:
    """Learn what real spinners swap from (spun page, source) pairs, JSONL records {spun_text,
    source_text, spun_url, style}, into the pack's spinner table (the learned channel)."""
    from ..learn.table import add_to_pack
    from . import LanguagePack

    try:
        m = add_to_pack(pack_dir, list(pairs), pack=LanguagePack.load(pack_dir))
    except (OSError, ValueError, KeyError) as e:
        _fail(str(e))
    t = m["spinner_table"]
    click.echo(f"{pack_dir}: spinner table of {t['swaps']:,} swaps ({t['observed_terms']:,} observed terms) "
               f"from {t['pages']} pages of {len(t['sites'])} sites")


@pack.command("info")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest as JSON.")
def info_cmd(path: Path | None, as_json: bool) -> None:
    """Describe a pack (default: $UNSPIN_PACK or the pack shipped with unspin)."""
    from . import default_pack_path, pack_identity
    from .manifest import read_manifest

    p = path or default_pack_path()
    try:
        m = read_manifest(p)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    from ..native import MISSING, available

    # Whether this install has the compiled extension, which holds the tokenizer, the screen and the
    # batched LM queries (their only implementation: setup.py builds it in every install).
    compiled = available()
    if as_json:
        click.echo(json.dumps({**m, "identity": pack_identity(m), "compiled": compiled}, indent=2, ensure_ascii=False))
        return
    lm, c, v, t, w = m["lm"], m["corpus"], m["vocab"], m["thesaurus"], m["vectors"]
    rows = [
        ("pack", f"{m['name']} (format {m['format']}, unspin {m.get('unspin_version', '?')}, {m['created']})"),
        ("identity", pack_identity(m)),
        ("path", str(p)),
        ("size", f"{m['bytes'] / 1e6:.1f} MB in {len(m['files'])} files"),
        ("corpus", f"{c['documents']:,} documents, {c['words']:,} words; held out: {c['held_out']}"),
        ("lm", f"order {lm['order']}, {lm['smoothing']}, prune {lm['prune']}, "
               + ", ".join(f"{k}-grams {n:,}" for k, n in lm["ngrams"].items())),
        ("vocab", f"{v['uncased_types']:,} uncased / {v['cased_types']:,} cased types (count >= {v['min_count']}), "
                  f"{v['total']:,} word tokens"),
        ("thesaurus", f"{t['terms']:,} terms ({t['phrases']:,} phrases, up to {t['max_phrase_words']} words), "
                      f"{t['edges']:,} edges"),
        ("vectors", f"{w['words']:,} words x {w['dims']} ({w['dtype']})"),
        ("substitutes", f"{m['substitutes']['words']:,} words x {m['substitutes']['neighbours_per_word']} nearest"
                        if m.get("substitutes") else "none"),
        ("sources", "; ".join(f"{k}: {s['licence']}" for k, s in m["sources"].items())),
        ("fast path", "compiled extension (unspin.pack._kenlm_batch)" if compiled else f"MISSING: {MISSING}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, val in rows:
        click.echo(f"{k:<{width}}  {val}")


if __name__ == "__main__":  # python -m unspin.pack.cli build ... (also attached to `unspin pack`)
    pack()


@pack.command("warm")
@click.option("--pack", "pack_dir", default=None, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Pack folder (default: $UNSPIN_PACK or the shipped one).")
@click.option("--workers", default=None, type=int, help="Processes (default: all cores).")
def warm_cmd(pack_dir: Path | None, workers: int | None) -> None:
    """Precompute the channel table (every common word's possible originals) into the user cache.

    Every later unspin process starts warm: a cold `check` is otherwise ~10x slower on its first
    documents, and each batch worker pays that warm-up again. Once per pack and machine (~1.5 min on 2 cores).
    """
    from ..decode.channel_cache import warm
    from ..workers import spawning_workers
    from . import load

    try:
        lp = load(pack_dir)
    except (FileNotFoundError, ValueError, OSError) as exc:
        _fail(f"cannot load the language pack: {exc}")
    with spawning_workers():  # one BLAS thread per worker process (unspin.workers)
        done = warm(lp, workers)
    click.echo(json.dumps(done, indent=1))
