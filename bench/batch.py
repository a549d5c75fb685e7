"""Batch throughput: documents/s and MB/s with 1 and 2 workers, full and --fast, local and Ray, peak memory.

    python bench/batch.py [--docs 200] [--fast-docs 2000] [--engines local,ray]

Input: held-out Wikipedia excerpts and spun copies of them (our evaluation spinner), as JSONL.
Each configuration is a real `unspin batch` process, timed from start to committed output, so
pack loading, worker start-up and the per-process lookup memo warming up are all included.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, require_shared
from engine import excerpt
from spinner import spin, table_for
from unspin.pack import LanguagePack
from unspin.pack.corpus import held_out_articles


def corpus(n: int, pack) -> list[dict]:
    arts = [a for a in held_out_articles() if len(a["text"].split()) >= 150]
    rng = random.Random(3)
    table = table_for("common", pack)
    out = []
    for i in range(n):
        text = excerpt(arts[i % len(arts)]["text"], 350)
        if i % 2:
            text = spin(text, table, 0.3, rng, pack).text
        out.append({"id": f"d{i}", "text": text})
    return out


def timed_run(src: Path, out: Path, workers: int, fast: bool, engine: str = "local") -> float:
    args = [sys.executable, "-m", "unspin", "batch", str(src), str(out), "--workers", str(workers), "--engine", engine]
    if fast:
        args.append("--fast")
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--fast-docs", type=int, default=2000)
    ap.add_argument("--engines", default="local,ray", help="Comma-separated: local, ray.")
    args = ap.parse_args()
    require_shared()
    pack = LanguagePack.load()
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, n in (("full", args.docs), ("fast", args.fast_docs)):
            rows = corpus(n, pack)
            src = Path(tmp) / f"{mode}.jsonl"
            src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            mb = sum(len(r["text"].encode()) for r in rows) / 1e6
            for engine in args.engines.split(","):
                key = mode if engine == "local" else f"{mode}_{engine}"
                result[key] = {"docs": n, "mb": round(mb, 3), "engine": engine}
                outputs = []
                for workers in (1, 2):
                    out = Path(tmp) / f"{key}-{workers}.jsonl"
                    dt = timed_run(src, out, workers, mode == "fast", engine)
                    outputs.append(out.read_bytes())
                    result[key][f"workers_{workers}"] = {"seconds": round(dt, 2), "docs_per_s": round(n / dt, 2),
                                                         "mb_per_s": round(mb / dt, 4)}  # fmt: skip
                w1, w2 = result[key]["workers_1"]["docs_per_s"], result[key]["workers_2"]["docs_per_s"]
                result[key]["scaling_2_over_1"] = round(w2 / w1, 3)
                result[key]["same_output_1_and_2_workers"] = outputs[0] == outputs[1]
                if engine != "local":
                    result[key]["same_output_as_local"] = outputs[0] == (Path(tmp) / f"{mode}-1.jsonl").read_bytes()
    result["peak_rss_mb_any_process"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    emit(
        result,
        f"batch: full {result['full']['workers_1']['docs_per_s']} -> {result['full']['workers_2']['docs_per_s']} "
        f"docs/s (x{result['full']['scaling_2_over_1']}), fast {result['fast']['workers_1']['docs_per_s']} -> "
        f"{result['fast']['workers_2']['docs_per_s']} docs/s (x{result['fast']['scaling_2_over_1']}); "
        f"peak RSS {result['peak_rss_mb_any_process']} MB",
    )


if __name__ == "__main__":
    main()
