"""Where a check spends its time: cProfile over a cold process (or a warm second pass), or per stage.

    python bench/profile_engine.py [--docs 20] [--words 350] [--warm] [--fast] [--top 30] [--out FILE]
    python bench/profile_engine.py --stages [--docs 60] [--repeat 31]

Checks ``examples/spun-news.txt`` and ``--docs`` held-out Wikipedia excerpts (the speed set of
bench/engine.py: the last held-out articles) once in a fresh process, so every memo is cold, the
way a new server worker or a batch worker meets its first documents. ``--warm`` profiles a second
pass over the same texts instead; ``--fast`` the screening mode. Prints the top functions by
cumulative and by own time on stderr, the wall time and MB/s as JSON on stdout; ``--out`` keeps the
raw profile for snakeviz or pstats.

``--stages`` times each stage of the screening mode (`check --fast`: repair, sentence_tokens,
detect.gate, channel.eligible_flags, detect.screen) and the whole `check(fast=True)` separately, as
the median of ``--repeat`` passes over the texts in CPU time of this process (less disturbed by other
processes on a shared machine than wall time), in ms and MB/s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit, require_shared
from engine import excerpt
from unspin.decode import check
from unspin.pack import LanguagePack
from unspin.pack.corpus import held_out_articles


def stages(pack, docs: list[str], repeat: int) -> dict:
    """Median CPU time per stage of the screening mode over ``docs`` (inputs of each stage computed once)."""
    from unspin.decode import detect
    from unspin.decode.channel import eligible_flags
    from unspin.repair import repair_text
    from unspin.tokens import sentence_tokens

    repaired = [repair_text(d)[0] for d in docs]
    sents = [sentence_tokens(r) for r in repaired]
    flat = [[t for s in ss for t in s] for ss in sents]
    flags = [eligible_flags(pack, ss) for ss in sents]
    for d in docs:  # warm every memo and page the pack's tables in
        check(d, pack, fast=True)
    runs = {
        "repair_text": lambda: [repair_text(d) for d in docs],
        "sentence_tokens": lambda: [sentence_tokens(r) for r in repaired],
        "gate": lambda: [detect.gate(pack, t) for t in flat],
        "eligible_flags": lambda: [eligible_flags(pack, ss) for ss in sents],
        "screen": lambda: [detect.screen(pack, ss, f) for ss, f in zip(sents, flags, strict=True)],
        "check_fast": lambda: [check(d, pack, fast=True) for d in docs],
    }
    total = sum(len(d.encode()) for d in docs)
    out = {}
    for name, run in runs.items():
        times = []
        for _ in range(repeat):
            t0 = time.process_time()
            run()
            times.append(time.process_time() - t0)
        med = statistics.median(times)
        out[name] = {"ms": round(med * 1e3, 3), "mb_per_s": round(total / med / 1e6, 2) if med else None}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--words", type=int, default=350)
    ap.add_argument("--warm", action="store_true", help="profile a second pass (memos warm)")
    ap.add_argument("--fast", action="store_true", help="profile screening mode")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--out", type=Path, help="write the raw profile here")
    ap.add_argument("--stages", action="store_true", help="time the screening mode's stages instead of profiling")
    ap.add_argument("--repeat", type=int, default=31, help="with --stages: passes per stage (the median is kept)")
    args = ap.parse_args()
    require_shared()
    pack = LanguagePack.load()
    docs = [(REPO / "examples" / "spun-news.txt").read_text(encoding="utf-8")]
    docs += [excerpt(a["text"], args.words) for a in held_out_articles()[-args.docs :]]
    total = sum(len(d.encode()) for d in docs)
    if args.stages:
        result = stages(pack, docs, args.repeat)
        emit(
            {"docs": len(docs), "bytes": total, "repeat": args.repeat,
             "load_avg_1m": round(os.getloadavg()[0], 2), "stages": result},
            "stages (CPU ms, median): " + ", ".join(f"{k} {v['ms']}" for k, v in result.items()),
        )  # fmt: skip
        return
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
    emit(
        {"docs": len(docs), "bytes": total, "seconds": round(dt, 3), "mb_per_s_profiled": round(total / dt / 1e6, 4)},
        f"profile: {len(docs)} docs, {dt:.2f} s under cProfile ({'warm' if args.warm else 'cold'}"
        f"{', fast' if args.fast else ''})",
    )


if __name__ == "__main__":
    main()
