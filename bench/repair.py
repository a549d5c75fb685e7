"""Repair on real pages: artifacts fixed, edits on clean pages (must be 0), and speed against ftfy.

    python bench/repair.py

Artifacts are counted with patterns written here, independently of the repair rules, so the figure
is not the repair module grading itself.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import ftfy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV, SHARED, emit, load_jsonl, require_shared
from unspin.repair import repair_text

ARTIFACTS = {
    "entity": re.compile(r"&\s?#\s?\d+;?|&(?:amp|quot|nbsp|rsquo|lsquo|ldquo|rdquo|apos|#x[0-9a-f]+);|,quot\b|\bquot;"),
    "template": re.compile(r"%MINIFYHTML\w*%|%%\w+%%|\{\{.*?\}\}|\[\[.*?\]\]"),
    "mojibake": re.compile(r"â€|Ã[\x80-\xbf©¨]"),
    "invisible": re.compile("[\u200b\u00ad\u2060]"),
}


def count_artifacts(text: str) -> dict[str, int]:
    return {kind: len(rx.findall(text)) for kind, rx in ARTIFACTS.items()}


def throughput(fn, text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - t0)
    return len(text.encode("utf-8")) / best / 1e6


def main() -> None:
    require_shared()
    spun = [r["spun_text"] for r in load_jsonl(DEV / "real-pairs.jsonl")]
    spun += [r["spun_text"] for r in load_jsonl(DEV / "seed-pair.jsonl")]
    spun.append((SHARED / "examples" / "seed-spun-news.txt").read_text(encoding="utf-8"))
    clean = [r["text"] for r in load_jsonl(DEV / "clean-news.jsonl")]
    clean += [r["source_text"] for r in load_jsonl(DEV / "real-pairs.jsonl")]

    before = {k: 0 for k in ARTIFACTS}
    after = {k: 0 for k in ARTIFACTS}
    edits_by_kind: dict[str, int] = {}
    for text in spun:
        repaired, repairs = repair_text(text)
        for k, n in count_artifacts(text).items():
            before[k] += n
        for k, n in count_artifacts(repaired).items():
            after[k] += n
        for r in repairs:
            edits_by_kind[r.kind] = edits_by_kind.get(r.kind, 0) + 1
    clean_edits = sum(len(repair_text(t)[1]) for t in clean)
    clean_changed = sum(repair_text(t)[0] != t for t in clean)

    corpus = "\n\n".join(spun + clean)
    big = corpus * max(1, int(4e6 // len(corpus)))  # ~4 MB of real page text, for a stable timing
    repair_mbs = throughput(repair_text, big)
    ftfy_mbs = throughput(ftfy.fix_text, big)

    total_before, total_after = sum(before.values()), sum(after.values())
    result = {
        "spun_pages": len(spun),
        "clean_pages": len(clean),
        "artifacts_before": before,
        "artifacts_after": after,
        "artifacts_fixed": total_before - total_after,
        "artifacts_fixed_share": round((total_before - total_after) / total_before, 4) if total_before else None,
        "edits_on_spun_pages": edits_by_kind,
        "edits_on_clean_pages": clean_edits,
        "clean_pages_changed": clean_changed,
        "throughput_mb_s": {"repair": round(repair_mbs, 2), "ftfy_fix_text": round(ftfy_mbs, 2)},
        "repair_slowdown_vs_ftfy": round(ftfy_mbs / repair_mbs, 3),
        "timing_input_mb": round(len(big.encode()) / 1e6, 2),
    }
    emit(
        result,
        f"repair: fixed {total_before - total_after}/{total_before} artifacts, {clean_edits} edits on "
        f"{len(clean)} clean pages, {repair_mbs:.1f} MB/s vs ftfy {ftfy_mbs:.1f} MB/s "
        f"({result['repair_slowdown_vs_ftfy']}x)",
    )


if __name__ == "__main__":
    main()
