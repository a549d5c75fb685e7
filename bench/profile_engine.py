"""Where a check spends its time: cProfile over a cold process (or a warm second pass).

    python bench/profile_engine.py [--docs 20] [--words 350] [--warm] [--fast] [--top 30] [--out FILE]

Checks ``examples/spun-news.txt`` and ``--docs`` held-out Wikipedia excerpts (the speed set of
bench/engine.py: the last held-out articles) once in a fresh process, so every memo is cold, the
way a new server worker or a batch worker meets its first documents. ``--warm`` profiles a second
pass over the same texts instead; ``--fast`` the screening mode. Prints the top functions by
cumulative and by own time on stderr, the wall time and MB/s as JSON on stdout; ``--out`` keeps the
raw profile for snakeviz or pstats.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit, require_shared
from engine import excerpt
from unspin.decode import check
from unspin.pack import LanguagePack
from unspin.pack.corpus import held_out_articles


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--words", type=int, default=350)
    ap.add_argument("--warm", action="store_true", help="profile a second pass (memos warm)")
    ap.add_argument("--fast", action="store_true", help="profile screening mode")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--out", type=Path, help="write the raw profile here")
    args = ap.parse_args()
    require_shared()
    pack = LanguagePack.load()
    docs = [(REPO / "examples" / "spun-news.txt").read_text(encoding="utf-8")]
    docs += [excerpt(a["text"], args.words) for a in held_out_articles()[-args.docs :]]
    if args.warm:
        for d in docs:
            check(d, pack, fast=args.fast)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for d in docs:
        check(d, pack, fast=args.fast)
    prof.disable()
    dt = time.perf_counter() - t0
    if args.out:
        prof.dump_stats(str(args.out))
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(args.top)
        print(buf.getvalue(), file=sys.stderr)
    total = sum(len(d.encode()) for d in docs)
    emit(
        {"docs": len(docs), "bytes": total, "seconds": round(dt, 3), "mb_per_s_profiled": round(total / dt / 1e6, 4)},
        f"profile: {len(docs)} docs, {dt:.2f} s under cProfile ({'warm' if args.warm else 'cold'}"
        f"{', fast' if args.fast else ''})",
    )


if __name__ == "__main__":
    main()
