"""Language pack: perplexity against pocketsphinx's English 3-gram model, collocations, speed, size.

    python bench/pack.py [--pack DIR] [--max-articles N]

Prints one JSON object (stdout) and a one-line summary (stderr). Measured in one run:

- perplexity on the held-out Wikipedia articles (`unspin.pack.corpus.held_out_articles`, never trained
  on) and on /work/shared/dev/clean-news.jsonl, for the pack and for pocketsphinx's ``en-us.lm.bin``
  (baseline, queried through pocketsphinx's own ``NGramModel.prob``);
- the collocation test on phrase-pairs.jsonl: does the pack score the source's phrase higher than the
  spinner's in the spun sentence;
- load time, lookups per second (batched ``score_ngrams`` in three patterns: sliding windows over
  sentences, the same n-grams shuffled (worst case), and 50 candidate words per context (the
  engine's pattern); per-sentence ``token_logprobs``), resident memory (whole
  process, and the pack's mapped files), size on disk and in git (zlib, as git stores blobs).

Comparable perplexity. The models differ in vocabulary (pack: 200 k most frequent lm_form tokens,
with punctuation and digits as 0; pocketsphinx: 72 k lower-case words, no punctuation, possessives
fused: "turkey's"). Both score the same units: every word of the text (our tokenizer) plus the end of
sentence; a possessive ``'s`` joins its word into one unit where pocketsphinx knows the fused form,
and the pack's probability of the unit is the product of its pieces. A unit counts only when neither
model maps any piece of it to ``<unk>``, so neither is rewarded or punished for its OOV policy; OOV
rates are reported beside. Each model reads its natural input: the pack the full token stream
(punctuation included, as the engine uses it), pocketsphinx the word stream. The pack is also scored
on the word stream alone (``pack_words_only``) so that punctuation context is seen to give it no
unfair help.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV, REPO, emit, load_jsonl, require_shared
from unspin.pack import LanguagePack, default_pack_path
from unspin.pack.corpus import HELD_OUT_COUNT, held_out_articles
from unspin.pack.thesaurus import term_key
from unspin.tokens import WORD, lm_form, sentences, tokenize

PS_LM = REPO / ".cache" / "pack-sources" / "pocketsphinx" / "pocketsphinx" / "model" / "en-us" / "en-us.lm.bin"


def mapped_rss_mb(directory: Path) -> float:
    """Resident memory of the pack's memory-mapped files (from /proc/self/smaps)."""
    total = 0
    inside = False
    prefix = str(directory.resolve())
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                inside = len(parts) >= 6 and parts[5].startswith(prefix)
            elif inside and parts and parts[0] == "Rss:":
                total += int(parts[1])
    return total / 1024


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Pocketsphinx:
    """pocketsphinx's trigram model through its own API (log base 1.0001 → log10)."""

    def __init__(self, path: Path) -> None:
        from pocketsphinx import Config, LogMath, NGramModel

        self.logmath = LogMath()
        config = Config(loglevel="ERROR")
        self.model = NGramModel(config, self.logmath, str(path))
        self.scale = self.logmath.log_to_ln(-100000) / -100000 / math.log(10)
        self.order = 3
        self._oov: dict[str, bool] = {}

    def known(self, w: str) -> bool:
        v = self._oov.get(w)
        if v is None:
            v = self.model.prob([w]) * self.scale > -90  # unknown words come back at about -23,000
            self._oov[w] = v
        return v

    def prob(self, word: str, history: list[str]) -> float:
        """log10 P(word | history); pocketsphinx wants the history most recent first."""
        return self.model.prob([word, *reversed(history[-(self.order - 1) :])]) * self.scale


def units_of(text: str, ps: Pocketsphinx) -> list[dict]:
    """Per sentence: the pack's token stream, pocketsphinx's word stream, and the scoring units."""
    out = []
    for s, e in sentences(text):
        toks = tokenize(text, s, e)
        if not toks:
            continue
        forms = [lm_form(t.text) for t in toks]
        # Units: indices into the token list; a possessive "'s" fuses with its word when ps has the form.
        units: list[list[int]] = []
        ps_words: list[str] = []
        for i, t in enumerate(toks):
            if t.kind != WORD:
                continue
            f = forms[i]
            if f == "'s" and units and units[-1][-1] == i - 1 and ps.known(ps_words[-1] + "'s"):
                units[-1].append(i)
                ps_words[-1] += "'s"
                continue
            units.append([i])
            ps_words.append(f)
        out.append({"forms": forms, "kinds": [t.kind for t in toks], "units": units, "ps_words": ps_words})
    return out


def perplexities(texts: list[str], pack: LanguagePack, ps: Pocketsphinx) -> dict:
    lm = pack.lm
    sum_pack = sum_ps = sum_wo = 0.0
    n = n_units = oov_pack = oov_ps = 0
    for text in texts:
        for sent in units_of(text, ps):
            forms, units, ps_words = sent["forms"], sent["units"], sent["ps_words"]
            if not units:
                continue
            tp = lm.token_logprobs(forms, bos=True, eos=True)
            wo_forms: list[str] = []
            wo_unit_span: list[tuple[int, int]] = []
            for u in units:
                a = len(wo_forms)
                wo_forms.extend(forms[i] for i in u)
                wo_unit_span.append((a, len(wo_forms)))
            two = lm.token_logprobs(wo_forms, bos=True, eos=True)
            hist = ["<s>"]
            for k, u in enumerate(units):
                w = ps_words[k]
                lp_ps = ps.prob(w, hist)
                hist.append(w)
                n_units += 1
                pack_ok = all(forms[i] in lm for i in u)
                ps_ok = ps.known(w)
                oov_pack += not pack_ok
                oov_ps += not ps_ok
                if pack_ok and ps_ok:
                    n += 1
                    sum_pack += float(sum(tp[i] for i in u))
                    a, b = wo_unit_span[k]
                    sum_wo += float(two[a:b].sum())
                    sum_ps += lp_ps
            # End of sentence: a unit both models predict.
            n += 1
            n_units += 1
            sum_pack += float(tp[-1])
            sum_wo += float(two[-1])
            sum_ps += ps.prob("</s>", hist)
    return {
        "units": n_units,
        "scored_units": n,
        "oov_rate_pack": round(oov_pack / max(1, n_units), 4),
        "oov_rate_pocketsphinx": round(oov_ps / max(1, n_units), 4),
        "perplexity_pack": round(10 ** (-sum_pack / n), 2),
        "perplexity_pack_words_only": round(10 ** (-sum_wo / n), 2),
        "perplexity_pocketsphinx": round(10 ** (-sum_ps / n), 2),
    }


def sentence_forms(text: str) -> list[str]:
    return [lm_form(t.text) for t in tokenize(text)]


def ps_sentence_logprob(text: str, ps: Pocketsphinx) -> float | None:
    """pocketsphinx's log10 probability of a sentence's words (None if it does not know one)."""
    words: list[str] = []
    for t in tokenize(text):
        if t.kind != WORD:
            continue
        f = lm_form(t.text)
        if f == "'s" and words and ps.known(words[-1] + "'s"):
            words[-1] += "'s"
        else:
            words.append(f)
    if not all(ps.known(w) for w in words):
        return None
    hist = ["<s>"]
    total = 0.0
    for w in [*words, "</s>"]:
        total += ps.prob(w, hist)
        hist.append(w)
    return total


def collocations(pack: LanguagePack, ps: Pocketsphinx) -> dict:
    """Share of phrase pairs where the original phrase scores higher in the spun sentence.

    The same test is run with pocketsphinx on the pairs whose words it all knows, beside the pack's
    share on that same subset, and each miss is tagged with whether the original is the rarer term in
    the pack's vocabulary (an n-gram model's prior then favours the spun word).
    """
    wins = total = skipped = 0
    ps_n = ps_wins = pack_wins_on_ps_subset = rarer = 0
    misses = []
    for rec in load_jsonl(DEV / "phrase-pairs.jsonl"):
        spun_s = rec["spun_sentence"]
        # The spun phrase as whole tokens ("on" must not match inside "contain").
        m = re.search(r"(?<!\w)" + re.escape(rec["spun"]) + r"(?!\w)", spun_s)
        if m is None:
            skipped += 1
            continue
        orig_s = spun_s[: m.start()] + rec["original"] + spun_s[m.end() :]
        a = pack.lm.logprob(sentence_forms(orig_s), bos=True, eos=True)
        b = pack.lm.logprob(sentence_forms(spun_s), bos=True, eos=True)
        total += 1
        win = a > b
        wins += win
        pa, pb = ps_sentence_logprob(orig_s, ps), ps_sentence_logprob(spun_s, ps)
        if pa is not None and pb is not None:
            ps_n += 1
            ps_wins += pa > pb
            pack_wins_on_ps_subset += win
        if not win:
            o_count = min((pack.vocab.count(w) for w in sentence_forms(rec["original"])), default=0)
            s_count = min((pack.vocab.count(w) for w in sentence_forms(rec["spun"])), default=0)
            rarer += o_count < s_count
            misses.append(
                {
                    "spun": rec["spun"],
                    "original": rec["original"],
                    "margin": round(a - b, 2),
                    "original_rarer": o_count < s_count,
                }
            )
    return {
        "pairs": total,
        "skipped_not_found": skipped,
        "original_preferred": wins,
        "share": round(wins / max(1, total), 4),
        "misses_where_original_is_rarer": rarer,
        "pocketsphinx_subset": {
            "pairs": ps_n,
            "share_pocketsphinx": round(ps_wins / max(1, ps_n), 4),
            "share_pack": round(pack_wins_on_ps_subset / max(1, ps_n), 4),
        },
        "misses": misses,
    }


def thesaurus_recall(pack: LanguagePack) -> dict:
    """For single-word phrase pairs: is the original among sources(spun) (the reverse channel), or
    among sources ∪ synonyms (if the engine treats the relation as symmetric)?"""
    n = rev = either = 0
    for rec in load_jsonl(DEV / "phrase-pairs.jsonl"):
        s, o = term_key(rec["spun"]), term_key(rec["original"])
        if " " in s or " " in o:
            continue
        n += 1
        src = {t for t, _ in pack.thesaurus.sources(s)}
        rev += o in src
        either += o in src or o in {t for t, _ in pack.thesaurus.synonyms(s)}
    return {
        "single_word_pairs": n,
        "original_in_sources": round(rev / max(1, n), 4),
        "original_in_sources_or_synonyms": round(either / max(1, n), 4),
    }


def substitutes_recall(pack: LanguagePack) -> dict:
    """For single-word phrase pairs: are spun word and original among each other's substitutes (the
    corpus puts them in the same slots)? The channel rewards originals that are."""
    subs = pack.substitutes
    if subs is None:
        return {"single_word_pairs": 0, "note": "this pack has no substitutes"}
    n = hit = 0
    sims = []
    for rec in load_jsonl(DEV / "phrase-pairs.jsonl"):
        s, o = term_key(rec["spun"]), term_key(rec["original"])
        if " " in s or " " in o:
            continue
        n += 1
        sim = subs.similarity(s, o)
        hit += sim > 0
        sims.append(sim)
    return {
        "single_word_pairs": n,
        "original_among_substitutes": round(hit / max(1, n), 4),
        "median_similarity": round(statistics.median(sims), 4) if sims else None,
    }


def speed(pack: LanguagePack, sents: list[list[str]]) -> dict:
    lm = pack.lm
    order = lm.order
    # Every n-gram of held-out sentences, in order (sliding windows: each history is new) ...
    ngrams = []
    for f in sents:
        f = ["<s>", *f]
        for i in range(1, len(f)):
            ngrams.append(tuple(f[max(0, i - order + 1) : i + 1]))
    ngrams = ngrams[:400_000]
    lm.score_ngrams(ngrams[:50_000])  # warm the page cache the way a running engine would be
    t = time.perf_counter()
    lm.score_ngrams(ngrams)
    distinct = len(ngrams) / (time.perf_counter() - t)
    # Worst case: the same n-grams in random order (no history shared with the previous n-gram).
    shuffled = list(ngrams)
    random.Random(0).shuffle(shuffled)
    t = time.perf_counter()
    lm.score_ngrams(shuffled)
    shuffled_rate = len(shuffled) / (time.perf_counter() - t)
    # ... and the engine's pattern: 50 candidate words in each context.
    cands = [
        w
        for w, _ in zip(
            (
                "the",
                "power",
                "force",
                "call",
                "contact",
                "people",
                "men",
                "soldiers",
                "troops",
                "said",
                "told",
                "ministry",
                "government",
                "forces",
                "air",
                "left",
                "departed",
                "concern",
                "problem",
                "fears",
                "killed",
                "died",
                "between",
                "among",
                "face",
                "area",
                "phone",
                "cellphone",
                "minister",
                "president",
                "war",
                "army",
                "military",
                "attack",
                "assault",
                "stories",
                "tales",
                "difficulties",
                "issues",
                "continued",
                "ongoing",
                "nightmare",
                "man",
                "male",
                "gentleman",
                "persons",
                "homes",
                "households",
                "electricity",
                "strength",
            ),
            range(50),
            strict=False,
        )
    ]
    contexts = list({ng[:-1] for ng in ngrams[:8000] if len(ng) == order})
    batch = [(*c, w) for c in contexts for w in cands]
    t = time.perf_counter()
    lm.score_ngrams(batch)
    shared = len(batch) / (time.perf_counter() - t)
    t = time.perf_counter()
    ntok = 0
    for f in sents[:20000]:
        lm.token_logprobs(f, bos=True, eos=True)
        ntok += len(f) + 1
    per_sentence = ntok / (time.perf_counter() - t)
    return {
        "compiled_extension": lm.compiled,
        "score_ngrams_sliding_windows_per_s": round(distinct),
        "score_ngrams_shuffled_per_s": round(shuffled_rate),
        "score_ngrams_shared_context_per_s": round(shared),
        "token_logprobs_tokens_per_s": round(per_sentence),
        "batch_sizes": {"sliding_windows": len(ngrams), "shared_context": len(batch)},
    }


def git_size(path: Path) -> int:
    """Bytes the pack's files take as zlib-compressed git blobs."""
    total = 0
    for p in sorted(path.rglob("*")):
        if p.is_file():
            total += len(zlib.compress(p.read_bytes(), 1))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pack", type=Path, default=None, help="pack folder (default: the shipped pack)")
    ap.add_argument("--max-articles", type=int, default=HELD_OUT_COUNT, help="held-out articles to score")
    args = ap.parse_args()
    require_shared()
    path = args.pack or default_pack_path()

    rss0 = rss_mb()
    t = time.perf_counter()
    pack = LanguagePack.load(path)
    load_s = time.perf_counter() - t
    rss_loaded = rss_mb()

    articles = held_out_articles()[: args.max_articles]
    news = [r["text"] for r in load_jsonl(DEV / "clean-news.jsonl")]
    sents = [sentence_forms(a["text"][s:e]) for a in articles for s, e in sentences(a["text"])]
    sents = [s for s in sents if s]

    spd = speed(pack, sents)
    # Touch the other parts the way the engine does, then take the pack's resident memory.
    for w in ("troopers", "departed", "people", "face", "power", "phone call"):
        pack.thesaurus.sources(w)
        pack.vectors.similarity(w, "soldiers")
        pack.vocab.count(w)
    if not PS_LM.is_file():
        sys.exit(f"bench: {PS_LM} missing: run scripts/fetch-pack-sources.sh")
    ps = Pocketsphinx(PS_LM)
    coll = collocations(pack, ps)
    held = perplexities([a["text"] for a in articles], pack, ps)
    rss_pack = rss_mb()
    mapped = mapped_rss_mb(path)
    cn = perplexities(news, pack, ps)

    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    result = {
        "pack": str(path),
        "lm": {"order": pack.lm.order, **{k: pack.manifest["lm"][k] for k in ("prune", "ngrams", "smoothing")}},
        "perplexity": {
            "held_out_wikipedia": {"articles": len(articles), **held},
            "clean_news": {"documents": len(news), **cn},
            "baseline": "pocketsphinx 5.1.1 en-us.lm.bin (3-gram, 72 k words), via NGramModel.prob",
            "method": "same units for both (words + </s>; possessive 's fused where pocketsphinx has the form); "
            "units that either model maps to <unk> are excluded from both; see bench/pack.py docstring",
        },
        "collocation": coll,
        "thesaurus_recall": thesaurus_recall(pack),
        "substitutes_recall": substitutes_recall(pack),
        "speed": spd,
        "load_seconds": round(load_s, 4),
        "resident_memory_mb": {
            "python_before_load": round(rss0, 1),
            "after_load": round(rss_loaded, 1),
            "after_queries_pack_only": round(rss_pack, 1),
            "pack_files_mapped": round(mapped, 1),
            "note": "after_queries includes the bench's own data (2,000 articles as Python objects)",
        },
        "size_bytes": {"disk": size, "git_zlib": git_size(path)},
    }
    ok = {
        "beats_pocketsphinx_held_out": held["perplexity_pack"] < held["perplexity_pocketsphinx"],
        "beats_pocketsphinx_news": cn["perplexity_pack"] < cn["perplexity_pocketsphinx"],
        "collocation_95": coll["share"] >= 0.95,
        "load_1s": load_s <= 1.0,
        "memory_1gb": rss_pack <= 1024,
        "speed_1m_per_s": max(spd["score_ngrams_sliding_windows_per_s"], spd["score_ngrams_shared_context_per_s"])
        >= 1e6,
        "size_64mb_git": result["size_bytes"]["git_zlib"] <= 64 * 2**20,
    }
    result["targets"] = ok
    summary = (
        f"pack: ppl wiki {held['perplexity_pack']} vs ps {held['perplexity_pocketsphinx']}, "
        f"news {cn['perplexity_pack']} vs ps {cn['perplexity_pocketsphinx']}; "
        f"collocations {coll['share']:.1%}; load {load_s:.2f}s; rss {rss_pack:.0f} MB; "
        f"{spd['score_ngrams_sliding_windows_per_s'] / 1e6:.2f}"
        f"/{spd['score_ngrams_shared_context_per_s'] / 1e6:.2f} M n-grams/s; "
        f"{result['size_bytes']['git_zlib'] / 2**20:.1f} MiB in git; "
        f"targets {'all met' if all(ok.values()) else 'MISSED: ' + ', '.join(k for k, v in ok.items() if not v)}"
    )
    emit(result, summary)


if __name__ == "__main__":
    main()
