"""Phrase lists (issue 17): matching speed, list load time, recall/precision of listed phrases, and
the engine's figures with and without a list on the same texts.

    python bench/phrases.py [--sizes 1000,10000,100000] [--docs 20]

* **Speed** (MB/s of UTF-8 per core, CPU time, best of 5): lists of random 2-3-word n-grams of
  content words (vocabulary ranks 300-40,000 of the pack), matched over the 2,000 held-out Wikipedia
  articles (3.5 MB) as one text and article by article. **Load**: compiling the list (first use)
  and reading it back from the cache (every later use: workers, servers).
* **Recall/precision of listed phrases**: our evaluation spinner's table (bench/spinner.py, style
  ``common``) written out as a list: for two adjacent content words of held-out articles the table
  can both swap, the spun pair → the original pair (like "counterfeit consciousness" → "artificial
  intelligence"). Pairs whose spun form occurs in the clean articles, or that the pack's language
  model knows as a bigram, are left out (a tortured phrase is one honest text does not use). Every
  occurrence of a listed original is then spun, with a line break (25 %) or a run of spaces (15 %)
  between the words, a capital (20 %) and, where both last words are nouns, their plurals (25 %).
  A match counts when its offsets equal the inserted phrase's exactly.
* **Engine** (few documents, a few CPU-minutes): held-out articles with 2+ listed phrases spun in
  (and nothing else: a paper mill's tortured phrases) and as many clean articles; document recall
  (verdict spun) and clean false-positive rate with and without the list, and the share of the
  inserted phrases the model alone flags.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from lemminflect import getAllLemmas, getInflection

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit
from spinner import STOPWORDS, PackTable, _content_word
from unspin.pack import load
from unspin.pack.corpus import held_out_articles
from unspin.phrases import from_text, load_phrases, normalise
from unspin.tokens import tokenize


def random_list(pack, n: int, seed: int = 1) -> bytes:
    words, counts = pack.vocab.words_and_counts()
    order = np.argsort(-counts)
    vocab = [words[i] for i in order[300:40000] if words[i].isalpha()]
    rng = random.Random(seed)
    seen: set[str] = set()
    lines = []
    while len(lines) < n:
        k = rng.choice((2, 2, 3))
        spun = " ".join(rng.choice(vocab) for _ in range(k))
        if spun in seen:
            continue
        seen.add(spun)
        lines.append(f"{spun}\t{' '.join(rng.choice(vocab) for _ in range(k))}\n")
    return "".join(lines).encode()


def best_cpu(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def speed(pack, texts: list[str], sizes: list[int]) -> list[dict]:
    whole = "\n\n".join(texts)
    mb = len(whole.encode("utf-8")) / 1e6
    out = []
    for n in sizes:
        data = random_list(pack, n)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"random-{n}.tsv"
            path.write_bytes(data)
            old = os.environ.get("UNSPIN_CACHE_DIR")
            os.environ["UNSPIN_CACHE_DIR"] = str(Path(tmp) / "cache")
            try:
                t = time.perf_counter()
                load_phrases([str(path)])  # first use: parse, inflect, build, cache
                compile_s = time.perf_counter() - t
                t = time.perf_counter()
                pl = load_phrases([str(path)])  # every later use: the cache
                load_s = time.perf_counter() - t
            finally:
                if old is None:
                    del os.environ["UNSPIN_CACHE_DIR"]
                else:
                    os.environ["UNSPIN_CACHE_DIR"] = old
        assert pl is not None
        one = best_cpu(lambda pl=pl: pl.find(whole))
        per_doc = best_cpu(lambda pl=pl: [pl.find(t) for t in texts])
        row = {
            "entries": n,
            "forms": pl.keys,
            "compile_s": round(compile_s, 2),
            "load_s": round(load_s, 3),
            "mb_per_s_one_text": round(mb / one, 1),
            "mb_per_s_per_article": round(mb / per_doc, 1),
            "text_mb": round(mb, 2),
        }
        print(row, file=sys.stderr)
        out.append(row)
    return out


# --- our spinner's table as a list, and text spun with it ---------------------------------------------


def _attested(pack, words: tuple[str, str]) -> bool:
    """Whether the pack's 4-gram model knows the bigram (seen 4+ times in its 125 M words)."""
    scores = list(pack.lm.model.full_scores(" ".join(words), bos=False, eos=False))
    return scores[1][1] >= 2


def spinner_list(pack, texts: list[str], rng: random.Random) -> dict[tuple[str, str], tuple[str, str]]:
    """(w1, w2) original pair → (s1, s2) spun pair, for adjacent content words the table swaps both of."""
    table = PackTable(pack, common=True)
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for text in texts:
        toks = tokenize(text)
        for a, b in itertools.pairwise(toks):
            if (a.text, b.text) in pairs or b.start != a.end + 1 or not (_content_word(a) and _content_word(b)):
                continue
            ca, cb = table.choices(a.text), table.choices(b.text)
            if ca and cb:
                pairs[(a.text, b.text)] = (rng.choice(ca), rng.choice(cb))
    # A tortured phrase is one honest text does not use; and one spun form, one entry.
    clean = " " + " ".join(normalise(t) for t in texts) + " "
    out, seen = {}, set()
    for orig, spun in pairs.items():
        s = " ".join(spun)
        plural = getInflection(spun[1], tag="NNS")
        forms = {s} | ({f"{spun[0]} {plural[0]}"} if plural else set())
        if s in seen or any(f" {f} " in clean for f in forms) or _attested(pack, spun):
            continue
        seen.add(s)
        out[orig] = spun
    return out


def _noun_lemma(word: str, vocab) -> bool:
    """A singular noun with a plural of its own (a real inflection, not "workeds" or "hims")."""
    lemmas = getAllLemmas(word)
    if lemmas.get("NOUN") != (word,) or "VERB" in lemmas or word in STOPWORDS:
        return False
    plural = _plural(word)
    return plural != word and vocab.count(plural) >= 20


def _plural(word: str) -> str:
    forms = getInflection(word, tag="NNS")
    return forms[0] if forms else word


def spin_text(text: str, table: dict, rng: random.Random, pl, vocab) -> tuple[str, list[tuple[int, int, str]]]:
    """Every listed original pair in ``text`` spun, with line breaks, spaces, capitals and plurals.

    A pair is left as it is when a neighbouring word would make another listed phrase overlapping
    it ("large point use" holds both "large point" and "point use"): which was meant is undecidable.
    """
    toks = tokenize(text)
    out, gold, pos, length = [], [], 0, 0
    i = 0
    while i + 1 < len(toks):
        a, b = toks[i], toks[i + 1]
        spun = table.get((a.text, b.text)) if b.start == a.end + 1 else None
        if spun is None:
            i += 1
            continue
        s1, s2 = spun
        ctx = text[max(0, a.start - 40) : a.start]
        probe = ctx + s1
        if any(m.start < len(ctx) < m.end for m in pl.find(probe)):
            i += 1
            continue
        probe = s2 + text[b.end : b.end + 40]
        if any(m.start < len(s2) < m.end for m in pl.find(probe)):
            i += 1
            continue
        original = f"{a.text} {b.text}"
        if rng.random() < 0.25 and _noun_lemma(s2, vocab) and _noun_lemma(b.text, vocab):
            s2, original = _plural(s2), f"{a.text} {_plural(b.text)}"
        if rng.random() < 0.2:
            s1, original = s1[:1].upper() + s1[1:], original[:1].upper() + original[1:]
        sep = "\n" if rng.random() < 0.25 else ("   " if rng.random() < 0.2 else " ")
        phrase = f"{s1}{sep}{s2}"
        chunk = text[pos : a.start]
        out.append(chunk)
        length += len(chunk)
        gold.append((length, length + len(phrase), original))
        out.append(phrase)
        length += len(phrase)
        pos = b.end
        i += 2
    out.append(text[pos:])
    return "".join(out), gold


def listed_recall(pl, docs: list[tuple[str, list]]) -> dict:
    n_gold = n_pred = tp = right_original = 0
    for text, gold in docs:
        found = {(m.start, m.end): m.original for m in pl.find(text)}
        n_gold += len(gold)
        n_pred += len(found)
        for s, e, original in gold:
            if (s, e) in found:
                tp += 1
                right_original += (found[(s, e)] or "").lower() == original.lower()
    return {
        "inserted": n_gold,
        "matched": n_pred,
        "recall": round(tp / max(n_gold, 1), 4),
        "precision": round(tp / max(n_pred, 1), 4),
        "original_exact": round(right_original / max(tp, 1), 4),
        "with_line_break": sum("\n" in text[s:e] for text, gold in docs for s, e, _ in gold),
    }


def engine(pack, pl, spun_docs: list[tuple[str, list]], clean_docs: list[str]) -> dict:
    from unspin.decode import check

    res: dict = {}
    t0 = time.process_time()
    for name, phrases in (("without_list", None), ("with_list", pl)):
        spun_reports = [check(text, pack, phrases=phrases) for text, _ in spun_docs]
        clean_reports = [check(text, pack, phrases=phrases) for text in clean_docs]
        flagged = total = 0
        for (_, gold), rep in zip(spun_docs, spun_reports, strict=True):
            for s, e, _ in gold:
                total += 1
                flagged += any(sp.start < e and s < sp.end for sp in rep.spans)
        res[name] = {
            "doc_recall": round(sum(bool(r.spun) for r in spun_reports) / len(spun_reports), 4),
            "clean_fpr": round(sum(bool(r.spun) for r in clean_reports) / len(clean_reports), 4),
            "listed_phrases_flagged": round(flagged / max(total, 1), 4),
        }
    res["docs"] = {"spun": len(spun_docs), "clean": len(clean_docs)}
    res["cpu_s"] = round(time.process_time() - t0, 1)
    return res


def excerpt(text: str, max_words: int = 300) -> str:
    out, n = [], 0
    for para in text.split("\n"):
        if len(para.split()) < 8:
            continue
        out.append(para)
        n += len(para.split())
        if n >= max_words:
            break
    return "\n\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="list sizes for the speed test")
    ap.add_argument("--docs", type=int, default=20, help="spun and clean documents for the engine test")
    args = ap.parse_args()
    pack = load(None)
    articles = [a["text"] for a in held_out_articles()]
    result: dict = {"speed": speed(pack, articles, [int(x) for x in args.sizes.split(",") if x])}

    rng = random.Random(7)
    base = [excerpt(t) for t in articles[:1000]]
    base = [t for t in base if len(t.split()) >= 100]
    table = spinner_list(pack, base, rng)
    # A tortured phrase is one honest text does not use: entries that match the clean articles in
    # any form the matcher tries (an entry "her lives" also matches "her life") are dropped.
    pl = from_text("".join(f"{' '.join(s)}\t{' '.join(o)}\n" for o, s in table.items()), "spinner-table.tsv")
    honest = {m.entry.spun for t in base for m in pl.find(t)}
    table = {o: s for o, s in table.items() if " ".join(s) not in honest}
    pl = from_text("".join(f"{' '.join(s)}\t{' '.join(o)}\n" for o, s in table.items()), "spinner-table.tsv")
    spun = [spin_text(t, table, rng, pl, pack.vocab) for t in base]
    result["listed"] = {"entries": len(table), "forms": pl.keys, **listed_recall(pl, spun)}
    print(result["listed"], file=sys.stderr)

    with_two = [d for d in spun if len(d[1]) >= 2][: args.docs]
    clean = [excerpt(t) for t in articles[1000:]]
    clean = [t for t in clean if len(t.split()) >= 100][: args.docs]
    result["engine"] = engine(pack, pl, with_two, clean)
    s100 = next((r for r in result["speed"] if r["entries"] == 100000), result["speed"][-1])
    lst, eng = result["listed"], result["engine"]
    without, with_ = eng["without_list"], eng["with_list"]
    emit(
        result,
        f"phrases: {s100['entries']:,} entries {s100['mb_per_s_one_text']} MB/s (one text), "
        f"{s100['mb_per_s_per_article']} MB/s (per article), load {s100['load_s']} s; listed recall "
        f"{lst['recall']} precision {lst['precision']}; doc recall {without['doc_recall']} → "
        f"{with_['doc_recall']}, clean FPR {without['clean_fpr']} → {with_['clean_fpr']}",
    )


if __name__ == "__main__":
    main()
