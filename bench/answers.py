"""Answer snapshot: the engine's reports on a fixed set of texts, to prove a speed-up changed nothing.

    python bench/answers.py --save /tmp/answers-before.json     # before the change
    python bench/answers.py --compare /tmp/answers-before.json  # after: lists every report that differs

Texts: ``examples/spun-news.txt``, the seed page (../shared/examples/seed-spun-news.txt), ``--docs``
held-out Wikipedia excerpts (the evaluation half, as bench/engine.py picks them) and spun copies of
them from our evaluation spinner (styles common, synonym and phrase). Each text is checked in full
and in fast (screening) mode; the compared fields are spun, score, verdict, spans, restored and stats.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SHARED, emit, require_shared
from engine import eval_docs
from spinner import spin, table_for
from unspin.decode import check
from unspin.pack import LanguagePack

FIELDS = ("spun", "score", "verdict", "spans", "restored", "stats")


def texts(pack, n_docs: int) -> dict[str, str]:
    out = {
        "example": (REPO / "examples" / "spun-news.txt").read_text(encoding="utf-8"),
        "seed": (SHARED / "examples" / "seed-spun-news.txt").read_text(encoding="utf-8"),
    }
    docs = eval_docs(n_docs, 350, "eval")
    rng = random.Random(11)
    tables = {style: table_for(style, pack) for style in ("common", "synonym", "phrase")}
    for i, d in enumerate(docs):
        out[f"wiki{i}"] = d
        style = ("common", "synonym", "phrase")[i % 3]
        out[f"wiki{i}-{style}"] = spin(d, tables[style], 0.3, rng, pack, phrase_originals=style == "phrase").text
    return out


def reports(pack, corpus: dict[str, str]) -> dict[str, dict]:
    out = {}
    for key, text in corpus.items():
        for mode in ("full", "fast"):
            rep = check(text, pack, fast=mode == "fast").to_dict()
            out[f"{key}/{mode}"] = {f: rep.get(f) for f in FIELDS}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=50)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    args = ap.parse_args()
    require_shared()
    pack = LanguagePack.load()
    corpus = texts(pack, args.docs)
    got = reports(pack, corpus)
    if args.save:
        args.save.write_text(json.dumps({"texts": corpus, "reports": got}, ensure_ascii=False, indent=1))
        emit({"reports": len(got)}, f"answers: saved {len(got)} reports to {args.save}")
        return
    want = json.loads(args.compare.read_text(encoding="utf-8"))
    if want["texts"] != corpus:
        sys.exit("answers: the texts differ from the snapshot's (spinner or data changed); re-save first")
    differ = {}
    for key, rep in got.items():
        old = want["reports"][key]
        fields = [f for f in FIELDS if old.get(f) != rep.get(f)]
        if fields:
            differ[key] = {f: {"before": old.get(f), "after": rep.get(f)} for f in fields}
    emit(
        {"reports": len(got), "differ": len(differ), "differences": differ},
        f"answers: {len(got) - len(differ)}/{len(got)} reports identical to {args.compare}",
    )
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
