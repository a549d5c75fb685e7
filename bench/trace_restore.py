"""Restoration from a traced source, and changed facts, on the dev pairs.

    python bench/trace_restore.py [--distractors 2000] [--dump-facts]

Collection: the dev pairs' sources (real-pairs, train-pairs, seed) among Wikipedia training
articles. Each spun copy is traced (``unspin restore --index`` without the engine: the source's
wording alone); its spans are scored like the engine's (``metrics.PairScore``: restoration precision
= share of words changed that now equal the source's, recall = share of one-to-one substitutions
restored exactly), per style. Changed facts: ``changed_facts`` of the traced source against
``bench/facts-gold.jsonl``, a hand-checked list of the names, quotations (a short fragment of
each) and a date that the spinner changed in 10 dev pairs (``{pair, kind, source, copy}``, short
strings only; read off each pair's aligned word differences and the facts reported for them, and
checked in both texts; number words written as digits, "five" → "5", and reformatted figures,
"3200" → "3,200", are the same fact and not listed); precision = reported facts
of those pairs that match a listed one, recall = listed facts matched by a reported one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV, emit, load_jsonl, require_shared
from metrics import PairScore
from trace_data import articles
from unspin.pack import load
from unspin.trace import Reference, add_references, open_index, trace

GOLD = Path(__file__).resolve().parent / "facts-gold.jsonl"


def norm(s: str | None) -> str:
    return " ".join((s or "").replace("’", "'").split()).strip(" .,\"“”").lower()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--distractors", type=int, default=2000)
    ap.add_argument("--shard", type=int, default=4)
    ap.add_argument("--dump-facts", action="store_true", help="Print every pair's changed facts (to hand-check).")
    args = ap.parse_args()
    require_shared()
    pack = load()
    pairs = []
    for name in ("real-pairs.jsonl", "train-pairs.jsonl", "seed-pair.jsonl"):
        pairs += [{**p, "style": p.get("style", "spinner")} for p in load_jsonl(DEV / name)]
    sources: dict[str, str] = {}
    for p in pairs:
        p["truth"] = sources.setdefault(p["source_text"], f"dev-{p['id']}")
    stream = articles(args.shard)
    refs = [Reference(f"w{a['id']}", a["text"]) for a in (next(stream) for _ in range(args.distractors))]
    refs += [Reference(i, t) for t, i in sources.items()]
    gold: dict[str, set[tuple[str, str, str]]] = {}
    if GOLD.is_file():
        for g in load_jsonl(GOLD):
            gold.setdefault(g["pair"], set()).add((g["kind"], norm(g["source"]), norm(g["copy"])))
    scores: dict[str, PairScore] = {}
    named = {}
    reported: dict[str, set[tuple[str, str, str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        idx = open_index(Path(tmp) / "idx", pack, create=True)
        add_references(idx, refs)
        for p in pairs:
            report = trace(p["spun_text"], idx, top=1, restore=True)
            best = report.trace[0] if report.trace else None
            ok = best is not None and best["id"] == p["truth"] and best["is_source"]
            named.setdefault(p["style"], []).append(ok)
            spans = [asdict(s) for s in report.spans] if ok else []
            scores.setdefault(p["style"], PairScore()).add_pair(p["id"], p["spun_text"], p["source_text"], spans)
            facts = best["changed_facts"] if ok else []
            reported[p["id"]] = {(f["kind"], norm(f["source"]), norm(f["copy"])) for f in facts}
            if args.dump_facts:
                for f in facts:
                    row = {"pair": p["id"], "kind": f["kind"], "change": f["change"]}
                    print(json.dumps({**row, "source": f["source"], "copy": f["copy"]}, ensure_ascii=False))
        idx.close()
    if args.dump_facts:
        return
    # A reported fact matches a listed one of its pair when the kinds agree and each listed side is
    # inside the reported side: the extractor may cut a name wider ("China's National Health
    # Commission") than the list states it.
    # A title in quotation marks is a name and a quotation both: the two kinds match each other.
    def matches(rep, g) -> bool:
        kinds_agree = rep[0] == g[0] or {rep[0], g[0]} == {"name", "quote"}
        return kinds_agree and g[1] in rep[1] and g[2] in rep[2]

    hits = {pid: {g for g in gs if any(matches(r, g) for r in reported.get(pid, set()))} for pid, gs in gold.items()}
    good = sum(1 for pid, gs in gold.items() for r in reported.get(pid, set()) if any(matches(r, g) for g in gs))
    tp = sum(len(h) for h in hits.values())
    n_rep = sum(len(reported.get(pid, set())) for pid in gold)
    n_gold = sum(len(g) for g in gold.values())
    result = {
        "collection": len(refs),
        "named": {k: f"{sum(v)}/{len(v)}" for k, v in named.items()},
        "restoration_from_source": {k: s.result() for k, s in sorted(scores.items())},
        "changed_facts": {
            "gold_pairs": len(gold),
            "gold_facts": n_gold,
            "reported": n_rep,
            "precision": round(good / n_rep, 4) if n_rep else None,
            "recall": round(tp / n_gold, 4) if n_gold else None,
            "missed": sorted(f"{pid}: {k} {s!r} -> {c!r}" for pid, g in gold.items() for k, s, c in g - hits[pid]),
            "extra": sorted(
                f"{pid}: {r[0]} {r[1]!r} -> {r[2]!r}"
                for pid, gs in gold.items()
                for r in reported.get(pid, set())
                if not any(matches(r, g) for g in gs)
            ),
        },
    }
    sp = result["restoration_from_source"].get("spinner", {})
    emit(
        result,
        f"trace_restore: spinner restore P {sp.get('restore_precision')} R {sp.get('restore_recall')};"
        f" facts P {result['changed_facts']['precision']} R {result['changed_facts']['recall']}",
    )


if __name__ == "__main__":
    main()
